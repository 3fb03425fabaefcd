/**
 * The server's settings: every limit is a named default with its flag and doc line here, and the
 * command line is parsed once into a typed {@link ServerConfig}. Nothing else reads `Deno.args`.
 *
 * @module
 */

import {
  type FlagSpec,
  type FlagValues,
  formatHelp,
  parseFlags,
  UsageError,
} from "../shared/cli.ts";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../shared/address.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../shared/log.ts";
import {
  blame,
  CONFIG_ENV,
  envName,
  formatSettings,
  mergeSources,
  type SettingSources,
  settingSpecs,
} from "./config_sources.ts";
import type { ConnectionLimits, FloodLimits } from "./rate_limit.ts";
import { ROOM_LIMITS, type RoomLimits } from "../core/rooms.ts";
import { parseDuration, parseIntFlag, parseSize } from "../shared/units.ts";
import { HTTP_FLAGS, type HttpSettings, parseHttpFlags } from "./http/http_config.ts";
import { IRC_FLAGS, type IrcSettings, parseIrcFlags } from "./irc/irc_config.ts";
import {
  parseRetentionFlags,
  RETENTION_DEFAULTS,
  RETENTION_FLAGS,
  type RetentionSettings,
} from "./retention.ts";
import { parseWebhookFlags, WEBHOOK_FLAGS, type WebhookSettings } from "./webhooks.ts";
import {
  MATTERBRIDGE_FLAGS,
  type MatterbridgeSettings,
  parseMatterbridgeFlags,
} from "./matterbridge_bridge.ts";

/** Everything the server is configured with. */
export interface ServerConfig {
  /** Interface to listen on. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Close a connection after this long without input; 0 = never. */
  idleTimeoutMs: number;
  /** Longest line accepted, in bytes without the terminator. */
  maxLineBytes: number;
  /** Most bytes queued for one connection before it is dropped as a slow reader. */
  maxQueueBytes: number;
  /** How long shutdown waits for queued messages to be written. */
  shutdownGraceMs: number;
  logLevel: LogLevel;
  /** `text` lines, or `json` objects for log shippers. */
  logFormat: LogFormat;
  /** SQLite file for history, accounts and the offline inbox; `:memory:` keeps nothing. */
  dbPath: string;
  /** Public messages sent to a joining JSON client. */
  historyOnJoin: number;
  /** How long history is kept (lib/server/retention.ts). */
  retention: RetentionSettings;
  /** Where matching public messages are POSTed (lib/server/webhooks.ts); none by default. */
  webhook?: WebhookSettings;
  /** The Matterbridge api gateway the lobby is bridged to (matterbridge_bridge.ts); none by default. */
  matterbridge?: MatterbridgeSettings;
  /** Registered names that may kick and ban once logged in. */
  admins: string[];
  /** Whether to serve plain TCP on `port` (false with `--no-plain`). */
  plain: boolean;
  /** TLS, when `--tls-cert` and `--tls-key` are given. */
  tls?: TlsSettings;
  /** ClientConnection limits checked at accept. */
  conns: ConnectionLimits;
  /** Per-connection flood control. */
  flood: FloodLimits;
  /** Threads serving sockets around one chat core; 1 = all in the main thread. */
  workers: number;
  /** Room limits (lib/core/rooms.ts). */
  rooms: RoomLimits;
  /** `redis://` or `rediss://` URL: run as a node of a cluster (lib/cluster/); none: alone. */
  redisUrl?: string;
  /** The cluster's name: the prefix of its Redis keys, so clusters can share one Redis. */
  cluster: string;
  /** The page, `/ws`, `/healthz` and `/metrics`; undefined with `--no-http`. */
  http?: HttpSettings;
  /** The IRC listener (docs/IRC.md); undefined with `--no-irc`. */
  irc?: IrcSettings;
}

/** Where the TLS listener gets its certificate chain and key, and its port. */
export interface TlsSettings {
  certFile: string;
  keyFile: string;
  /** TCP port for TLS; 0 picks a free one. */
  port: number;
}

