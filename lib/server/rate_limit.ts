/**
 * Flood control, pure and clock-injected so it is tested without sockets or timers: built on
 * `TokenBucket` (lib/shared/token_bucket.ts), the per-connection {@link FloodGuard} the transport
 * asks before carrying out each request, and the per-address {@link ConnectionLimiter} the server
 * asks before serving a new connection. See SECURITY.md for the limits and why they are what they
 * are.
 *
 * @module
 */

import { addressKey } from "../shared/address.ts";
import { type RateClass, REQUESTS } from "../protocol/request_table.ts";
import type { Request } from "../protocol/requests.ts";
import { TokenBucket } from "../shared/token_bucket.ts";
import { formatBytes } from "../shared/units.ts";

/** The per-connection limits; a rate of 0 turns that limit off. */
export interface FloodLimits {
  /** Requests (lines) per second, and the burst allowed above it. */
  msgRate: number;
  msgBurst: number;
  /** Bytes received per second, and the burst. */
  byteRate: number;
  byteBurst: number;
  /** Renames per minute (also the burst). */
  renamesPerMinute: number;
  /** `who` requests per minute (also the burst). */
  whoPerMinute: number;
  /** Refused requests tolerated before the connection is closed; one is forgiven per second. */
  strikes: number;
  /**
   * Lines a text connection may have waiting for its message rate (read, not yet carried out)
   * before it is closed for flooding; 0 = refuse over the rate instead of delaying.
   */
  backlog: number;
  /** A line left incomplete this long closes the connection; 0 = never. */
  lineTimeoutMs: number;
}

/** What the transport should do with a request. */
export type Verdict =
  | { action: "allow" }
  | { action: "reject"; waitMs: number; message: string }
  | { action: "disconnect"; message: string };

const ALLOW: Verdict = Object.freeze({ action: "allow" });

/** Why a connection that is not sending whole lines should be closed. */
export type Stall = "line_timeout" | "nothing_useful";

/**
 * One connection's flood control. The transport calls {@link onRead} after each read and
 * {@link check} before carrying out each request; the server's sweep calls {@link stalled}.
 *
 * @example
 * ```ts
 * import { FloodGuard } from "./rate_limit.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 *
 * const guard = new FloodGuard(SERVER_DEFAULTS.flood, Date.now());
 * guard.onRead(6, 0, 1, Date.now()); // "hello\n": one complete line, nothing pending
 * const v = guard.check("say", Date.now());
 * if (v.action === "reject") console.log(v.message); // "slow down: at most 10 messages per second; ..."
 * ```
 */
export class FloodGuard {
  readonly #limits: FloodLimits;
  readonly #msgs?: TokenBucket;
  readonly #bytes?: TokenBucket;
  readonly #renames?: TokenBucket;
  readonly #whos?: TokenBucket;
  readonly #strikes?: TokenBucket;
  readonly #connectedAt: number;
  /** When the line now being received started, or undefined when no partial line is buffered. */
  #partialSince: number | undefined;
  #sentBytes = false;
  #sentLine = false;

  constructor(limits: FloodLimits, now: number) {
    this.#limits = limits;
    this.#connectedAt = now;
    if (limits.msgRate > 0) this.#msgs = new TokenBucket(limits.msgRate, limits.msgBurst, now);
    if (limits.byteRate > 0) this.#bytes = new TokenBucket(limits.byteRate, limits.byteBurst, now);
    if (limits.renamesPerMinute > 0) {
      this.#renames = new TokenBucket(limits.renamesPerMinute / 60, limits.renamesPerMinute, now);
    }
    if (limits.whoPerMinute > 0) {
      this.#whos = new TokenBucket(limits.whoPerMinute / 60, limits.whoPerMinute, now);
    }
    if (limits.strikes > 0) this.#strikes = new TokenBucket(1, limits.strikes, now);
  }

