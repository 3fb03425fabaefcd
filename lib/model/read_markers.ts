/**
 * An account's read markers, as a client keeps them: the newest message id read in each
 * conversation, the server's marker there, which markers are due to move, and when the server's
 * unread count is the one to show. The terminal client (lib/client/rooms.ts) and the chat page
 * (lib/web/state.ts) each keep their conversations their own way and use this for the markers.
 *
 * @module
 */

/** Where a read marker stands (a `marker` event, the reply to `mark`, an entry of `markers`). */
export interface Marker {
  /** `#lobby`, a room, or `private` (the account's private messages). */
  target: string;
  /** The newest message id read there. */
  msgId: number;
  /** How many messages follow it on the server. */
  unread: number;
}

/**
 * A `marker` frame (or a `mark` reply, or an entry of `markers`) from the network as a
 * {@linkcode Marker}, or `null` when a field is missing or not what it should be.
 *
 * @example
 * ```ts
 * import { markerOf } from "./read_markers.ts";
 *
 * markerOf({ type: "marker", target: "#dev", msgId: 12, unread: 3 }); // { target: "#dev", msgId: 12, unread: 3 }
 * markerOf({ target: "#dev", msgId: -1, unread: 0 }); // null
 * ```
 */
export function markerOf(f: unknown): Marker | null {
  const m = f as Record<string, unknown> | null;
  if (m === null || typeof m !== "object" || typeof m.target !== "string") return null;
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!count(m.msgId) || !count(m.unread)) return null;
  return { target: m.target, msgId: m.msgId, unread: m.unread };
}

/** What the markers need of the conversations a client keeps, each by a key of the client's. */
export interface MarkedConversations {
  /** Whether `key` is kept (a room joined, a conversation shown); markers of others are ignored. */
  has(key: string): boolean;
  /** Whether the user is reading `key` now: its count is the client's, not the server's. */
  reading(key: string): boolean;
  /** Sets `key`'s unread count to the server's; returns whether it changed. */
  setUnread(key: string, count: number): boolean;
}

/**
 * The markers of one connection's account.
 *
 * @example
 * ```ts
 * import { ReadMarkers } from "./read_markers.ts";
 *
 * const unread = new Map<string, number>();
 * const markers = new ReadMarkers({
 *   has: (key) => key === "#dev",
 *   reading: () => false,
 *   setUnread(key, n) {
 *     const was = unread.get(key);
 *     unread.set(key, n);
 *     return was !== n;
 *   },
 * });
 * markers.seed("#dev", { target: "#dev", msgId: 10, unread: 4 }); // count 4
 * markers.readUpTo("#dev", 14);
 * markers.takeDue(); // [{ key: "#dev", msgId: 14 }]: send `mark`
 * ```
 */
export class ReadMarkers {
  /** By key: the newest message id the user read. */
  readonly #read = new Map<string, number>();
  /** By key: the account's marker as the server last said (or as sent since). */
  readonly #marked = new Map<string, number>();

  constructor(readonly conversations: MarkedConversations) {}

  /** Notes `key` read up to `msgId` (reading only moves forward). */
  readUpTo(key: string, msgId: number): void {
    if (msgId > (this.#read.get(key) ?? 0)) this.#read.set(key, msgId);
  }

  /**
   * Takes the server's marker of `key` as it is (the reply to `markers`, after a welcome or a
   * login: a mark lost to a drop is then due again) and its count, unless this client knows
   * better. Returns whether a count changed.
   */
  seed(key: string, marker: Marker): boolean {
    if (!this.conversations.has(key)) return false;
    this.#marked.set(key, marker.msgId);
    return this.#takeCount(key, marker);
  }

  /**
   * Follows a marker that moved (another connection of the account read, or this one's `mark`
   * was answered): the count becomes the server's. Returns whether it changed.
   */
  follow(key: string, marker: Marker): boolean {
    if (!this.conversations.has(key)) return false;
    this.#marked.set(key, Math.max(this.#marked.get(key) ?? 0, marker.msgId));
    return this.#takeCount(key, marker);
  }

  /** Whether a kept conversation was read further than its marker. */
  get due(): boolean {
    for (const [key, msgId] of this.#read) {
      if (msgId > (this.#marked.get(key) ?? 0) && this.conversations.has(key)) return true;
    }
    return false;
  }

  /**
   * The markers to move: kept conversations read further than their marker. Each is taken as
   * sent (a marker only moves forward, so sending one twice does no harm; a lost one is due again
   * after the next {@linkcode seed}).
   */
  takeDue(): { key: string; msgId: number }[] {
    const due: { key: string; msgId: number }[] = [];
    for (const [key, msgId] of this.#read) {
      if (msgId <= (this.#marked.get(key) ?? 0) || !this.conversations.has(key)) continue;
      this.#marked.set(key, msgId);
      due.push({ key, msgId });
    }
    return due;
  }

  /** Forgets `key` (a room left). */
  forget(key: string): void {
    this.#read.delete(key);
    this.#marked.delete(key);
  }

  /** Forgets the server's markers (a new connection may be another account's): asked again. */
  clearMarked(): void {
    this.#marked.clear();
  }

  #takeCount(key: string, marker: Marker): boolean {
    // One being read is the client's to count; one read past this marker has a `mark` on its
    // way, whose reply brings the count that holds.
    if (this.conversations.reading(key) || (this.#read.get(key) ?? 0) > marker.msgId) return false;
    return this.conversations.setUnread(key, marker.unread);
  }
}