/** The defaults, one place. */
export const SERVER_DEFAULTS: ServerConfig = {
  host: "0.0.0.0",
  port: DEFAULT_PORT,
  idleTimeoutMs: 60_000,
  maxLineBytes: 8 * 1024,
  maxQueueBytes: 1024 * 1024,
  shutdownGraceMs: 2_000,
  logLevel: "info",
  logFormat: "text",
  dbPath: "fastim.db",
  historyOnJoin: 50,
  retention: { ...RETENTION_DEFAULTS },
  admins: [],
  plain: true,
  workers: 1,
  cluster: "fastim",
  rooms: { ...ROOM_LIMITS },
  conns: { maxConns: 10_000, maxConnsPerIp: 20, connsPerMinute: 60 },
  flood: {
    msgRate: 10,
    msgBurst: 20,
    byteRate: 16 * 1024,
    byteBurst: 64 * 1024,
    renamesPerMinute: 20,
    whoPerMinute: 30,
    strikes: 20,
    backlog: 200,
    lineTimeoutMs: 10_000,
  },
};

/** The server's flags, with their help. */
export const SERVER_FLAGS: FlagSpec[] = [
  {
    name: "host",
    type: "string",
    aliases: ["ip"],
    value: "ADDR",
    default: "0.0.0.0",
    doc: "interface to listen on",
  },
  {
    name: "port",
    type: "string",
    value: "PORT",
    default: String(DEFAULT_PORT),
    doc: "TCP port (0 picks a free one)",
  },
  {
    name: "idle-timeout",
    type: "string",
    value: "DUR",
    default: "60s",
    doc: "close connections idle this long; 0 = never",
  },
  {
    name: "max-line",
    type: "string",
    value: "SIZE",
    default: "8KiB",
    doc: "longest line a client may send",
  },
  {
    name: "max-queue",
    type: "string",
    value: "SIZE",
    default: "1MiB",
    doc: "outbound queue per connection; a reader that falls this far behind is dropped",
  },
  {
    name: "tls-cert",
    type: "string",
    value: "FILE",
    doc: "serve TLS with this PEM certificate chain (needs --tls-key)",
  },
  {
    name: "tls-key",
    type: "string",
    value: "FILE",
    doc: "the PEM private key of --tls-cert",
  },
  {
    name: "tls-port",
    type: "string",
    value: "PORT",
    default: String(DEFAULT_TLS_PORT),
    doc: "TCP port for TLS (0 picks a free one)",
  },
  {
    name: "no-plain",
    type: "boolean",
    doc: "serve TLS only, no plain TCP on --port",
  },
  {
    name: "max-conns",
    type: "string",
    value: "N",
    default: "10000",
    doc: "open connections in all; more are refused with a line saying so (0 = no limit)",
  },
  {
    name: "max-conns-per-ip",
    type: "string",
    value: "N",
    default: "20",
    doc: "open connections from one address (IPv6: one /64) (0 = no limit)",
  },
  {
    name: "conn-rate",
    type: "string",
    value: "N",
    default: "60",
    doc: "new connections per minute from one address (0 = no limit)",
  },
  {
    name: "msg-rate",
    type: "string",
    value: "N",
    default: "10",
    doc: "requests (lines) per second per connection; a text connection's excess waits " +
      "(see --flood-backlog), a JSON client's is refused with rate_limited (0 = no limit)",
  },
  {
    name: "msg-burst",
    type: "string",
    value: "N",
    default: "20",
    doc: "requests a connection may send at once above --msg-rate",
  },
  {
    name: "byte-rate",
    type: "string",
    value: "SIZE",
    default: "16KiB",
    doc: "bytes per second per connection (0 = no limit)",
  },
  {
    name: "byte-burst",
    type: "string",
    value: "SIZE",
    default: "64KiB",
    doc: "bytes a connection may send at once above --byte-rate (at least --max-line)",
  },
  {
    name: "rename-rate",
    type: "string",
    value: "N",
    default: "20",
    doc: "renames per minute per connection, all at once at most (0 = no limit)",
  },
  {
    name: "who-rate",
    type: "string",
    value: "N",
    default: "30",
    doc: "who requests per minute per connection, all at once at most (0 = no limit)",
  },
  {
    name: "flood-strikes",
    type: "string",
    value: "N",
    default: "20",
    doc: "requests refused for a rate limit before the connection is closed; " +
      "one is forgiven per second (0 = never close)",
  },
  {
    name: "flood-backlog",
    type: "string",
    value: "N",
    default: "200",
    doc: "lines a text connection may have waiting when it sends faster than --msg-rate: the " +
      "excess is delayed, not refused, and more than N waiting closes it (0 = refuse instead)",
  },

  {
    name: "line-timeout",
    type: "string",
    value: "DUR",
    default: "10s",
    doc: "close a connection whose line stays incomplete this long, or that sent bytes " +
      "but no line this long after connecting; 0 = never",
  },
  {
    name: "max-rooms-per-user",
    type: "string",
    value: "N",
    default: String(ROOM_LIMITS.roomsPerUser),
    doc: "rooms one user may be in, the lobby not counted (0 = no limit)",
  },
  {
    name: "max-room-members",
    type: "string",
    value: "N",
    default: String(ROOM_LIMITS.membersPerRoom),
    doc: "members of one room, offline registered members included (0 = no limit)",
  },
  {
    name: "max-rooms",
    type: "string",
    value: "N",
    default: String(ROOM_LIMITS.maxRooms),
    doc: "rooms on the server (0 = no limit)",
  },
  {
    name: "room-create-rate",
    type: "string",
    value: "N",
    default: String(ROOM_LIMITS.createsPerMinute),
    doc: "rooms one connection may create per minute (0 = no limit)",
  },
  {
    name: "db",
    type: "string",
    value: "PATH",
    default: "fastim.db",
    doc: "SQLite file for history, accounts and offline messages; :memory: keeps nothing",
  },
  {
    name: "history",
    type: "string",
    value: "N",
    default: "50",
    doc: "public messages a JSON client is sent when it joins (0 = none)",
  },
  {
    name: "admin",
    type: "string",
    value: "NAMES",
    doc: "comma-separated registered names that may kick|NAME and ban|NAME-or-IP once logged in",
  },
  {
    name: "workers",
    type: "string",
    value: "N",
    default: "1",
    doc: "threads that accept and write sockets around one chat core in the main thread " +
      "(SO_REUSEPORT; see docs/SCALING.md); 1 = everything in one thread",
  },
  {
    name: "redis",
    type: "string",
    value: "URL",
    doc: "join a cluster of servers through Redis (redis://[:PASSWORD@]HOST:PORT, rediss:// " +
      "for TLS); history, accounts and bans then live in Redis, not --db (docs/SCALING.md)",
  },
  {
    name: "cluster",
    type: "string",
    value: "NAME",
    default: "fastim",
    doc: "the cluster's name with --redis (the prefix of its Redis keys)",
  },
  ...HTTP_FLAGS,
  ...IRC_FLAGS,
  ...RETENTION_FLAGS,
  ...WEBHOOK_FLAGS,
  ...MATTERBRIDGE_FLAGS,
  {
    name: "log-level",
    type: "string",
    value: "LEVEL",
    default: "info",
    doc: `one of ${LOG_LEVELS.join(", ")}`,
  },
  {
    name: "log-format",
    type: "string",
    value: "FORMAT",
    default: "text",
    doc: "text (TIME LEVEL event key=value) or json (one object per line, for log shippers)",
  },
  {
    name: "config",
    type: "string",
    value: "FILE",
    doc: "read settings from this JSONC file: any flag above by its long name, " +
      `e.g. {"port": 8888, "tls-cert": "..."} (or set ${CONFIG_ENV})`,
  },
  {
    name: "print-config",
    type: "boolean",
    doc: "print the settings in effect, and where each came from, as JSONC; then exit",
  },
  {
    name: "backup",
    type: "string",
    value: "FILE",
    doc: "copy the --db database into the new FILE and exit; safe while a server uses it " +
      "(see docs/DEPLOY.md)",
  },
  {
    name: "add-bot",
    type: "string",
    value: "NAME",
    doc: "add bot account NAME to the --db database, print its token once, and exit " +
      "(docs/BOTS.md)",
  },
  {
    name: "remove-bot",
    type: "string",
    value: "NAME",
    doc: "remove bot account NAME, revoking its token, and exit",
  },
  { name: "help", type: "boolean", short: "h", doc: "show this help" },
  { name: "version", type: "boolean", short: "V", doc: "show the version" },
];

