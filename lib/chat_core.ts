/**
 * The chat core: presence, names and routing of public and private messages. It has no sockets,
 * timers or I/O: transports call it with what users asked for and it hands events to each user's
 * {@link Peer}. That keeps it fast, testable on its own, and independent of how users connect.
 *
 * All text and names entering the core are sanitised here, so no transport can forget to.
 *
 * @module
 */

import { type ChatEvent, fail, type PresenceEvent, type Result } from "./events.ts";
import { nameKey, validateName } from "./names.ts";
import { sanitizeText } from "./sanitize.ts";
import { type Peer, User } from "./user.ts";

/** What the core needs from the outside world, injectable for tests. */
export interface CoreOptions {
  /** Milliseconds since the epoch. */
  clock?: () => number;
}

/** A sent message's identity, returned to its sender. */
export interface Sent {
  msgId: number;
  ts: number;
}

/**
 * The chat: who is online under which name, and who receives what.
 *
 * @example
 * ```ts
 * const core = new ChatCore();
 * const alice = core.join({ deliver: (e) => console.log(e) }, "127.0.0.1:5000");
 * core.rename(alice, "alice");
 * core.say(alice, "hello");
 * ```
 */
export class ChatCore {
  readonly #clock: () => number;
  /** Online users in join order; iterated for every broadcast. */
  readonly #users = new Map<number, User>();
  /** Online users by {@link nameKey} of their name. */
  readonly #byName = new Map<string, User>();
  #nextUserId = 1;
  #nextMsgId = 1;

  constructor(options: CoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  /** How many users are online. */
  get size(): number {
    return this.#users.size;
  }

  /** Adds a user named after `addr` and announces it to everyone, the newcomer included. */
  join(peer: Peer, addr: string): User {
    const user = new User(this.#nextUserId++, sanitizeText(addr), peer);
    this.#users.set(user.id, user);
    this.#byName.set(nameKey(user.name), user);
    this.#broadcast(this.#presence("online", user));
    return user;
  }

  /** Removes a user; unless `silent`, announces it to everyone left. Idempotent. */
  leave(user: User, silent = false): void {
    if (!this.#users.delete(user.id)) return;
    this.#byName.delete(nameKey(user.name));
    if (!silent) this.#broadcast(this.#presence("offline", user));
  }

  /** The online users, in join order. */
  who(): User[] {
    return [...this.#users.values()];
  }

  /** Sends `text` to everyone online, the sender included. */
  say(user: User, text: string): Result<Sent> {
    const clean = sanitizeText(text);
    if (clean.trim() === "") return fail("empty_text", "Please input valid content");
    const event: ChatEvent = {
      kind: "public",
      msgId: this.#nextMsgId++,
      ts: this.#clock(),
      from: user.name,
      fromAddr: user.addr,
      text: clean,
      wire: [],
    };
    this.#broadcast(event);
    return { ok: true, msgId: event.msgId, ts: event.ts };
  }

  /** Sends `text` to the online user called `to`. */
  whisper(user: User, to: string, text: string): Result<Sent> {
    const name = sanitizeText(to).trim();
    if (name === "") return fail("receiver_empty", "Please input valid receiver name");
    const clean = sanitizeText(text);
    if (clean.trim() === "") return fail("empty_text", "Please input valid content");
    const receiver = this.#byName.get(nameKey(name));
    if (!receiver) return fail("not_online", "the receiver is not online");
    const event: ChatEvent = {
      kind: "private",
      msgId: this.#nextMsgId++,
      ts: this.#clock(),
      from: user.name,
      fromAddr: user.addr,
      to: receiver.name,
      text: clean,
      wire: [],
    };
    receiver.peer.deliver(event);
    return { ok: true, msgId: event.msgId, ts: event.ts };
  }

  /** Renames `user`, announcing it to everyone else. Names are unique case-insensitively. */
  rename(user: User, requested: string): Result<{ name: string }> {
    const valid = validateName(sanitizeText(requested));
    if (!valid.ok) return fail(valid.error.code, valid.error.message);
    const key = nameKey(valid.name);
    const holder = this.#byName.get(key);
    if (holder && holder !== user) return fail("name_taken", "this name is already used");
    const old = user.name;
    if (old === valid.name) return { ok: true, name: old };
    this.#byName.delete(nameKey(old));
    this.#byName.set(key, user);
    user.name = valid.name;
    const event = this.#presence("renamed", user, old);
    for (const other of this.#users.values()) if (other !== user) other.peer.deliver(event);
    return { ok: true, name: user.name };
  }

  #presence(event: PresenceEvent["event"], user: User, old?: string): PresenceEvent {
    const e: PresenceEvent = {
      kind: "presence",
      msgId: this.#nextMsgId++,
      ts: this.#clock(),
      event,
      name: user.name,
      addr: user.addr,
      wire: [],
    };
    if (old !== undefined) e.old = old;
    return e;
  }

  /**
   * The hot path: one event to every user. It only hands the same event object to each peer,
   * which encodes it at most once per dialect (the event's wire cache) and queues it without
   * awaiting anything, so one slow recipient cannot hold up the loop.
   */
  #broadcast(event: ChatEvent): void {
    for (const user of this.#users.values()) user.peer.deliver(event);
  }
}
