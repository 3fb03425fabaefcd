/**
 * Command-line flags and environment of the FastIM client, parsed once into a typed
 * {@linkcode ClientConfig}. Nothing else in the client reads `Deno.args` or the environment.
 *
 * Go-style single-dash long flags (`-ip 127.0.0.1 -port 8888`, as the Go original takes them)
 * are normalised to their `--` form before parsing.
 *
 * @example
 * ```ts
 * const config = parseConfig(["-ip", "10.0.0.2", "-port", "9000"], {});
 * // config.host === "10.0.0.2", config.port === 9000
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };

/** The client's version, from deno.json. */
export const CLIENT_VERSION: string = denoJson.version;

/** Default server address, as in the Go original. */
export const DEFAULT_HOST = "127.0.0.1";
/** Default server port, as in the Go original. */
export const DEFAULT_PORT = 8888;
/** Default server port with `--tls` (the server's default `--tls-port`). */
export const DEFAULT_TLS_PORT = 8889;
/** Longest line accepted from the server before the connection is dropped (1 MiB). */
export const MAX_SERVER_LINE_BYTES = 1024 * 1024;
/** How long to wait for the server's `welcome` before giving up. */
export const WELCOME_TIMEOUT_MS = 5_000;
/** How long a request waits for its reply (and at most for a reconnect) before it fails. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** How many messages `/history` fetches when not told. */
export const HISTORY_PAGE = 20;
/** The most `/history N` may ask for (the server's cap on one page). */
export const MAX_HISTORY_PAGE = 500;
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
  host: string;
  /** `--port`, or 8888 (8889 with TLS). */
  port: number;
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

const OPTIONS = {
  host: { type: "string", help: "server address (Go-style: -ip)", arg: "HOST" },
  port: {
    type: "string",
    help: `server port (default ${DEFAULT_PORT}; Go-style: -port)`,
    arg: "PORT",
  },
  tls: { type: "boolean", help: `connect with TLS (default port ${DEFAULT_TLS_PORT})` },
  ca: {
    type: "string",
    help: "trust the private CA in this PEM file (implies --tls)",
    arg: "FILE",
  },
  name: {
    type: "string",
    help: "rename to NAME (or log in, if registered) right after connecting",
    arg: "NAME",
  },
  send: {
    type: "string",
    help: "send one public message and exit (status 0 = accepted)",
    arg: "TEXT",
  },
  to: { type: "string", help: "with --send: send a private message to NAME instead", arg: "NAME" },
  json: { type: "boolean", help: "print each incoming frame as one JSON object per line" },
  menu: { type: "boolean", help: "show the numbered menu even when stdin is not a terminal" },
  color: { type: "boolean", help: "--no-color: no colours (also NO_COLOR=1)" },
  reconnect: { type: "boolean", help: "--no-reconnect: exit when the connection drops" },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", short: "V", help: "show the version" },
} as const;

/** Go's flag package accepts `-flag` for every flag; these aliases come from the Go client. */
const GO_ALIASES: Record<string, string> = { ip: "host" };

/** The `--help` text. */
export function usage(): string {
  const lines = [
    `FastIM client ${CLIENT_VERSION}`,
    "",
    "usage: client [-ip HOST] [-port PORT] [--tls [--ca FILE]] [--name NAME]",
    "       client --send TEXT [--to NAME]      send one message and exit",
    "       producer | client [--json]          send each stdin line, print events",
    "",
    "flags:",
  ];
  for (const [flag, spec] of Object.entries(OPTIONS)) {
    const shown = flag === "color" || flag === "reconnect" ? `no-${flag}` : flag;
    const left = `  --${shown}${"arg" in spec ? ` ${spec.arg}` : ""}`;
    lines.push(`${left.padEnd(22)} ${spec.help}`);
  }
  lines.push(
    "",
    "In chat, type /help for the slash commands. Exit status: 0 ok, 1 refused or connection",
    "failed, 2 bad flags. Environment: NO_COLOR (no colours), FASTIM_PASSWORD (with --name:",
    "log in as that registered name; without it the client asks when stdin is a terminal).",
  );
  return lines.join("\n");
}

/** Rewrites Go-style `-ip x`, `-port=1` and `-name x` to `--host x`, `--port=1`, `--name x`. */
export function normaliseGoFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg);
    if (m) {
      const flag = GO_ALIASES[m[1]] ?? m[1];
      const known = flag in OPTIONS || (flag.startsWith("no-") && flag.slice(3) in OPTIONS);
      out.push(known ? `--${flag}${m[2] ?? ""}` : arg);
    } else {
      const long = /^--([a-z][a-z-]*)(=.*)?$/.exec(arg);
      out.push(long && GO_ALIASES[long[1]] ? `--${GO_ALIASES[long[1]]}${long[2] ?? ""}` : arg);
    }
  }
  return out;
}

/**
 * One line for a flag parsing error; node:util's own messages run to three lines, and its advice
 * for a value starting with a dash (`--send=-XYZ`) names a placeholder.
 */
function describeParseError(e: Error, args: string[]): string {
  const first = e.message.split("\n")[0].replace(/\.$/, "");
  const ambiguous = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument is ambiguous/.exec(first);
  if (ambiguous) {
    const flag = ambiguous[1];
    const at = args.indexOf(flag);
    const value = at >= 0 && at + 1 < args.length ? args[at + 1] : "-TEXT";
    const what = flag === "--send" ? "send text" : "give a value";
    return `flag ${flag} needs a value; to ${what} starting with "-", use ${flag}=${value}`;
  }
  return `${first}; try --help`;
}

/**
 * Parses the client's flags; throws {@linkcode ConfigError} with a one-line message on a bad flag.
 *
 * @example
 * ```ts
 * parseConfig(["--send", "hi", "--to", "bob"], {}, { stdin: false, stdout: false }).mode; // "send"
 * ```
 */
export function parseConfig(
  args: readonly string[],
  env: ClientEnv,
  tty: TtyState = { stdin: false, stdout: false },
): ClientConfig {
  let values;
  let normalised: string[] = [];
  try {
    const options = Object.fromEntries(
      Object.entries(OPTIONS).map((
        [k, v],
      ) => [k, { type: v.type, ...("short" in v ? { short: v.short } : {}) }]),
    ) as { [K in keyof typeof OPTIONS]: { type: (typeof OPTIONS)[K]["type"]; short?: string } };
    normalised = normaliseGoFlags(args);
    ({ values } = parseArgs({
      args: normalised,
      options,
      allowNegative: true,
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new ConfigError(describeParseError(e as Error, normalised));
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
  return {
    host,
    port,
    tls,
    caFile: values.ca,
    name: values.name,
    password: values.name !== undefined && env.FASTIM_PASSWORD ? env.FASTIM_PASSWORD : undefined,
    send: values.send,
    to: values.to,
    json,
    color: tty.stdout && !dumb && !json && mode !== "send" && !noColorEnv && values.color !== false,
    stderrColor: (tty.stderr ?? false) && !dumb && !noColorEnv && values.color !== false,
    lineEditor: tty.stdin && tty.stdout && !dumb && !json && mode === "menu",
    canPrompt: tty.stdin,
    reconnect: mode !== "send" && values.reconnect !== false,
    mode,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

function parsePort(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new ConfigError(`--port must be a number from 1 to 65535, not "${raw}"`);
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
  return { NO_COLOR: get("NO_COLOR"), TERM: get("TERM"), FASTIM_PASSWORD: get("FASTIM_PASSWORD") };
}