/** The lines above the flags in `server --help`. */
const SERVER_USAGE = ["Usage: server [flags]", "", "Runs a FastIM chat server."];
/** The lines below the flags in `server --help`. */
const SERVER_HELP_FOOTER = [
  "Every flag can also be set in the --config file by its long name, or in the environment as",
  "FASTIM_ and the name in capitals (FASTIM_PORT=9000, FASTIM_TLS_CERT=...). Precedence, lowest",
  "first: defaults, the config file, FASTIM_* variables, the command line.",
  "Go-style single-dash flags work too (-ip 0.0.0.0 -port 8888). Exit status: 0 stopped by",
  "SIGINT/SIGTERM, 1 could not start, 2 bad flags or settings.",
];

/** What the command line asks for. */
export type ServerCommand =
  | { kind: "help"; text: string }
  | { kind: "version" }
  /** `--backup FILE`: copy the database at `dbPath` into `target`. */
  | { kind: "backup"; dbPath: string; target: string }
  /** `--add-bot NAME` / `--remove-bot NAME`: bot accounts in the database at `dbPath`. */
  | { kind: "add-bot"; dbPath: string; name: string }
  | { kind: "remove-bot"; dbPath: string; name: string }
  /** `--print-config`: the settings in effect, as JSONC. */
  | { kind: "print-config"; text: string }
  | { kind: "serve"; config: ServerConfig };

