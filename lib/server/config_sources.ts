/**
 * Where the server's settings come from, lowest precedence first: the defaults, the `--config`
 * JSONC file, `FASTIM_*` environment variables, the command line. Every source speaks in the
 * flags' long names (`"tls-cert"` in the file, `FASTIM_TLS_CERT` in the environment, `--tls-cert`
 * on the command line), is checked for unknown keys and wrong types here, and is merged into one
 * set of flag values that `config.ts` validates once. Each value remembers its source, so that an
 * error can name the file and key, or the variable, that holds the bad value.
 *
 * @module
 */

import type { FlagSpec, FlagValues } from "../shared/cli.ts";
import { UsageError } from "../shared/cli.ts";
import { JsoncError, parseJsonc } from "../shared/jsonc.ts";

/** Flags that are commands or say where settings are, not settings: no file key, no variable. */
const NOT_SETTINGS = new Set(["help", "version", "backup", "print-config", "config"]);

/** Where one value came from. */
export type Origin =
  | { kind: "default" }
  | { kind: "file"; file: string }
  | { kind: "env"; variable: string }
  | { kind: "flag" };

/** Flag values with the origin of each. */
export interface SourcedValues {
  values: FlagValues;
  origins: Map<string, Origin>;
}

/** What the server reads its settings from besides the command line (passed in for tests). */
export interface SettingSources {
  /** The environment's `FASTIM_*` variables (others are ignored). */
  env: Record<string, string | undefined>;
  /** Reads a config file's text; throws as `Deno.readTextFileSync` does. */
  readFile: (path: string) => string;
}

/** The settings among `specs`: every flag that a file or a variable may set. */
export function settingSpecs(specs: FlagSpec[]): FlagSpec[] {
  return specs.filter((s) => !NOT_SETTINGS.has(s.name));
}

/**
 * The environment variable for a flag: `FASTIM_` and the long name in capitals, `-` as `_`.
 *
 * @example
 * ```ts
 * envName("tls-cert"); // "FASTIM_TLS_CERT"
 * ```
 */
export function envName(flag: string): string {
  return `FASTIM_${flag.toUpperCase().replaceAll("-", "_")}`;
}

/** The variable that names the config file when `--config` is not given. */
export const CONFIG_ENV = envName("config");

/**
 * Merges the config file, the environment and the command line (`cli`, already parsed), later
 * ones overriding earlier ones. Throws {@link UsageError} with one line naming the file and key
 * (or the variable) for an unreadable or malformed file, an unknown key, or a wrong type.
 */
export function mergeSources(
  cli: FlagValues,
  specs: FlagSpec[],
  sources: SettingSources,
): SourcedValues {
  const values: FlagValues = {};
  const origins = new Map<string, Origin>();
  const configFile = typeof cli.config === "string" ? cli.config : sources.env[CONFIG_ENV];
  if (configFile !== undefined) {
    if (configFile === "") throw new UsageError("--config needs a file (JSONC)");
    const fromFile = readConfigFile(configFile, specs, sources.readFile);
    for (const [k, v] of Object.entries(fromFile)) {
      values[k] = v;
      origins.set(k, { kind: "file", file: configFile });
    }
  }
  for (const spec of settingSpecs(specs)) {
    const variable = envName(spec.name);
    const raw = sources.env[variable];
    if (raw === undefined) continue;
    values[spec.name] = spec.type === "boolean" ? envBoolean(variable, raw) : raw;
    origins.set(spec.name, { kind: "env", variable });
  }
  for (const [k, v] of Object.entries(cli)) {
    if (v === undefined || NOT_SETTINGS.has(k)) continue;
    values[k] = v;
    origins.set(k, { kind: "flag" });
  }
  return { values, origins };
}

/** A boolean variable: `1`/`true`/`yes` or `0`/`false`/`no`/empty. */
function envBoolean(variable: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes"].includes(v)) return true;
  if (["", "0", "false", "no"].includes(v)) return false;
  throw new UsageError(`${variable} expects true or false (1 or 0); got "${raw}"`);
}

/**
 * Reads a JSONC config file into flag values: each key a setting's long name, each value a
 * string or number (for flags that take a value) or true/false (for switches).
 */
