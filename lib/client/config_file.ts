/**
 * The client's config file, `client.jsonc` in `$XDG_CONFIG_HOME/fastim/` (by the XDG rules:
 * `~/.config/fastim/` when that variable is unset, empty or not absolute). It holds defaults for
 * the connection and the display, beneath the command line:
 *
 * ```jsonc
 * { "host": "chat.example.com", "port": 8889, "tls": true, "name": "alice", "color": false }
 * ```
 *
 * A missing file is no error; anything wrong in one is a {@linkcode ConfigError} naming the file
 * and the key.
 *
 * @module
 */

import { JsoncError, parseJsonc } from "../shared/jsonc.ts";
import { ConfigError } from "./config.ts";

/** What the file may set, each a flag's long name. */
export interface ClientFileSettings {
  /** Where the settings were read from (for error messages, and `ca` relative to it). */
  file: string;
  host?: string;
  port?: string;
  name?: string;
  tls?: boolean;
  /** An absolute path: one relative in the file is taken relative to the file's folder. */
  ca?: string;
  color?: boolean;
}

/** Each key's type in the file. */
const KEYS: Record<string, "string" | "port" | "boolean"> = {
  host: "string",
  port: "port",
  name: "string",
  tls: "boolean",
  ca: "string",
  color: "boolean",
};

/**
 * The config file's path by the XDG rules, or `undefined` when neither `XDG_CONFIG_HOME` nor
 * `HOME` says where.
 *
 * @example
 * ```ts
 * clientConfigPath({ HOME: "/home/alice" }); // "/home/alice/.config/fastim/client.jsonc"
 * ```
 */
export function clientConfigPath(
  env: { HOME?: string; XDG_CONFIG_HOME?: string },
): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && xdg.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/fastim/client.jsonc`;
  if (env.HOME) return `${env.HOME.replace(/\/+$/, "")}/.config/fastim/client.jsonc`;
  return undefined;
}

/**
 * Reads and checks the file at `path`; `undefined` when there is none. Throws
 * {@linkcode ConfigError} naming the file and key for a file that cannot be read or parsed, an
 * unknown key, a wrong type or an empty value.
 */
export function readClientConfigFile(
  path: string,
  readFile: (path: string) => string = Deno.readTextFileSync,
): ClientFileSettings | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`cannot read the config file ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseJsonc(text);
  } catch (e) {
    if (!(e instanceof JsoncError)) throw e;
    throw new ConfigError(`${path}: not valid JSONC: ${e.message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(`${path}: must hold one object of settings, like {"host": "..."}`);
  }
  const settings: ClientFileSettings = { file: path };
  for (const [key, value] of Object.entries(data)) {
    const type = KEYS[key];
    const bad = (what: string) => new ConfigError(`${path}: "${key}" ${what}`);
    if (!type) {
      throw bad(`is not a setting; the file may set ${Object.keys(KEYS).join(", ")}`);
    }
    if (type === "boolean") {
      if (typeof value !== "boolean") throw bad(`must be true or false, not ${show(value)}`);
      settings[key as "tls" | "color"] = value;
      continue;
    }
    if (type === "port") {
      const ok = (typeof value === "number" || typeof value === "string") &&
        /^\d+$/.test(String(value)) && Number(value) >= 1 && Number(value) <= 65535;
      if (!ok) throw bad(`must be a number from 1 to 65535, not ${show(value)}`);
      settings.port = String(value);
      continue;
    }
    if (typeof value !== "string") throw bad(`must be a string, not ${show(value)}`);
    if (value.trim() === "") throw bad("must not be empty");
    settings[key as "host" | "name" | "ca"] = key === "ca" && !value.startsWith("/")
      ? `${path.slice(0, path.lastIndexOf("/") + 1)}${value}`
      : value;
  }
  return settings;
}

function show(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}
