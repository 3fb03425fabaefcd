/**
 * Command-line flags and environment of the FastIM client, parsed once into a typed
 * {@linkcode ClientConfig}. Nothing else in the client reads `Deno.args` or the environment.
 *
 * Flags are parsed by `lib/shared/cli.ts`, as the server's are: Go-style single-dash long flags
 * (`-ip 127.0.0.1 -port 8888`, as the Go original takes them) work beside `--port 8888`, and a
 * string flag takes the next word as its value even if it starts with a dash (`--send -1`).
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 *
 * const config = parseConfig(["-ip", "10.0.0.2", "-port", "9000"], {});
 * // config.host === "10.0.0.2", config.port === 9000
 * ```
 * @module
 */

import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../shared/address.ts";
import {
  type FlagSpec,
  type FlagValues,
  formatHelp,
  parseFlags,
  UsageError,
} from "../shared/cli.ts";
import denoJson from "../../deno.json" with { type: "json" };
import type { ClientFileSettings } from "./config_file.ts";

/** The client's version, from deno.json. */
export const CLIENT_VERSION: string = denoJson.version;

/** Default server address, as in the Go original. */
export const DEFAULT_HOST = "127.0.0.1";
/** Longest line accepted from the server before the connection is dropped (1 MiB). */
export const MAX_SERVER_LINE_BYTES = 1024 * 1024;
/** How long to wait for the server's `welcome` before giving up. */
export const WELCOME_TIMEOUT_MS = 5_000;
/** How long a request waits for its reply (and at most for a reconnect) before it fails. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** How many messages `/history` fetches when not told. */
export const HISTORY_PAGE = 20;
/** First reconnect delay; it doubles after each failed attempt ... */
export const RECONNECT_MIN_MS = 1_000;
/** ... up to this. */
export const RECONNECT_MAX_MS = 30_000;

/** What the client does once connected. */
export type ClientMode =
  /** `--send TEXT` (with optional `--to NAME`): one message, then exit. */
  | "send"
  /** The numbered menu of the Go original (default when stdin is a terminal, or `--menu`). */
  | "menu"
  /** Each stdin line is sent; events are printed one per line (stdin not a terminal). */
  | "lines";

/** Everything the client needs to know from its flags and environment. */
export interface ClientConfig {
  /** The first server of `servers`. */
  host: string;
  /** `--port`, or 8888 (8889 with TLS). */
  port: number;
  /**
   * Every server `--host a,b:9000,c` names, in order (a port of its own, or `--port`): the
   * client connects to the first that answers and, when a connection drops, tries the next.
   */
  servers: { host: string; port: number }[];
  /** `--tls` (or `--ca`): connect with TLS, verifying the server's certificate. */
  tls: boolean;
  /** `--ca FILE`: a PEM file of a private CA to trust besides the public roots. */
  caFile?: string;
  /** `--name`: rename right after connecting. */
  name?: string;
  /** `FASTIM_PASSWORD` (only with `--name`): log in as the registered `name` instead. */
  password?: string;
  /** `--send`: the text of the one message to send. */
  send?: string;
  /** `--to`: the receiver of `--send` (a private message). */
  to?: string;
  /** `--json`: print incoming frames as JSON, one per line. */
  json: boolean;
  /** Colour output: stdout is a terminal, no `--no-color`, no `NO_COLOR`, no `--json`. */
  color: boolean;
  /** Ring the terminal bell when a live message names you: stdout is a terminal, no `--no-bell`. */
  bell: boolean;
  /**
   * Colour on stderr (line mode's notes and errors): decided on its own, since stdout and stderr
   * may be redirected separately.
   */
  stderrColor: boolean;
  /** Raw-mode line editing with cursor movement: stdin and stdout are terminals, `TERM` is not dumb. */
  lineEditor: boolean;
  /** stdin is a terminal, so passwords can be asked for without echo. */
  canPrompt: boolean;
  /** Reconnect with backoff when the connection drops (off for `--send`, `--no-reconnect`). */
  reconnect: boolean;
  mode: ClientMode;
  help: boolean;
  version: boolean;
}

/** The environment variables the client reads (the compile task allows exactly these). */
export interface ClientEnv {
  NO_COLOR?: string;
  TERM?: string;
  /** The password of the account `--name` logs in as (never a flag: flags show up in `ps`). */
  FASTIM_PASSWORD?: string;
  /** Where the config file is (lib/client/config_file.ts, XDG rules). */
  HOME?: string;
  XDG_CONFIG_HOME?: string;
}

