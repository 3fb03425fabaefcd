/**
 * The server's settings: every limit is a named default with its flag and doc line here, and the
 * command line is parsed once into a typed {@link ServerConfig}. Nothing else reads `Deno.args`.
 *
 * @module
 */

import { type FlagSpec, formatHelp, parseFlags, UsageError } from "./cli.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { parseDuration, parseIntFlag, parseSize } from "./units.ts";

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
}

/** The defaults, one place. */
export const SERVER_DEFAULTS: ServerConfig = {
  host: "0.0.0.0",
  port: 8888,
  idleTimeoutMs: 60_000,
  maxLineBytes: 8 * 1024,
  maxQueueBytes: 1024 * 1024,
  shutdownGraceMs: 2_000,
  logLevel: "info",
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
    default: "8888",
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
    name: "log-level",
    type: "string",
    value: "LEVEL",
    default: "info",
    doc: `one of ${LOG_LEVELS.join(", ")}`,
  },
  { name: "help", type: "boolean", short: "h", doc: "show this help" },
  { name: "version", type: "boolean", doc: "print the version" },
];

/** What the command line asks for. */
export type ServerCommand =
  | { kind: "help"; text: string }
  | { kind: "version" }
  | { kind: "serve"; config: ServerConfig };

/**
 * Parses the server's command line; throws {@link UsageError} with one line on a bad flag.
 *
 * @example
 * ```ts
 * parseServerArgs(["-port", "9000"]); // { kind: "serve", config: { port: 9000, ... } }
 * ```
 */
export function parseServerArgs(args: string[]): ServerCommand {
  const v = parseFlags(args, SERVER_FLAGS);
  if (v.help) return { kind: "help", text: formatHelp("Usage: server [flags]", SERVER_FLAGS) };
  if (v.version) return { kind: "version" };
  const config = { ...SERVER_DEFAULTS };
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
    if (typeof v["log-level"] === "string") {
      const level = v["log-level"] as LogLevel;
      if (!LOG_LEVELS.includes(level)) {
        throw new RangeError(`--log-level expects one of ${LOG_LEVELS.join(", ")}; got "${level}"`);
      }
      config.logLevel = level;
    }
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (config.maxQueueBytes < config.maxLineBytes + 64) {
    throw new UsageError("--max-queue must be larger than --max-line");
  }
  return { kind: "serve", config };
}
