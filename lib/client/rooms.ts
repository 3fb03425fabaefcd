/**
 * The rooms the client is in, which one it is talking in (the current room), and how many
 * messages arrived in each of the others since it last looked (unread counts). Learnt from the
 * welcome's `rooms` snapshot, the replies to the client's own room requests, and room events.
 * A logged-in account's counts come from its read markers on the server (see
 * {@linkcode RoomState.seed} and {@linkcode RoomState.dueMarks}), so every device of the account
 * shows the same numbers; a guest's are counted here only. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { RoomState } from "./rooms.ts";
 *
 * const rooms = new RoomState();
 * rooms.reset({ type: "welcome", rooms: [{ room: "#dev" }] });
 * rooms.apply({ type: "public", room: "#dev", from: "bob", text: "hi" }, "alice");
 * rooms.unread; // [{ room: "#dev", count: 1 }]
 * rooms.switchTo("#dev"); // true: it is one of ours; its count is cleared
 * rooms.current; // "#dev"
 * ```
 * @module
 */

import type { Frame } from "./render.ts";
import { nameKey } from "../shared/names.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import { type Marker, markerOf, ReadMarkers } from "../model/read_markers.ts";

/** The lobby's name: everyone online is in it; the client is in it unless it switched away. */
export const LOBBY = "#lobby";

/** The key under which room names are equal (`#Dev` is `#dev`), as on the server. */
export function roomKey(room: string): string {
  return nameKey(room);
}

/** Whether `room` names the lobby. */
export function isLobby(room: string): boolean {
  return roomKey(room) === LOBBY;
}

/**
 * A typed room argument as the server wants it: trimmed, with the `#` added when left out
 * (`/join dev` is `/join #dev`). The server checks the rest and says what is wrong.
 */
export function roomArg(typed: string): string {
  const room = typed.trim();
  return room.startsWith("#") ? room : `#${room}`;
}

/** The room a message or room event is about: its `room`, the lobby when absent. */
export function roomOf(frame: Frame): string {
  return typeof frame.room === "string" && frame.room !== "" ? safe(frame.room) : LOBBY;
}

/** A room name from the network as display text (no control characters). */
function safe(room: string): string {
  return sanitizeText(room);
}

/** One room's unread count, for the status line. */
export interface Unread {
  room: string;
  count: number;
}

/** A marker to move: the user read `room` up to `msgId`. */
export interface MarkDue {
  room: string;
  msgId: number;
}