/** Which standard streams are terminals. */
export interface TtyState {
  stdin: boolean;
  stdout: boolean;
  /** Whether stderr is a terminal (unknown: not). */
  stderr?: boolean;
}

/** A bad flag or flag value; its message is one line meant for the user. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * The client's flags, parsed by the shared {@linkcode parseFlags}: Go-style `-ip`, `-port=1`,
 * `-no-color` are read as their `--` forms. Every boolean may be turned off with `--no-NAME`.
 */
const FLAGS: FlagSpec[] = [
  {
    name: "host",
    type: "string",
    aliases: ["ip"],
    value: "HOST",
    doc: "server address (Go-style: -ip); several, for a cluster: a,b:9000,c (tried in turn)",
  },
  {
    name: "port",
    type: "string",
    value: "PORT",
    doc: `server port (default ${DEFAULT_PORT}; Go-style: -port)`,
  },
  {
    name: "tls",
    type: "boolean",
    negatable: true,
    doc: `connect with TLS (default port ${DEFAULT_TLS_PORT})`,
  },
  {
    name: "ca",
    type: "string",
    value: "FILE",
    doc: "trust the private CA in this PEM file (implies --tls)",
  },
  {
    name: "name",
    type: "string",
    value: "NAME",
    doc: "rename to NAME (or log in, if registered) right after connecting",
  },
  {
    name: "send",
    type: "string",
    value: "TEXT",
    doc: "send one public message and exit (status 0 = accepted)",
  },
  {
    name: "to",
    type: "string",
    value: "NAME",
    doc: "with --send: send a private message to NAME instead",
  },
  {
    name: "json",
    type: "boolean",
    negatable: true,
    doc: "print each incoming frame as one JSON object per line",
  },
  {
    name: "menu",
    type: "boolean",
    negatable: true,
    doc: "show the numbered menu even when stdin is not a terminal",
  },
  {
    name: "color",
    type: "boolean",
    negatable: true,
    default: "on",
    doc: "no colours (also NO_COLOR=1)",
  },
  {
    name: "bell",
    type: "boolean",
    negatable: true,
    default: "on",
    doc: "no terminal bell when a message names you",
  },
  {
    name: "reconnect",
    type: "boolean",
    negatable: true,
    default: "on",
    doc: "exit when the connection drops instead of reconnecting",
  },
  { name: "help", type: "boolean", short: "h", doc: "show this help" },
  { name: "version", type: "boolean", short: "V", doc: "show the version" },
];

/** The `--help` text, in the layout the server's uses too. */
export function usage(): string {
  return formatHelp(
    [
      `FastIM client ${CLIENT_VERSION}`,
      "",
      "Usage: client [-ip HOST] [-port PORT] [--tls [--ca FILE]] [--name NAME]",
      "       client --send TEXT [--to NAME]      send one message and exit",
      "       producer | client [--json]          send each stdin line, print events",
    ],
    FLAGS,
    [
      "In chat, type /help for the slash commands. Exit status: 0 ok, 1 refused or connection",
      "failed, 2 bad flags or config file. Environment: NO_COLOR (no colours), FASTIM_PASSWORD",
      "(with --name: log in as that registered name; without it the client asks when stdin is a",
      "terminal). Config file: $XDG_CONFIG_HOME/fastim/client.jsonc (~/.config/fastim/client.jsonc)",
      'may set host, port, name, tls, ca and color, e.g. {"host": "chat.example.com", "tls": true};',
      "flags override it.",
    ],
  );
}

/**
 * Parses the client's flags; throws {@linkcode ConfigError} with a one-line message on a bad flag.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 *
 * parseConfig(["--send", "hi", "--to", "bob"], {}, { stdin: false, stdout: false }).mode; // "send"
 * ```
 */
