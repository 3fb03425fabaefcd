/**
 * Leveled log lines on stderr, one line per event: `TIME LEVEL event key=value ...`, or with
 * `--log-format json` one JSON object per line (`{"time":…,"level":"info","msg":"connect",…}`)
 * for log shippers.
 *
 * @module
 */

/** Log levels, least to most severe; `silent` logs nothing. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];
/** How lines are written: `text` (`TIME LEVEL event key=value`) or `json` (one object a line). */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

const encoder = new TextEncoder();

/**
 * A logger writing to stderr at or above a level.
 *
 * @example
 * ```ts
 * import { Logger } from "./log.ts";
 *
 * const log = new Logger("info");
 * log.info("connect", { addr: "127.0.0.1:5000" });
 * // 2026-11-26T06:00:00.000Z INFO connect addr=127.0.0.1:5000
 * ```
 */
export class Logger {
  readonly #min: number;
  /** Fields added to every line (which `--workers` thread wrote it). */
  #context: Record<string, unknown> = {};

  constructor(
    readonly level: LogLevel,
    readonly sink: (line: string) => void = writeStderr,
    readonly format: LogFormat = "text",
  ) {
    this.#min = LOG_LEVELS.indexOf(level);
  }

  /** A logger that adds `fields` to every line it writes. */
  with(fields: Record<string, unknown>): Logger {
    const child = new Logger(this.level, this.sink, this.format);
    child.#context = { ...this.#context, ...fields };
    return child;
  }

  /**
   * An `info` line written whatever the level: `listening on HOST:PORT`, which scripts and tests
   * wait for.
   */
  notice(event: string, fields?: Record<string, unknown>): void {
    this.#write(1, event, fields);
  }

  debug(event: string, fields?: Record<string, unknown>): void {
    this.#log(0, event, fields);
  }
  info(event: string, fields?: Record<string, unknown>): void {
    this.#log(1, event, fields);
  }
  warn(event: string, fields?: Record<string, unknown>): void {
    this.#log(2, event, fields);
  }
  error(event: string, fields?: Record<string, unknown>): void {
    this.#log(3, event, fields);
  }

  /** Whether `debug` lines are written (to skip building their fields). */
  get debugEnabled(): boolean {
    return this.#min === 0;
  }

  #log(level: number, event: string, fields?: Record<string, unknown>): void {
    if (level >= this.#min) this.#write(level, event, fields);
  }

  #write(level: number, event: string, fields?: Record<string, unknown>): void {
    const time = new Date().toISOString();
    if (this.format === "json") {
      this.sink(jsonLine({ time, level: LOG_LEVELS[level], msg: event }, fields, this.#context));
      return;
    }
    const line = `${time} ${LOG_LEVELS[level].toUpperCase()} ${event}`;
    this.sink(line + (fields ? formatFields(fields) : "") + formatFields(this.#context));
  }
}

/**
 * One JSON object: the line's own keys, then its fields, then the context's. Errors become their
 * message and other non-JSON values strings; like text lines, no raw terminal escape survives.
 */
function jsonLine(
  head: Record<string, unknown>,
  fields: Record<string, unknown> | undefined,
  context: Record<string, unknown>,
): string {
  const record: Record<string, unknown> = { ...head };
  for (const source of [fields ?? {}, context]) {
    for (const [k, v] of Object.entries(source)) {
      if (k in head) continue; // a field named "msg" must not hide the event
      record[k] = v instanceof Error
        ? v.message
        : typeof v === "number" || typeof v === "boolean" || v === null
        ? v
        : String(v);
    }
  }
  return escapeUnsafe(JSON.stringify(record));
}

function formatFields(fields: Record<string, unknown>): string {
  let text = "";
  for (const [k, v] of Object.entries(fields)) text += ` ${k}=${formatValue(v)}`;
  return text;
}

/** C0 and C1 controls, DEL, and the bidi embedding, override and isolate controls. */
// deno-lint-ignore no-control-regex -- matching control characters is the point here
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
/**
 * What JSON.stringify leaves raw but a terminal or log viewer would act on: DEL, C1 and bidi
 * controls, plus the line and paragraph separators U+2028/2029 (already quoted, as whitespace).
 */
const UNSAFE_AFTER_JSON = /[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Writes a field value so that the line stays one parseable record and carries no raw terminal
 * escapes: values with spaces, quotes, "=", control or bidi characters are JSON-quoted, with every
 * control and bidi character escaped as `\uXXXX` (JSON.stringify escapes C0 itself).
 */
function formatValue(v: unknown): string {
  const s = v instanceof Error ? v.message : String(v);
  if (s !== "" && !/[\s"=]/.test(s) && !UNSAFE.test(s)) return s;
  return escapeUnsafe(JSON.stringify(s));
}

/** JSON text with the characters JSON.stringify leaves raw escaped as `\uXXXX`. */
function escapeUnsafe(json: string): string {
  return json.replace(
    UNSAFE_AFTER_JSON,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`,
  );
}

/**
 * A sink that writes each line whole with `write` and never throws: a line that cannot be written
 * (the reader of a `server 2>&1 | tee` pipe went away, a stopped journald, a full disk) is
 * dropped and counted, because a log line must never take the server down. When writing works
 * again, one line first says how many were dropped.
 *
 * @example
 * ```ts
 * import { droppingSink } from "./log.ts";
 *
 * const sink = droppingSink((bytes) => Deno.stderr.writeSync(bytes));
 * sink("hello"); // written, or dropped and counted
 * ```
 */
export function droppingSink(write: (bytes: Uint8Array) => number): (line: string) => void {
  let dropped = 0;
  const writeAll = (text: string) => {
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) off += write(bytes.subarray(off));
  };
  return (line) => {
    try {
      if (dropped > 0) {
        const time = new Date().toISOString();
        // In the format of the line that follows, so a JSON log stays all JSON.
        writeAll(
          line.startsWith("{")
            ? `${
              JSON.stringify({ time, level: "warn", msg: "log lines dropped", count: dropped })
            }\n`
            : `${time} WARN log lines dropped count=${dropped}\n`,
        );
        dropped = 0;
      }
      writeAll(line + "\n");
    } catch {
      dropped++;
    }
  };
}

const writeStderr = droppingSink((bytes) => Deno.stderr.writeSync(bytes));
