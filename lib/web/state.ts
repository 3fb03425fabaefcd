/**
 * What the page knows: the conversations (the lobby and one per private peer) with their lines in
 * message-id order and their unread counts, who is online, and which message ids were seen, so a
 * message fetched again after a reconnect is never shown twice. A logged-in account's unread
 * counts of the lobby and rooms follow its read markers on the server (`seed`, `follow`,
 * `dueMarks`; the bookkeeping is lib/model/read_markers.ts, shared with the terminal client), so
 * every device of the account shows the same numbers. No DOM here.
 *
 * @module
 */

import { type Marker, ReadMarkers } from "../model/read_markers.ts";

/** One line of a conversation. */
export interface Line {
  /** The server's message id; lines are kept in its order (it increases across the server). */
  msgId: number;
  ts: number;
  /** Who wrote it; empty for a system line (someone came, left, renamed). */
  from: string;
  text: string;
  /** Written by this page's user. */
  own: boolean;
}

/** The lobby's conversation id. */
export const LOBBY = "#lobby";

/** A room's conversation id (room names are case-insensitive). */
export function roomId(room: string): string {
  return room.toLowerCase();
}

/** A private conversation's id for `peer` (names are case-insensitive). */
export function privateId(peer: string): string {
  return "@" + peer.toLowerCase();
}

/** A conversation: the lobby, a room (`#name`) or a private one (`@name`). */
export interface Conversation {
  id: string;
  /** What the list shows: "Lobby", the room's name, or the peer's name. */
  title: string;
  lines: Line[];
  unread: number;
  /** The highest id of a message (not a system line) in it: a reconnect fetches what came after. */
  lastId: number;
  /** False once scroll-back reached its oldest message. */
  olderLeft: boolean;
}

/** Whether conversation `id` is the lobby or a room (public, with history), not a private one. */
export function isPublic(id: string): boolean {
  return id.startsWith("#");
}

/** A marker to move: the user read conversation `target` up to `msgId`. */
export interface MarkDue {
  target: string;
  msgId: number;
}

/**
 * The page's model.
 *
 * @example
 * ```ts
 * import { ChatState, LOBBY } from "./state.ts";
 *
 * const s = new ChatState();
 * s.me = "alice";
 * s.add(LOBBY, { msgId: 5, ts: 0, from: "bob", text: "hi", own: false }); // true
 * s.add(LOBBY, { msgId: 5, ts: 0, from: "bob", text: "hi", own: false }); // false: seen
 * ```
 */
export class ChatState {
  me = "";
  /** Online users by name, with their address. */
  readonly online = new Map<string, string>();
  readonly conversations = new Map<string, Conversation>([
    [LOBBY, { id: LOBBY, title: "Lobby", lines: [], unread: 0, lastId: 0, olderLeft: true }],
  ]);
  active = LOBBY;
  /** Whether the user can see the page (the tab is shown): only then is the open one read. */
  visible = true;
  readonly #seen = new Set<number>();
  /** By public conversation id: what the user read there, and the account's markers. */
  readonly #markers = new ReadMarkers({
    has: (id) => isPublic(id) && this.conversations.has(id),
    reading: (id) => this.#reading(id),
    setUnread: (id, count) => {
      const c = this.conversation(id);
      const changed = c.unread !== count;
      c.unread = count;
      return changed;
    },
  });

  /** The conversation `id`, created for a private peer when missing. */
  conversation(id: string, title = id.slice(1)): Conversation {
    let c = this.conversations.get(id);
    if (!c) {
      c = { id, title, lines: [], unread: 0, lastId: 0, olderLeft: true };
      this.conversations.set(id, c);
    }
    return c;
  }

  /**
   * Adds `line` to conversation `id` in message-id order; false when that message id was seen
   * already. Counts it unread unless it is the open conversation's, or the user's own, or `quiet`.
   */
  add(id: string, line: Line, quiet = false): boolean {
    if (this.#seen.has(line.msgId)) return false;
    this.#seen.add(line.msgId);
    const c = this.conversation(id);
    let i = c.lines.length;
    while (i > 0 && c.lines[i - 1].msgId > line.msgId) i--;
    c.lines.splice(i, 0, line);
    if (line.from !== "") c.lastId = Math.max(c.lastId, line.msgId);
    if (!quiet && !line.own && line.from !== "" && id !== this.active) c.unread++;
    if (line.from !== "" && this.#reading(id)) this.readUpTo(id, line.msgId);
    return true;
  }

  /**
   * Opens conversation `id`: it becomes the one shown, and its unread count is cleared (what
   * it holds is read, once the page is visible).
   */
  open(id: string): Conversation {
    const c = this.conversation(id);
    this.active = id;
    c.unread = 0;
    if (this.#reading(id)) this.readUpTo(id, c.lastId);
    return c;
  }

  /** The tab was shown or hidden; shown, the open conversation is read up to its last line. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.open(this.active);
  }

  /** Notes public conversation `id` read up to message `msgId` (markers only move forward). */
  readUpTo(id: string, msgId: number): void {
    if (!isPublic(id) || !Number.isSafeInteger(msgId) || msgId <= 0) return;
    this.#markers.readUpTo(id, msgId);
  }

  /**
   * Takes the account's markers (the reply to `markers`, after the welcome) as the unread counts
   * of the conversations they name: they count what this page never got (messages sent while no
   * device of the account was online). One without a marker keeps its own count.
   */
  seed(markers: readonly Marker[]): void {
    // Exactly the server's: a mark lost to a drop is due again.
    for (const m of markers) this.#markers.seed(roomId(m.target), m);
  }

  /**
   * Follows a marker that moved (another connection of the account read, or this page's `mark`
   * was answered): the conversation's unread count becomes the server's.
   */
  follow(marker: Marker): void {
    this.#markers.follow(roomId(marker.target), marker);
  }

  /** Whether a conversation was read further than its marker. */
  get marksDue(): boolean {
    return this.#markers.due;
  }

  /** The markers to move, each taken as sent (a marker never moves back, so twice is harmless). */
  dueMarks(): MarkDue[] {
    return this.#markers.takeDue().map(({ key, msgId }) => ({
      target: key === LOBBY ? LOBBY : this.conversation(key).title,
      msgId,
    }));
  }

  /** Whether the user is looking at conversation `id` now. */
  #reading(id: string): boolean {
    return this.visible && id === this.active;
  }

  /** A rename: the online list and the private conversation follow the new name. */
  renamed(old: string, name: string, addr: string): void {
    this.online.delete(old);
    this.online.set(name, addr);
    const from = privateId(old);
    const to = privateId(name);
    const c = this.conversations.get(from);
    if (!c || from === to) {
      if (c) c.title = name;
      return;
    }
    this.conversations.delete(from);
    c.id = to;
    c.title = name;
    this.conversations.set(to, c);
    if (this.active === from) this.active = to;
  }

  /** Forgets conversation `id` (a room left or closed); the lobby opens if it was shown. */
  remove(id: string): void {
    if (id === LOBBY) return;
    this.conversations.delete(id);
    this.#markers.forget(id);
    if (this.active === id) this.active = LOBBY;
  }

  /** Changes the text of the lobby's last system line that says `from`; false if none does. */
  retitle(from: string, to: string): boolean {
    const lines = this.conversation(LOBBY).lines;
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i].from === "" && lines[i].text === from) {
        lines[i] = { ...lines[i], text: to };
        return true;
      }
    }
    return false;
  }

  /** Unread lines over all conversations. */
  get unread(): number {
    let n = 0;
    for (const c of this.conversations.values()) n += c.unread;
    return n;
  }
}