export function readConfigFile(
  file: string,
  specs: FlagSpec[],
  readFile: (path: string) => string,
): FlagValues {
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`cannot read the config file ${file}: ${why}`);
  }
  let data: unknown;
  try {
    data = parseJsonc(text);
  } catch (e) {
    if (!(e instanceof JsoncError)) throw e;
    throw new UsageError(`${file}: not valid JSONC: ${e.message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`${file}: must hold one object of settings, like {"port": 8888}`);
  }
  const settings = new Map(settingSpecs(specs).map((s) => [s.name, s]));
  const values: FlagValues = {};
  for (const [key, value] of Object.entries(data)) {
    const spec = settings.get(key);
    if (!spec) throw new UsageError(`${file}: ${unknownKey(key, [...settings.keys()])}`);
    if (spec.type === "boolean") {
      if (typeof value !== "boolean") {
        throw new UsageError(`${file}: "${key}" must be true or false, not ${show(value)}`);
      }
      values[key] = value;
    } else if (typeof value === "string" || (typeof value === "number" && isFinite(value))) {
      values[key] = String(value);
    } else {
      throw new UsageError(
        `${file}: "${key}" must be a ${spec.value ? `${spec.value} ` : ""}string or number, not ${
          show(value)
        }`,
      );
    }
  }
  return values;
}

/** An unknown key's line, with the closest setting when one is near (a typo). */
function unknownKey(key: string, known: string[]): string {
  if (NOT_SETTINGS.has(key)) return `"${key}" is a command-line flag, not a setting for a file`;
  const near = known
    .map((k) => ({ k, d: editDistance(key, k) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  return near
    ? `unknown key "${key}" (did you mean "${near.k}"?)`
    : `unknown key "${key}": the keys are the long names of the server's flags`;
}

function show(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * Rewrites a validation error about `--flag` to name where the flag's value came from: the file
 * and key, or the variable. Errors about command-line values are left as they are.
 *
 * @example
 * ```ts
 * const origins = new Map<string, Origin>([["port", { kind: "file", file: "server.jsonc" }]]);
 * blame('--port expects an integer from 0 to 65535; got "x"', origins);
 * // 'server.jsonc: "port" expects an integer from 0 to 65535; got "x"'
 * ```
 */
export function blame(message: string, origins: Map<string, Origin>): string {
  const m = /--([a-z][a-z0-9-]*)/.exec(message);
  const origin = m ? origins.get(m[1]) : undefined;
  if (!m || !origin || origin.kind === "flag" || origin.kind === "default") return message;
  const flag = m[1];
  const where = origin.kind === "file" ? `${origin.file}: "${flag}"` : origin.variable;
  // "--port expects ..." reads as '"port" expects ...'; other wordings get the place in front.
  if (message.startsWith(`--${flag} `)) return `${where}${message.slice(flag.length + 2)}`;
  return `${where}: ${message}`;
}

/** Settings whose values are secrets (a Redis URL may hold a password): masked by `--print-config`. */
const SECRET = /password|secret|token|^redis$/;

/**
 * The effective settings as JSONC that `--config` reads back: every setting with its value and,
 * in a comment, where it came from. Defaults and unset settings are commented out (so the text
 * read back sets exactly what was set); secrets are masked.
 *
 * @example
 * ```ts
 * import { SERVER_FLAGS } from "./config.ts";
 * const merged = mergeSources({}, SERVER_FLAGS, { env: { FASTIM_PORT: "9000" }, readFile: () => "" });
 * console.log(formatSettings(SERVER_FLAGS, merged));
 * // {
 * //   // "host": "0.0.0.0", // default
 * //   "port": 9000,         // FASTIM_PORT
 * ```
 */
export function formatSettings(specs: FlagSpec[], sourced: SourcedValues): string {
  const rows: [string, string][] = [];
  for (const spec of settingSpecs(specs)) {
    const value = sourced.values[spec.name] ?? (spec.type === "boolean" ? false : spec.default);
    const origin = sourced.origins.get(spec.name) ?? { kind: "default" };
    const from = origin.kind === "file"
      ? origin.file
      : origin.kind === "env"
      ? origin.variable
      : origin.kind === "flag"
      ? `--${spec.name}`
      : "default";
    if (value === undefined) {
      rows.push([`// "${spec.name}": `, "not set"]);
      continue;
    }
    const shown = SECRET.test(spec.name)
      ? '"********"'
      : typeof value === "boolean" || /^(0|[1-9][0-9]{0,14})$/.test(value)
      ? String(value)
      : JSON.stringify(value);
    rows.push([`${origin.kind === "default" ? "// " : ""}"${spec.name}": ${shown},`, from]);
  }
  const width = Math.max(...rows.map(([l]) => l.length)) + 1;
  return [
    "// FastIM server settings in effect: default < --config file < FASTIM_* variables < flags",
    "{",
    ...rows.map(([left, from]) => `  ${left.padEnd(width)}// ${from}`),
    "}",
  ].join("\n");
}
