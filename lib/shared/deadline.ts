/**
 * Racing a promise against a clock without leaving the timer behind: a pending `setTimeout`
 * keeps the process alive and makes Deno's test sanitizer fail.
 *
 * @example
 * ```ts
 * import { TIMED_OUT, within } from "./deadline.ts";
 * const result = await within(new Promise(() => {}), 10);
 * result === TIMED_OUT; // true
 * ```
 * @module
 */

/** What {@link within} resolves to when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * What `promise` settles to, or {@link TIMED_OUT} once `ms` have passed (a negative `ms` counts as
 * 0). A rejection before then passes through. The promise itself is not cancelled: the caller
 * closes whatever it was waiting on.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const clock = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, clock]);
  } finally {
    clearTimeout(timer);
  }
}