  /**
   * Records one read: `bytes` received, `pending` bytes of an unfinished line left buffered after
   * it, and how many non-empty lines it `completed`. Returns a `disconnect` verdict when the
   * client has sent more than a whole extra burst of bytes beyond its allowance (a flood of blank
   * lines or of lines the server keeps refusing), otherwise `allow`.
   */
  onRead(bytes: number, pending: number, completed: number, now: number): Verdict {
    if (bytes > 0) this.#sentBytes = true;
    if (completed > 0) this.#sentLine = true;
    if (pending === 0) this.#partialSince = undefined;
    else if (completed > 0 || this.#partialSince === undefined) this.#partialSince = now;
    if (this.#bytes) {
      this.#bytes.charge(bytes, now);
      if (this.#bytes.tokens(now) < -this.#limits.byteBurst) {
        return {
          action: "disconnect",
          message: `${this.#byteLimit()} exceeded; closing the connection`,
        };
      }
    }
    return ALLOW;
  }

  /**
   * Decides whether to carry out a request of type `type`, charged to its rate class in
   * {@link REQUESTS}: `free` costs nothing, `message` one message token, `rename` and `who` one
   * message token and one of their own. A refused request costs a strike; with none left it is
   * `disconnect`.
   */
  check(type: Request["type"], now: number): Verdict {
    const rate = REQUESTS[type].rate;
    if (rate === "free") return ALLOW;
    const refused = this.#refusal(rate, now);
    if (refused === undefined) return ALLOW;
    if (this.#strikes && this.#strikes.take(1, now) > 0) {
      return {
        action: "disconnect",
        message: `${refused.limit} exceeded again and again; closing the connection`,
      };
    }
    return {
      action: "reject",
      waitMs: refused.waitMs,
      message: `slow down: ${refused.limit}; try again in ${formatWait(refused.waitMs)}`,
    };
  }

  /**
   * Milliseconds until a request of type `type` fits the message rate (0 if it does now): how
   * long a text connection's next line is held back ("fakelag", as IRC servers do) instead of
   * refused. Only the message rate delays; the byte, rename and who limits still refuse.
   */
  delayMs(type: Request["type"], now: number): number {
    if (this.#limits.backlog === 0 || REQUESTS[type].rate === "free") return 0;
    return this.#msgs?.waitMs(1, now) ?? 0;
  }

  /**
   * Whether the connection should be closed for not sending whole lines: a line has stayed
   * incomplete longer than the line timeout (slowloris), or the client has sent bytes but not one
   * non-empty line within the line timeout of connecting. A client that has sent nothing at all is
   * not stalled: `nc` users may connect just to read (the idle timeout covers them).
   */
  stalled(now: number): Stall | undefined {
    const timeout = this.#limits.lineTimeoutMs;
    if (timeout <= 0) return undefined;
    if (this.#partialSince !== undefined && now - this.#partialSince >= timeout) {
      return "line_timeout";
    }
    if (this.#sentBytes && !this.#sentLine && now - this.#connectedAt >= timeout) {
      return "nothing_useful";
    }
    return undefined;
  }

  #refusal(rate: RateClass, now: number): { limit: string; waitMs: number } | undefined {
    const l = this.#limits;
    if (this.#bytes) {
      const wait = this.#bytes.waitMs(0, now);
      if (wait > 0) return { limit: this.#byteLimit(), waitMs: wait };
    }
    // Check every bucket before taking from any, so a refused request costs nothing but a strike.
    const own = rate === "rename" ? this.#renames : rate === "who" ? this.#whos : undefined;
    const ownWait = own?.waitMs(1, now) ?? 0;
    const msgWait = this.#msgs?.waitMs(1, now) ?? 0;
    if (msgWait > 0) {
      return { limit: `at most ${l.msgRate} messages per second`, waitMs: msgWait };
    }
    if (ownWait > 0) {
      const perMinute = rate === "rename" ? l.renamesPerMinute : l.whoPerMinute;
      const what = rate === "rename" ? "renames" : "who requests";
      return { limit: `at most ${perMinute} ${what} per minute`, waitMs: ownWait };
    }
    this.#msgs?.take(1, now);
    own?.take(1, now);
    return undefined;
  }

  #byteLimit(): string {
    return `at most ${formatBytes(this.#limits.byteRate)} per second`;
  }
}

/** The per-address connection limits; 0 turns one off. */
export interface ConnectionLimits {
  /** Open connections in all. */
  maxConns: number;
  /** Open connections from one address. */
  maxConnsPerIp: number;
  /** New connections from one address per minute (also the burst). */
  connsPerMinute: number;
}

/** Whether to serve a new connection, with the line to refuse it with. */
export type Admission = { ok: true; key: string } | {
  ok: false;
  reason: RefusalReason;
  message: string;
};
/** Which connection limit (or an IP ban) refused a connection. */
export type RefusalReason = "server_full" | "too_many_conns" | "conn_rate" | "banned";

interface AddressEntry {
  open: number;
  bucket?: TokenBucket;
}

/**
 * Counts open connections in all and per address, and new connections per address per minute.
 * IPv6 addresses are counted by their /64 prefix, because one host usually owns a whole /64.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "./rate_limit.ts";
 *
 * const limiter = new ConnectionLimiter({ maxConns: 10000, maxConnsPerIp: 20, connsPerMinute: 60 });
 * const a = limiter.admit("203.0.113.7", Date.now());
 * if (a.ok) limiter.release(a.key); // once the connection has closed
 * else console.log(a.message); // "too many connections from your address: ..."
 * ```
 */
export class ConnectionLimiter {
  readonly #byAddr = new Map<string, AddressEntry>();
  #open = 0;

