/**
 * Who may connect to a cluster node: the bans (shared, through the replica) and the per-address
 * limit on open connections counted over the whole cluster. Each node keeps its open connections
 * per address in a Redis hash of its own, `fastim:{NAME}:conns:NODE`, which expires with the
 * node's lease, so a dead node's count goes with it. The rate of new connections and the
 * server-wide cap stay per node (`LocalGate`). Two nodes admitting the same address at the same
 * moment may let it one or two over the limit; while Redis is away, each node counts its own.
 *
 * @module
 */

import type { Gate } from "../server/chat_gateway.ts";
import { LocalGate } from "../server/chat_gateway.ts";
import type { Admission, ConnectionLimits } from "../server/rate_limit.ts";
import type { Bans } from "../core/bans.ts";

/** What the gate needs of its node. */
export interface CountStore {
  /** Open connections from address `key` on every live node. */
  count(key: string): Promise<number>;
  /** Adds `delta` to this node's count for `key`. */
  add(key: string, delta: number): Promise<void>;
}

/**
 * A cluster node's gate.
 *
 * @example
 * ```ts
 * import { ClusterGate } from "./gate.ts";
 * import { Bans } from "../core/bans.ts";
 *
 * const counts = new Map<string, number>();
 * const gate = new ClusterGate(new Bans({ bans: () => [], putBan() {}, removeBan() {} }), {
 *   maxConns: 100, maxConnsPerIp: 2, connsPerMinute: 0,
 * }, {
 *   count: (key) => Promise.resolve(counts.get(key) ?? 0),
 *   add: (key, d) => Promise.resolve(void counts.set(key, (counts.get(key) ?? 0) + d)),
 * });
 * const admission = await gate.admit("10.0.0.1", Date.now());
 * ```
 */
export class ClusterGate implements Gate {
  readonly #local: LocalGate;

  constructor(
    bans: Bans,
    readonly limits: ConnectionLimits,
    readonly counts: CountStore,
  ) {
    this.#local = new LocalGate(bans, limits);
  }

  async admit(ip: string, now: number): Promise<Admission> {
    const local = this.#local.admit(ip, now);
    if (!local.ok || this.limits.maxConnsPerIp <= 0) return local;
    try {
      if (await this.counts.count(local.key) >= this.limits.maxConnsPerIp) {
        this.#local.release(local.key);
        return {
          ok: false,
          reason: "too_many_conns",
          message:
            `too many connections from your address: at most ${this.limits.maxConnsPerIp} at once`,
        };
      }
      await this.counts.add(local.key, 1);
    } catch { /* Redis away: this node's own count (above) still holds */ }
    return local;
  }

  release(key: string): void {
    this.#local.release(key);
    if (this.limits.maxConnsPerIp > 0) this.counts.add(key, -1).catch(() => {});
  }

  prune(now: number): void {
    this.#local.prune(now);
  }
}
