/**
 * Operator bans: by IP address or by name, for a while or for good. Held in memory for the checks
 * on every connection and login, and written through to the store so they survive a restart.
 *
 * @module
 */

import { nameKey } from "../shared/names.ts";

/** One ban. `until` is ms since the epoch, or `null` for a ban without end. */
export interface Ban {
  kind: "ip" | "name";
  /** An IP address, or a {@link nameKey}. */
  target: string;
  until: number | null;
  reason: string;
}

/** Where bans are kept between runs. */
export interface BanStore {
  bans(): Ban[];
  putBan(ban: Ban): void;
  removeBan(target: string): void;
}

/**
 * Tells an IP address from a name: IPv4 dotted quads and anything with a `:` (IPv6) are
 * addresses; names cannot contain `:` and are never all digits and dots.
 *
 * @example
 * ```ts
 * import { banTarget } from "./bans.ts";
 *
 * banTarget("10.0.0.7"); // { kind: "ip", target: "10.0.0.7" }
 * banTarget("Mallory"); // { kind: "name", target: "mallory" }
 * ```
 */
export function banTarget(raw: string): { kind: "ip" | "name"; target: string } {
  const s = raw.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(":")) {
    return { kind: "ip", target: s.toLowerCase().replace(/^\[|\]$/g, "") };
  }
  return { kind: "name", target: nameKey(s) };
}

/**
 * The ban list.
 *
 * @example
 * ```ts
 * import { type Ban, Bans } from "./bans.ts";
 *
 * const kept: Ban[] = []; // any BanStore: SQLite's, or this
 * const bans = new Bans({
 *   bans: () => kept,
 *   putBan: (ban) => kept.push(ban),
 *   removeBan: () => {},
 * });
 * bans.add({ kind: "ip", target: "10.0.0.7", until: null, reason: "spam" });
 * bans.find("ip", "10.0.0.7"); // the ban
 * ```
 */
export class Bans {
  readonly #byTarget = new Map<string, Ban>();

  constructor(readonly store: BanStore, readonly clock: () => number = Date.now) {
    for (const ban of store.bans()) this.#byTarget.set(ban.target, ban);
  }

  /** The ban in force on `target` (an IP or a name key), if any; expired bans are dropped. */
  find(kind: Ban["kind"], target: string): Ban | undefined {
    const ban = this.#byTarget.get(target);
    if (!ban || ban.kind !== kind) return undefined;
    if (ban.until !== null && ban.until <= this.clock()) {
      this.remove(target);
      return undefined;
    }
    return ban;
  }

  /** Adds or replaces a ban. */
  add(ban: Ban): void {
    this.#byTarget.set(ban.target, ban);
    this.store.putBan(ban);
  }

  /** Lifts a ban; returns whether there was one. */
  remove(target: string): boolean {
    if (!this.#byTarget.delete(target)) return false;
    this.store.removeBan(target);
    return true;
  }
}