export function parseConfig(
  args: readonly string[],
  env: ClientEnv,
  tty: TtyState = { stdin: false, stdout: false },
  file?: ClientFileSettings,
): ClientConfig {
  let flags: FlagValues;
  try {
    flags = parseFlags([...args], FLAGS);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    // Worded as the server words it (see usageErrorLine): "client: unknown flag --x; try --help".
    throw new ConfigError(`${e.message}; try --help`);
  }
  const values = {
    host: flags.host as string | undefined,
    port: flags.port as string | undefined,
    tls: flags.tls as boolean | undefined,
    ca: flags.ca as string | undefined,
    name: flags.name as string | undefined,
    send: flags.send as string | undefined,
    to: flags.to as string | undefined,
    json: flags.json as boolean | undefined,
    menu: flags.menu as boolean | undefined,
    color: flags.color as boolean | undefined,
    bell: flags.bell as boolean | undefined,
    reconnect: flags.reconnect as boolean | undefined,
    help: flags.help as boolean | undefined,
    version: flags.version as boolean | undefined,
  };
  // The config file's settings (lib/client/config_file.ts), beneath the flags. Its values are
  // checked there; --no-tls also drops the file's CA, which would turn TLS back on.
  if (file) {
    values.host ??= file.host;
    values.port ??= file.port;
    values.name ??= file.name;
    if (values.tls === undefined) values.ca ??= file.ca;
    values.tls ??= file.tls;
    values.color ??= file.color;
  }

  const host = values.host ?? DEFAULT_HOST;
  if (host.trim() === "") throw new ConfigError("--host must not be empty");
  const tls = values.tls === true || values.ca !== undefined;
  const port = parsePort(values.port, tls ? DEFAULT_TLS_PORT : DEFAULT_PORT);
  for (const flag of ["name", "to", "ca"] as const) {
    if (values[flag] !== undefined && values[flag].trim() === "") {
      throw new ConfigError(`--${flag} must not be empty`);
    }
  }
  if (values.to !== undefined && values.send === undefined) {
    throw new ConfigError("--to needs --send TEXT (the message to send)");
  }
  if (values.send !== undefined && values.send.trim() === "") {
    throw new ConfigError("--send needs a non-empty TEXT");
  }
  if (values.menu && (values.send !== undefined || values.json)) {
    throw new ConfigError(`--menu cannot be combined with --${values.json ? "json" : "send"}`);
  }

  const json = values.json ?? false;
  const noColorEnv = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const dumb = env.TERM === "dumb";
  const mode: ClientMode = values.send !== undefined
    ? "send"
    : (values.menu ?? (tty.stdin && !json))
    ? "menu"
    : "lines";
  const servers = parseServers(host, port);
  return {
    host: servers[0].host,
    port: servers[0].port,
    servers,
    tls,
    caFile: values.ca,
    name: values.name,
    password: values.name !== undefined && env.FASTIM_PASSWORD ? env.FASTIM_PASSWORD : undefined,
    send: values.send,
    to: values.to,
    json,
    color: tty.stdout && !dumb && !json && mode !== "send" && !noColorEnv && values.color !== false,
    bell: tty.stdout && !json && mode !== "send" && values.bell !== false,
    stderrColor: (tty.stderr ?? false) && !dumb && !noColorEnv && values.color !== false,
    lineEditor: tty.stdin && tty.stdout && !dumb && !json && mode === "menu",
    canPrompt: tty.stdin,
    reconnect: mode !== "send" && values.reconnect !== false,
    mode,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

function parsePort(raw: string | undefined, fallback: number, what = "--port"): number {
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new ConfigError(`${what} must be a number from 1 to 65535, not "${raw}"`);
  }
  return port;
}

/** Reads the variables of {@linkcode ClientEnv}; without env permission it reads nothing. */
export function readEnv(): ClientEnv {
  const get = (key: string) => {
    try {
      return Deno.env.get(key);
    } catch {
      return undefined; // no --allow-env for it: behave as if unset
    }
  };
  return {
    NO_COLOR: get("NO_COLOR"),
    TERM: get("TERM"),
    FASTIM_PASSWORD: get("FASTIM_PASSWORD"),
    HOME: get("HOME"),
    XDG_CONFIG_HOME: get("XDG_CONFIG_HOME"),
  };
}

/**
 * Reads `--host`'s comma-separated servers, each `HOST`, `HOST:PORT` or `[IPv6]:PORT` (a bare
 * IPv6 address takes `port`).
 *
 * @example
 * ```ts
 * import { parseServers } from "./config.ts";
 *
 * parseServers("a,b:9000", 8888); // [{ host: "a", port: 8888 }, { host: "b", port: 9000 }]
 * ```
 */
export function parseServers(list: string, port: number): { host: string; port: number }[] {
  return list.split(",").map((raw) => {
    const item = raw.trim();
    if (item === "") throw new ConfigError(`--host has an empty server in "${list}"`);
    const m = /^\[([^\]]+)\](?::(.*))?$/.exec(item) ?? /^([^:]+):([^:]*)$/.exec(item);
    if (!m) return { host: item, port };
    return {
      host: m[1],
      port: m[2] === undefined ? port : parsePort(m[2], port, `--host ${item}`),
    };
  });
}