  constructor(readonly limits: ConnectionLimits) {}

  /** Open connections admitted and not yet released. */
  get open(): number {
    return this.#open;
  }

  /** Addresses remembered (open connections or recent connects); bounded by {@link prune}. */
  get tracked(): number {
    return this.#byAddr.size;
  }

  /** Admits a connection from `ip` (counting it as open) or says why not. */
  admit(ip: string, now: number): Admission {
    const l = this.limits;
    if (l.maxConns > 0 && this.#open >= l.maxConns) {
      return { ok: false, reason: "server_full", message: "server is full, try again later" };
    }
    const key = addressKey(ip);
    let entry = this.#byAddr.get(key);
    if (l.maxConnsPerIp > 0 && entry && entry.open >= l.maxConnsPerIp) {
      return {
        ok: false,
        reason: "too_many_conns",
        message: `too many connections from your address: at most ${l.maxConnsPerIp} at once`,
      };
    }
    if (!entry) this.#byAddr.set(key, entry = { open: 0 });
    if (l.connsPerMinute > 0) {
      entry.bucket ??= new TokenBucket(l.connsPerMinute / 60, l.connsPerMinute, now);
      const wait = entry.bucket.take(1, now);
      if (wait > 0) {
        return {
          ok: false,
          reason: "conn_rate",
          message:
            `too many new connections from your address: at most ${l.connsPerMinute} per minute; try again in ${
              formatWait(wait)
            }`,
        };
      }
    }
    entry.open++;
    this.#open++;
    return { ok: true, key };
  }

  /** Releases a connection admitted under `key`. */
  release(key: string): void {
    const entry = this.#byAddr.get(key);
    if (!entry || entry.open === 0) return;
    entry.open--;
    this.#open--;
  }

  /** Forgets addresses with no open connection whose rate bucket has refilled. */
  prune(now: number): void {
    for (const [key, entry] of this.#byAddr) {
      if (entry.open === 0 && (!entry.bucket || entry.bucket.full(now))) this.#byAddr.delete(key);
    }
  }
}

/**
 * Formats a wait for people: tenths of a second below a minute.
 *
 * @example
 * ```ts
 * import { formatWait } from "./rate_limit.ts";
 *
 * formatWait(400); // "0.4 s"
 * formatWait(90_000); // "1.5 min"
 * ```
 */
export function formatWait(ms: number): string {
  // Rounded up, so that a client waiting exactly as long as told is let through.
  if (ms < 60_000) return `${(Math.ceil(Math.max(ms, 1) / 100) / 10).toFixed(1)} s`;
  return `${Math.ceil(ms / 6_000) / 10} min`;
}
