/**
 * A token bucket, pure and clock-injected: the server's flood limits (lib/server/rate_limit.ts)
 * and the client's pacing of its own requests (lib/client/connection.ts) both count with it, so
 * the two agree on when a request is allowed.
 *
 * @module
 */

/**
 * A token bucket: holds up to `burst` tokens and refills at `ratePerSec`. Tokens may be taken on
 * credit with {@link charge}, leaving the bucket in debt, so a sender that keeps pushing past the
 * limit stays limited until it pauses.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * const bucket = new TokenBucket(10, 20, 0); // 10 per second, burst 20, full at time 0
 * bucket.take(1, 0); // 0: allowed
 * bucket.waitMs(1, 0); // 0
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    /** Tokens added per second. */
    readonly ratePerSec: number,
    /** Most tokens the bucket holds, i.e. the largest burst. */
    readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSec > 0) || !(burst > 0)) {
      throw new RangeError(
        `a token bucket needs a positive rate and burst; got ${ratePerSec}, ${burst}`,
      );
    }
    this.#tokens = burst;
    this.#at = now;
  }

  /** Tokens available at `now` (negative while in debt). */
  tokens(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Whether the bucket is back to full at `now`, i.e. holds no memory of past use. */
  full(now: number): boolean {
    return this.tokens(now) >= this.burst;
  }

  /** Milliseconds until `n` tokens are available (0 if they are now). */
  waitMs(n: number, now: number): number {
    const missing = n - this.tokens(now);
    return missing <= 0 ? 0 : Math.ceil((missing / this.ratePerSec) * 1000);
  }

  /**
   * Takes `n` tokens if they are all there and returns 0; otherwise takes nothing and returns the
   * milliseconds until they will be.
   */
  take(n: number, now: number): number {
    const wait = this.waitMs(n, now);
    if (wait === 0) this.#tokens -= n;
    return wait;
  }

  /** Takes `n` tokens even if that leaves the bucket in debt. */
  charge(n: number, now: number): void {
    this.#refill(now);
    this.#tokens -= n;
  }

  #refill(now: number): void {
    // A clock that goes backwards (NTP step) must not mint or destroy tokens.
    if (now > this.#at) {
      this.#tokens = Math.min(
        this.burst,
        this.#tokens + ((now - this.#at) / 1000) * this.ratePerSec,
      );
    }
    this.#at = Math.max(this.#at, now);
  }
}