/** No config file and no environment: what the tests of flags alone use. */
const NO_SOURCES: SettingSources = {
  env: {},
  readFile: () => {
    throw new Deno.errors.NotFound("no files");
  },
};

/**
 * Parses the server's command line, with the `--config` file and the `FASTIM_*` variables of
 * `sources` beneath it (lib/server/config_sources.ts); throws {@link UsageError} with one line on
 * a bad flag or setting, naming the file and key or the variable it came from.
 *
 * @example
 * ```ts
 * import { parseServerArgs } from "./config.ts";
 *
 * parseServerArgs(["-port", "9000"]); // { kind: "serve", config: { port: 9000, ... } }
 * ```
 */
export function parseServerArgs(
  args: string[],
  sources: SettingSources = NO_SOURCES,
): ServerCommand {
  const cli = parseFlags(args, SERVER_FLAGS);
  if (cli.help) {
    return { kind: "help", text: formatHelp(SERVER_USAGE, SERVER_FLAGS, SERVER_HELP_FOOTER) };
  }
  if (cli.version) return { kind: "version" };
  const sourced = mergeSources(cli, SERVER_FLAGS, sources);
  const v = sourced.values;
  if (typeof cli.backup === "string") {
    if (cli.backup === "") throw new UsageError("--backup needs a file to write the copy to");
    const dbPath = typeof v.db === "string" && v.db !== "" ? v.db : SERVER_DEFAULTS.dbPath;
    return { kind: "backup", dbPath, target: cli.backup };
  }
  for (const kind of ["add-bot", "remove-bot"] as const) {
    const name = cli[kind];
    if (typeof name !== "string") continue;
    if (name.trim() === "") throw new UsageError(`--${kind} needs a bot name`);
    const dbPath = typeof v.db === "string" && v.db !== "" ? v.db : SERVER_DEFAULTS.dbPath;
    return { kind, dbPath, name };
  }
  let config: ServerConfig;
  try {
    config = buildConfig(v);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new UsageError(blame(e.message, sourced.origins));
  }
  if (cli["print-config"]) {
    return { kind: "print-config", text: formatSettings(SERVER_FLAGS, sourced) };
  }
  return { kind: "serve", config };
}

/**
 * The `FASTIM_*` variables the server reads, from the process environment (the compiled server
 * may read only those: `--allow-env=FASTIM_*`).
 */
export function readServerEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of [CONFIG_ENV, ...settingSpecs(SERVER_FLAGS).map((s) => envName(s.name))]) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      // Run without --allow-env for it (an old `deno run` line): as if unset.
    }
  }
  return env;
}

