/**
 * Command-line flags for both entrypoints: a table of flags with their docs, parsed once. The Go original's single-dash style (`-port 9000`, `-ip 1.2.3.4`) is
 * accepted beside `--port 9000`. Errors are one line, as a {@link UsageError}.
 *
 * @module
 */

/** A bad command line; its message is one line for the user. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One flag: its name, kind, Go-style aliases, and the line of help beside it. */
export interface FlagSpec {
  name: string;
  type: "string" | "boolean";
  /** One-letter form, e.g. `h` for `-h`. */
  short?: string;
  /** Other long names, e.g. `ip` for `host`. */
  aliases?: string[];
  /** Placeholder for the value in help, e.g. `PORT`. */
  value?: string;
  /** Default shown in help. */
  default?: string;
  /** A boolean that `--no-NAME` (or Go-style `-no-NAME`) sets to `false`. */
  negatable?: boolean;
  doc: string;
}

/** Parsed flag values by canonical name; absent flags are missing. */
export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * Parses `args` against `specs`. Go-style `-name` is read as `--name`, aliases map to their flag,
 * a string flag takes the next word as its value even if it starts with a dash, a repeated
 * flag keeps its last value, and `--no-NAME` sets a {@link FlagSpec.negatable} boolean to
 * `false`. (A loop of our own rather than `node:util` parseArgs, which cannot read single-dash
 * long names and words its errors for programmers.)
 *
 * @example
 * ```ts
 * import { type FlagSpec, parseFlags } from "./cli.ts";
 *
 * const specs: FlagSpec[] = [
 *   { name: "host", type: "string", aliases: ["ip"], doc: "address to listen on" },
 *   { name: "port", type: "string", doc: "port to listen on" },
 * ];
 * parseFlags(["-ip", "10.0.0.1", "-port=9000"], specs); // { host: "10.0.0.1", port: "9000" }
 * ```
 */
export function parseFlags(args: string[], specs: FlagSpec[]): FlagValues {
  const byName = new Map<string, FlagSpec>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    for (const alias of spec.aliases ?? []) byName.set(alias, spec);
  }
  const values: FlagValues = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const m = /^(--?)([^=]+)(=.*)?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const [, dashes, key, assigned] = m;
    const spec = dashes === "-" && key.length === 1
      ? specs.find((s) => s.short === key)
      : byName.get(key);
    const negated = spec ? undefined : negatedFlag(key, byName);
    if (negated) {
      if (assigned !== undefined) throw new UsageError(`flag --${key} takes no value`);
      values[negated.name] = false;
      continue;
    }
    if (!spec) throw new UsageError(`unknown flag ${dashes}${key}`);
    if (spec.type === "boolean") {
      if (assigned !== undefined) throw new UsageError(`flag --${spec.name} takes no value`);
      values[spec.name] = true;
      continue;
    }
    // `--port --db x.db`: the next word is a flag of ours, so the user left the value out.
    if (assigned === undefined && (i + 1 >= args.length || isKnownFlag(args[i + 1], byName))) {
      throw new UsageError(
        `flag ${dashes}${key} needs a value${spec.value ? ` (${spec.value})` : ""}`,
      );
    }
    values[spec.name] = assigned === undefined ? args[++i] : assigned.slice(1);
  }
  return values;
}

/** Whether `word` names one of `byName`'s flags (so it cannot be meant as a value). */
function isKnownFlag(word: string, byName: Map<string, FlagSpec>): boolean {
  const m = /^--?([a-z][a-z0-9-]*)(=.*)?$/s.exec(word);
  return m !== null && (byName.has(m[1]) || negatedFlag(m[1], byName) !== undefined);
}

/**
 * The one line both programs print for a bad command line.
 *
 * @example
 * ```ts
 * import { UsageError, usageErrorLine } from "./cli.ts";
 *
 * usageErrorLine("server", new UsageError("unknown flag --prot")); // "server: unknown flag --prot; try --help"
 * ```
 */
export function usageErrorLine(program: string, e: UsageError): string {
  return `${program}: ${e.message}; try --help`;
}

/** The negatable boolean that `no-NAME` turns off, if `key` is such a name. */
function negatedFlag(key: string, byName: Map<string, FlagSpec>): FlagSpec | undefined {
  if (!key.startsWith("no-")) return undefined;
  const spec = byName.get(key.slice(3));
  return spec?.type === "boolean" && spec.negatable ? spec : undefined;
}

/**
 * Renders help in the layout both programs share: the `usage` lines, then one row per flag (its
 * forms, then its doc and default), then `footer`. A negatable flag that is on by default
 * (`default: "on"`) is listed by its `--no-` form, the one a user would type.
 *
 * @example
 * ```ts
 * import { type FlagSpec, formatHelp } from "./cli.ts";
 *
 * const specs: FlagSpec[] = [{ name: "port", type: "string", default: "8888", doc: "TCP port" }];
 * console.log(formatHelp(["Usage: server [flags]"], specs));
 * ```
 */
export function formatHelp(usage: string[], specs: FlagSpec[], footer: string[] = []): string {
  const rows = specs.map((s) => {
    const onByDefault = s.type === "boolean" && s.negatable && s.default === "on";
    const names = [
      s.short ? `-${s.short}` : "",
      onByDefault ? `--no-${s.name}` : `--${s.name}${s.value ? ` ${s.value}` : ""}`,
      ...(s.aliases ?? []).map((a) => `-${a}`),
    ].filter(Boolean).join(", ");
    const shownDefault = s.default !== undefined && !onByDefault ? ` (default ${s.default})` : "";
    return [names, s.doc + shownDefault];
  });
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  return [
    ...usage,
    "",
    "Flags:",
    ...rows.map(([n, d]) => `  ${n.padEnd(width)}${d}`),
    ...(footer.length ? ["", ...footer] : []),
  ].join("\n");
}

/**
 * An outbound service's flags: whether `--MAIN URL` was given, after checking that none of its
 * `dependents` (`--MAIN-token`, …) came without it. A RangeError names the first that did.
 *
 * @example
 * ```ts
 * import { mainFlagGiven } from "./cli.ts";
 *
 * mainFlagGiven({ webhook: "https://hooks.example/x" }, "webhook", ["webhook-room"]); // true
 * mainFlagGiven({}, "webhook", ["webhook-room"]); // false
 * ```
 */
export function mainFlagGiven(v: FlagValues, main: string, dependents: string[]): boolean {
  if (typeof v[main] === "string") return true;
  const stray = dependents.find((name) => typeof v[name] === "string");
  if (stray !== undefined) throw new RangeError(`--${stray} needs --${main} URL`);
  return false;
}

/**
 * The value of `--FLAG` as an http:// or https:// URL (with `bare`, also without a query or a
 * fragment); a RangeError with one line otherwise.
 *
 * @example
 * ```ts
 * import { httpUrlFlag } from "./cli.ts";
 *
 * httpUrlFlag("https://hooks.example/x", "webhook").href; // "https://hooks.example/x"
 * ```
 */
export function httpUrlFlag(value: string, flag: string, bare = false): URL {
  const bad = () =>
    new RangeError(`--${flag} expects an http:// or https:// URL; got "${value.slice(0, 80)}"`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad();
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad();
  if (bare && (url.search || url.hash)) throw bad();
  return url;
}
