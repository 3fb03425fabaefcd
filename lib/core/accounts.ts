/**
 * Passwords and login throttling: scrypt from `node:crypto` with a per-account salt, constant-time
 * comparison, and a per-address limit on failed logins. No I/O beyond the hashing itself.
 *
 * @module
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { fail, type Failure } from "../protocol/events.ts";

/** Password length bounds, in characters. */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;
/** scrypt cost: about 50–80 ms on a laptop core and 16 MiB of memory, run off the event loop. */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };
/** Hashes running at once; each holds 16 MiB, so this bounds their memory. */
export const MAX_CONCURRENT_HASHES = 2;
/** Hashes waiting for a turn; past this, a request is refused as busy. */
export const MAX_WAITING_HASHES = 32;

/** Too many password hashes are waiting: try again later. */
export class HashBusyError extends Error {
  override name = "HashBusyError";
}

let running = 0;
const waiting: (() => void)[] = [];

/** Runs `task` when one of the {@link MAX_CONCURRENT_HASHES} slots is free. */
async function inHashSlot<T>(task: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) {
    if (waiting.length >= MAX_WAITING_HASHES) throw new HashBusyError("too many password checks");
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running++;
  }
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    // Hand the slot straight to the next in line, or free it.
    if (next) next();
    else running--;
  }
}

/**
 * Checks a new password against the length rules.
 *
 * @example
 * ```ts
 * import { checkPassword } from "./accounts.ts";
 *
 * checkPassword("short"); // { ok: false, code: "password_weak", ... }
 * ```
 */
export function checkPassword(password: string): Failure | null {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return fail("password_weak", `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return fail("password_weak", `password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return null;
}

/**
 * Derives the scrypt hash of `password` with `salt` (a fresh random one when absent).
 *
 * @example
 * ```ts
 * import { hashPassword } from "./accounts.ts";
 *
 * const { salt, hash } = await hashPassword("correct horse");
 * ```
 */
export function hashPassword(
  password: string,
  salt: Uint8Array = randomBytes(16),
): Promise<{ salt: Uint8Array; hash: Uint8Array }> {
  return inHashSlot(() =>
    new Promise((resolve, reject) => {
      scrypt(password.normalize("NFC"), salt, SCRYPT.keylen, SCRYPT, (err, key) => {
        if (err) reject(err);
        else resolve({ salt, hash: new Uint8Array(key) });
      });
    })
  );
}

/** Whether `password` matches `hash`, compared in constant time. */
export async function verifyPassword(
  password: string,
  salt: Uint8Array,
  hash: Uint8Array,
): Promise<boolean> {
  const { hash: candidate } = await hashPassword(password, salt);
  return candidate.length === hash.length && timingSafeEqual(candidate, hash);
}

/**
 * Counts failed logins per address in a sliding window and says how long an address must wait.
 * Bounded: at most `maxAddresses` are tracked; the oldest are forgotten first.
 *
 * @example
 * ```ts
 * import { LoginLimiter } from "./accounts.ts";
 *
 * const limiter = new LoginLimiter();
 * limiter.failed("1.2.3.4");
 * limiter.waitMs("1.2.3.4"); // 0: one failure is not yet five
 * ```
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 60_000,
    readonly clock: () => number = Date.now,
    readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds `ip` must wait before trying again; 0 when it may try now. */
  waitMs(ip: string): number {
    const now = this.clock();
    const recent = (this.#failures.get(ip) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length < this.maxFailures) return 0;
    return recent[0] + this.windowMs - now;
  }

  /** Records a failed attempt. */
  failed(ip: string): void {
    const now = this.clock();
    const recent = (this.#failures.get(ip) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.#failures.delete(ip); // re-insert so Map order is least recently failed first
    this.#failures.set(ip, recent.slice(-this.maxFailures));
    if (this.#failures.size > this.maxAddresses) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
  }
}