/** Validates merged flag values into a {@link ServerConfig}; throws UsageError with one line. */
function buildConfig(v: FlagValues): ServerConfig {
  const config: ServerConfig = {
    ...SERVER_DEFAULTS,
    conns: { ...SERVER_DEFAULTS.conns },
    flood: { ...SERVER_DEFAULTS.flood },
    rooms: { ...SERVER_DEFAULTS.rooms },
  };
  try {
    if (typeof v.host === "string") {
      if (v.host.trim() === "") throw new RangeError("--host needs an address, e.g. 0.0.0.0");
      config.host = v.host;
    }
    if (typeof v.port === "string") config.port = parseIntFlag(v.port, "port", 0, 65535);
    if (typeof v["idle-timeout"] === "string") {
      config.idleTimeoutMs = parseDuration(v["idle-timeout"], "idle-timeout");
    }
    if (typeof v["max-line"] === "string") {
      config.maxLineBytes = parseSize(v["max-line"], "max-line", 64);
    }
    if (typeof v["max-queue"] === "string") {
      config.maxQueueBytes = parseSize(v["max-queue"], "max-queue", 1024);
    }
    parseLimitFlags(v, config);
    if (typeof v.db === "string") {
      if (v.db === "") throw new RangeError("--db needs a file path, or :memory:");
      config.dbPath = v.db;
    }
    if (typeof v.admin === "string") {
      config.admins = v.admin.split(",").map((n) => n.trim()).filter((n) => n !== "");
    }
    if (typeof v.workers === "string") config.workers = parseIntFlag(v.workers, "workers", 1, 64);
    if (typeof v.redis === "string") config.redisUrl = parseRedisUrl(v.redis);
    if (typeof v.cluster === "string") {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v.cluster)) {
        throw new RangeError(
          `--cluster expects 1-64 letters, digits, _ . or -; got "${v.cluster.slice(0, 80)}"`,
        );
      }
      config.cluster = v.cluster;
    }
    if (config.redisUrl !== undefined && config.workers > 1) {
      throw new RangeError(
        "--redis and --workers cannot be combined: run one node per core instead",
      );
    }
    if (typeof v.history === "string") {
      config.historyOnJoin = parseIntFlag(v.history, "history", 0, 500);
    }
    if (typeof v["log-level"] === "string") {
      const level = v["log-level"] as LogLevel;
      if (!LOG_LEVELS.includes(level)) {
        throw new RangeError(`--log-level expects one of ${LOG_LEVELS.join(", ")}; got "${level}"`);
      }
      config.logLevel = level;
    }
    if (typeof v["log-format"] === "string") {
      const format = v["log-format"] as LogFormat;
      if (!LOG_FORMATS.includes(format)) {
        throw new RangeError(`--log-format expects text or json; got "${format}"`);
      }
      config.logFormat = format;
    }
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  checkLineFits(v, config);
  parseTlsFlags(v, config);
  try {
    config.http = parseHttpFlags(v, config.tls !== undefined, config.plain);
    config.irc = parseIrcFlags(v, config.tls !== undefined, config.plain);
    config.retention = parseRetentionFlags(v);
    // Set only when given, so a config without webhooks has no `webhook` key at all.
    const webhook = parseWebhookFlags(v);
    if (webhook !== undefined) config.webhook = webhook;
    if (config.redisUrl !== undefined && config.webhook !== undefined) {
      throw new RangeError(
        "--webhook does not apply to a cluster yet: each node would send every message",
      );
    }
    const matterbridge = parseMatterbridgeFlags(v);
    if (matterbridge !== undefined) config.matterbridge = matterbridge;
    if (config.redisUrl !== undefined && config.matterbridge !== undefined) {
      throw new RangeError(
        "--matterbridge does not apply to a cluster yet: each node would bridge every message",
      );
    }
    if (
      config.redisUrl !== undefined &&
      (config.retention.days > 0 || config.retention.messages > 0)
    ) {
      throw new RangeError(
        "--retain-days and --retain-messages do not apply to a cluster yet: its history is " +
          "Redis's log (docs/SCALING.md)",
      );
    }
    checkPortsDiffer(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return config;
}

/**
 * A line must fit in the outbound queue and in the byte burst. When it does not, the error names
 * the flag the user set (a `--max-line 10GiB` is the mistake, not the default `--max-queue`).
 */
function checkLineFits(v: FlagValues, config: ServerConfig): void {
  const pairs = [
    {
      other: "max-queue",
      fits: config.maxQueueBytes >= config.maxLineBytes + 64,
      rule: "smaller than",
    },
    {
      other: "byte-burst",
      fits: config.flood.byteRate === 0 || config.flood.byteBurst >= config.maxLineBytes,
      rule: "at most",
    },
  ];
  const given = (flag: string) => typeof v[flag] === "string" ? `--${flag} ${v[flag]}` : undefined;
  const byDefault = (flag: string) =>
    `--${flag} (default ${SERVER_FLAGS.find((f) => f.name === flag)?.default})`;
  for (const { other, fits, rule } of pairs) {
    if (fits) continue;
    const line = given("max-line");
    const limit = given(other);
    if (line && limit) throw new UsageError(`${line} must be ${rule} ${limit}`);
    if (line) {
      throw new UsageError(
        `${line} is too large: it must be ${rule} ${byDefault(other)}; raise --${other} too`,
      );
    }
    throw new UsageError(
      `${limit} is too small: ${
        byDefault("max-line")
      } must be ${rule} it, or no line could be sent`,
    );
  }
}

/** The connection and flood limits; throws RangeError with one line. */
function parseLimitFlags(v: FlagValues, config: ServerConfig): void {
  const int = (flag: string, min: number, max: number, set: (n: number) => void) => {
    const value = v[flag];
    if (typeof value === "string") set(parseIntFlag(value, flag, min, max));
  };
  const size = (flag: string, set: (n: number) => void) => {
    const value = v[flag];
    if (typeof value === "string") set(value === "0" ? 0 : parseSize(value, flag));
  };
  const { conns, flood, rooms } = config;
  int("max-conns", 0, 1_000_000, (n) => conns.maxConns = n);
  int("max-conns-per-ip", 0, 1_000_000, (n) => conns.maxConnsPerIp = n);
  int("conn-rate", 0, 1_000_000, (n) => conns.connsPerMinute = n);
  int("msg-rate", 0, 1_000_000, (n) => flood.msgRate = n);
  int("msg-burst", 1, 1_000_000, (n) => flood.msgBurst = n);
  size("byte-rate", (n) => flood.byteRate = n);
  size("byte-burst", (n) => flood.byteBurst = n);
  int("rename-rate", 0, 1_000_000, (n) => flood.renamesPerMinute = n);
  int("who-rate", 0, 1_000_000, (n) => flood.whoPerMinute = n);
  int("flood-strikes", 0, 1_000_000, (n) => flood.strikes = n);
  int("flood-backlog", 0, 1_000_000, (n) => flood.backlog = n);
  int("max-rooms-per-user", 0, 1_000_000, (n) => rooms.roomsPerUser = n);
  int("max-room-members", 0, 1_000_000, (n) => rooms.membersPerRoom = n);
  int("max-rooms", 0, 1_000_000, (n) => rooms.maxRooms = n);
  int("room-create-rate", 0, 1_000_000, (n) => rooms.createsPerMinute = n);
  if (typeof v["line-timeout"] === "string") {
    flood.lineTimeoutMs = parseDuration(v["line-timeout"], "line-timeout");
  }
  if (flood.byteBurst === 0) throw new RangeError("--byte-burst must be at least 1");
}

/** `--tls-cert`, `--tls-key`, `--tls-port`, `--no-plain`; throws UsageError with one line. */
function parseTlsFlags(v: FlagValues, config: ServerConfig): void {
  const cert = v["tls-cert"];
  const key = v["tls-key"];
  if (typeof cert === "string" || typeof key === "string") {
    if (typeof cert !== "string" || cert === "") {
      throw new UsageError("--tls-key needs --tls-cert FILE too");
    }
    if (typeof key !== "string" || key === "") {
      throw new UsageError("--tls-cert needs --tls-key FILE too");
    }
    let port = DEFAULT_TLS_PORT;
    if (typeof v["tls-port"] === "string") {
      try {
        port = parseIntFlag(v["tls-port"], "tls-port", 0, 65535);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    config.tls = { certFile: cert, keyFile: key, port };
  } else if (v["tls-port"] !== undefined) {
    throw new UsageError("--tls-port needs --tls-cert FILE and --tls-key FILE");
  }
  if (v["no-plain"]) {
    if (!config.tls) {
      throw new UsageError("--no-plain needs --tls-cert and --tls-key, or nothing would listen");
    }
    config.plain = false;
  }
  if (config.plain && config.tls && config.tls.port !== 0 && config.tls.port === config.port) {
    throw new UsageError("--tls-port must differ from --port (or use --no-plain)");
  }
}

/** The chat and HTTP ports must not collide (0 picks a free one and never does). */
function checkPortsDiffer(config: ServerConfig): void {
  const ports: [string, number | undefined][] = [
    ["--port", config.plain ? config.port : undefined],
    ["--tls-port", config.tls?.port],
    ["--http-port", config.http?.port],
    ["--https-port", config.http?.httpsPort],
    ["--irc-port", config.irc?.port],
    ["--ircs-port", config.irc?.tlsPort],
  ];
  const used = ports.filter(([, p]) => p !== undefined && p !== 0);
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) {
      if (used[i][1] === used[j][1]) {
        throw new RangeError(
          `${used[j][0]} ${used[j][1]} is ${used[i][0]} too: give each a port of its own`,
        );
      }
    }
  }
}

/** Checks a `--redis` URL: `redis://` or `rediss://` with a host. */
function parseRedisUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch { /* refused below */ }
  if (!url || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    throw new RangeError(
      "--redis expects redis://[:PASSWORD@]HOST[:PORT] or rediss://...; got " +
        JSON.stringify(raw.replace(/:[^:@/]*@/, ":***@").slice(0, 80)),
    );
  }
  return raw;
}