/** The rooms joined, the current one, and unread counts. */
export class RoomState {
  /** Rooms joined (the lobby not among them), by key, with their display name. */
  readonly #joined = new Map<string, string>();
  /** Unread counts by room key (the lobby included), in the order they first got one. */
  readonly #unread = new Map<string, Unread>();
  #current = LOBBY;
  /** By room key: the newest message id seen there (lobby included). */
  readonly #newest = new Map<string, number>();
  /** By room key: what the user read (shown while current, or switched to) and the markers. */
  readonly #markers = new ReadMarkers({
    has: (key) => this.isMember(key),
    reading: (key) => this.isCurrent(key),
    setUnread: (key, count) => this.#setUnread(key, count),
  });

  /** The room plain text goes to (display name). */
  get current(): string {
    return this.#current;
  }

  /** Whether the current room is the lobby. */
  get inLobby(): boolean {
    return isLobby(this.#current);
  }

  /** The rooms joined, the lobby not included, in the order they were joined. */
  get joined(): string[] {
    return [...this.#joined.values()];
  }

  /** Rooms with unread messages, in the order they first got one. */
  get unread(): Unread[] {
    return [...this.#unread.values()];
  }

  /** Whether `room` is the current room. */
  isCurrent(room: string): boolean {
    return roomKey(room) === roomKey(this.#current);
  }

  /** Whether the client is in `room` (always true for the lobby). */
  isMember(room: string): boolean {
    return isLobby(room) || this.#joined.has(roomKey(room));
  }

  /**
   * Starts again from a welcome's `rooms` snapshot (at connection, and after each reconnect).
   * The current room stays current if the new connection is still in it; otherwise the lobby.
   * Returns the rooms that were joined before and are not in the snapshot (a guest's rooms end
   * with its connection), so the caller can join them again.
   */
  reset(welcome: Frame): string[] {
    const before = this.joined;
    this.#joined.clear();
    const list = Array.isArray(welcome.rooms) ? welcome.rooms : [];
    for (const r of list) {
      const room = (r as Record<string, unknown> | null)?.room;
      if (typeof room === "string" && !isLobby(room)) this.#joined.set(roomKey(room), safe(room));
    }
    if (!this.isMember(this.#current)) this.#current = LOBBY;
    for (const key of this.#unread.keys()) {
      if (!this.isMember(key)) this.#unread.delete(key);
    }
    // A new connection may be another account's, or a guest's: markers are asked for again.
    this.#markers.clearMarked();
    return before.filter((room) => !this.#joined.has(roomKey(room)));
  }

  /** Notes a room joined (the reply to `join`, or a `joined` event about oneself). */
  join(room: string): void {
    if (!isLobby(room)) this.#joined.set(roomKey(room), safe(room));
  }

  /** Notes a room left (parted, kicked, closed); the lobby becomes current if it was. */
  leave(room: string): void {
    if (isLobby(room)) return;
    const key = roomKey(room);
    for (const map of [this.#joined, this.#unread, this.#newest]) map.delete(key);
    this.#markers.forget(key);
    if (this.isCurrent(room)) this.#current = LOBBY;
  }

  /**
   * Makes `room` (one the client is in, or the lobby) the current room and clears its unread
   * count: what was seen there counts as read. Returns false, changing nothing, for a room the
   * client is not in.
   */
  switchTo(room: string): boolean {
    if (!this.isMember(room)) return false;
    this.#current = isLobby(room) ? LOBBY : this.#joined.get(roomKey(room))!;
    this.#unread.delete(roomKey(room));
    this.#markers.readUpTo(roomKey(room), this.#newest.get(roomKey(room)) ?? 0);
    return true;
  }

  /** The unread count of `room` (0 when none). */
  unreadIn(room: string): number {
    return this.#unread.get(roomKey(room))?.count ?? 0;
  }

  /**
   * Notes `room` read up to `msgId`: a message the server named as the room's newest, which this
   * connection need not have seen (it came while no device of the account was online).
   */
  readUpTo(room: string, msgId: number): void {
    if (!this.isMember(room) || !Number.isSafeInteger(msgId) || msgId <= 0) return;
    this.#saw(roomKey(room), msgId);
    this.#markers.readUpTo(roomKey(room), msgId);
  }

  /**
   * Takes the account's markers (the reply to `markers`, after the welcome or a login) as the
   * unread counts of the rooms they name: the server counted what this connection did not see
   * (messages sent while no device of the account was online). Rooms without a marker keep the
   * count from here. Returns whether a count changed.
   */
  seed(markers: readonly Marker[]): boolean {
    let changed = false;
    for (const m of markers) changed = this.#markers.seed(roomKey(m.target), m) || changed;
    return changed;
  }

  /**
   * Follows a marker that moved (another connection of the account read, or this one's `mark`
   * was answered): the room's unread count becomes the server's. Returns whether it changed.
   */
  follow(marker: Marker): boolean {
    return this.#markers.follow(roomKey(marker.target), marker);
  }

  /**
   * The markers to move: rooms read further than their marker, each taken as sent (see
   * {@linkcode ReadMarkers.takeDue}).
   */
  dueMarks(): MarkDue[] {
    return this.#markers.takeDue().map(({ key, msgId }) => ({ room: this.#display(key), msgId }));
  }

  /** Sets room `key`'s count to the server's; returns whether it changed. */
  #setUnread(key: string, count: number): boolean {
    const entry = this.#unread.get(key);
    if (count === (entry?.count ?? 0)) return false;
    if (count === 0) this.#unread.delete(key);
    else if (entry) entry.count = count;
    else this.#unread.set(key, { room: this.#display(key), count });
    return true;
  }

  /** The display name of joined room (or lobby) `key`. */
  #display(key: string): string {
    return isLobby(key) ? LOBBY : this.#joined.get(key) ?? key;
  }

  /**
   * Follows an incoming event: a message in another room than the current one counts as unread
   * (one's own and the lobby's backlog do not); being joined, kicked or a room closing changes
   * the rooms. Returns whether the status line may have changed.
   */
  apply(frame: Frame, me: string): boolean {
    const room = roomOf(frame);
    const aboutMe = typeof frame.name === "string" && nameKey(frame.name) === nameKey(me);
    if (frame.type === "marker") {
      const marker = markerOf(frame);
      return marker !== null && this.follow(marker);
    }
    if (frame.type === "public") {
      const own = typeof frame.from === "string" && nameKey(frame.from) === nameKey(me);
      // The lobby's backlog at connection is context, not news; a room's is what was missed.
      const news = frame.history !== true || !isLobby(room);
      if (!this.isMember(room)) return false;
      this.#saw(roomKey(room), frame.msgId);
      if (own || !news || this.isCurrent(room)) return false;
      this.#count(room, 1);
      return true;
    }
    if (frame.type !== "room") return false;
    switch (frame.event) {
      case "joined":
        if (!aboutMe) return false;
        this.join(room);
        return true;
      case "kicked":
        if (!aboutMe) return false;
        this.leave(room);
        return true;
      case "closed":
        this.leave(room);
        return true;
      case "unread": {
        // More missed than the login sent: counted too, so the number says what was missed.
        const more = typeof frame.more === "number" && frame.more > 0 ? frame.more : 0;
        if (more === 0 || this.isCurrent(room) || !this.isMember(room)) return false;
        this.#count(room, more);
        return true;
      }
      default:
        return false;
    }
  }

  /** Notes message `msgId` seen in room `key`: read at once when it is the current room. */
  #saw(key: string, msgId: unknown): void {
    if (typeof msgId !== "number" || !Number.isSafeInteger(msgId) || msgId <= 0) return;
    if (msgId > (this.#newest.get(key) ?? 0)) this.#newest.set(key, msgId);
    if (this.isCurrent(key)) this.#markers.readUpTo(key, msgId);
  }

  #count(room: string, n: number): void {
    const key = roomKey(room);
    const entry = this.#unread.get(key) ?? { room: isLobby(room) ? LOBBY : room, count: 0 };
    entry.count += n;
    this.#unread.set(key, entry);
  }
}
