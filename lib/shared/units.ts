/**
 * @module units
 *
 * Parses human-friendly command-line values: durations ("500ms", "2m"), byte sizes ("8KiB") and
 * bounded integers. Every failure is a `RangeError` whose one-line message names the flag and
 * shows an example of a good value, so it can be printed to the operator as is.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

const SIZE = /^(\d+(?:\.\d+)?)([a-z]*)$/i;
const SIZE_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const INTEGER = /^-?\d+$/;

/**
 * A value not in the form expected. The message ("expected a duration like 60, 500ms, 2m; got
 * "5x"") names no flag, so a caller may put it after its own subject; {@link expected} and
 * {@link got} let the flag parser word it as a flag's.
 */
export class UnitError extends RangeError {
  constructor(readonly expected: string, readonly got: string) {
    super(`expected ${expected}; got "${got}"`);
    this.name = "UnitError";
  }
}

/**
 * Parses a duration and returns whole milliseconds. A bare number is seconds; the suffixes `ms`,
 * `s`, `m` and `h` are accepted, and decimals are allowed. "0" means off. A positive value that
 * rounds to 0 ms is rejected rather than silently turning the feature off. Throws a
 * {@link UnitError} otherwise.
 *
 * @example
 * ```ts
 * import { durationMs } from "./units.ts";
 *
 * durationMs("1.5s"); // 1500
 * durationMs("2m"); // 120000
 * ```
 */
export function durationMs(value: string): number {
  const match = DURATION.exec(value);
  if (match !== null) {
    const amount = Number(match[1]);
    const ms = Math.round(amount * DURATION_MS[match[2] ?? "s"]);
    if (Number.isSafeInteger(ms) && (ms > 0 || amount === 0)) return ms;
  }
  throw new UnitError("a duration like 60, 500ms, 2m", value);
}

/**
 * Parses the value of the duration flag `--flag` with {@link durationMs}, worded for the flag on
 * failure.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./units.ts";
 *
 * parseDuration("60", "idle-timeout"); // 60000
 * parseDuration("1.5s", "idle-timeout"); // 1500
 * parseDuration("2m", "idle-timeout"); // 120000
 * ```
 */
export function parseDuration(value: string, flag: string): number {
  try {
    return durationMs(value);
  } catch (e) {
    if (e instanceof UnitError) {
      throw new RangeError(`--${flag} expects ${e.expected}; got "${value}"`);
    }
    throw e;
  }
}

/**
 * Parses a byte size; suffixes are binary and case-insensitive (`K`, `KB`, `KiB` all mean 1024).
 * The result must be a whole number of bytes and at least `min`.
 *
 * @example
 * ```ts
 * import { parseSize } from "./units.ts";
 *
 * parseSize("8192", "max-line"); // 8192
 * parseSize("8KiB", "max-line"); // 8192
 * parseSize("1M", "max-line"); // 1048576
 * ```
 */
export function parseSize(value: string, flag: string, min = 1): number {
  const match = SIZE.exec(value);
  const unit = match === null ? undefined : SIZE_BYTES[match[2].toLowerCase()];
  // Decimal amounts are fine when they land on a whole byte count, e.g. "1.5K" = 1536.
  const bytes = unit === undefined ? NaN : Number(match![1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(`--${flag} expects a size like 8192, 8KiB, 1MiB; got "${value}"`);
  }
  if (bytes < min) {
    throw new RangeError(`--${flag} expects a size of at least ${min} bytes; got "${value}"`);
  }
  return bytes;
}

/**
 * Parses a plain decimal integer in `[min, max]`. Exponents, hex, decimals and surrounding
 * whitespace are rejected, because `Number()` would accept them and hide typos.
 *
 * @example
 * ```ts
 * import { parseIntFlag } from "./units.ts";
 *
 * parseIntFlag("100", "max-clients", 1, 10_000); // 100
 * ```
 */
export function parseIntFlag(value: string, flag: string, min: number, max: number): number {
  const n = INTEGER.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(
      `--${flag} expects a whole number from ${min} to ${max}; got "${value}"`,
    );
  }
  return n === 0 ? 0 : n; // "-0" would otherwise come back as -0
}

/**
 * A byte count as the flags would spell it: whole MiB or KiB when it is one, bytes otherwise.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./units.ts";
 * formatBytes(1024 * 1024); // "1 MiB"
 * formatBytes(1500); // "1500 bytes"
 * ```
 */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
