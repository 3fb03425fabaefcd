/**
 * The chat core: presence, names, accounts' claims on names, and routing of public and private
 * messages. It has no sockets, timers or I/O: transports call it with what users asked for and it
 * hands events to each user's {@link Peer}; persistence plugs in through {@link CoreOptions}
 * hooks. That keeps it fast, testable on its own, and independent of how users connect.
 *
 * All text and names entering the core are sanitised here, so no transport can forget to.
 *
 * @module
 */

import {
  type ChatEvent,
  fail,
  type PresenceEvent,
  type PrivateEvent,
  type PublicEvent,
  type Result,
} from "../protocol/events.ts";
import { nameKey, validateName } from "../shared/names.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import { type Peer, User } from "./user.ts";
import { type RoomLimits, Rooms } from "./rooms.ts";
import type { RoomStorage } from "./storage.ts";

/** What the core needs from the outside world; every hook is optional. */
export interface CoreOptions {
  /** Milliseconds since the epoch. */
  clock?: () => number;
  /** Reserves `count` message ids and returns the first (default: a counter from 1). */
  reserveIds?: (count: number) => number;
  /** The display name registered under a name key, if that name is registered. */
  registeredName?: (key: string) => string | undefined;
  /** Receives every public message, to store it. */
  onPublic?: (event: PublicEvent) => void;
  /**
   * Receives a private message for an offline registered user, to store it; returns false when
   * the user's inbox is full.
   */
  onOffline?: (event: PrivateEvent, recipientKey: string) => boolean;
  /** Where rooms with registered members are kept (none: rooms live in memory only). */
  roomStore?: RoomStorage;
  roomLimits?: Partial<RoomLimits>;
}

/** A sent message's identity, returned to its sender. */
export interface Sent {
  msgId: number;
  ts: number;
  /** True when the receiver was offline and the message was stored for them. */
  stored?: boolean;
}

/** How many ids to reserve at a time: one store write per this many events. */
const ID_BLOCK = 1000;

/**
 * The chat: who is online under which name, and who receives what.
 *
 * @example
 * ```ts
 * import { ChatCore } from "./chat.ts";
 *
 * const core = new ChatCore();
 * const alice = core.join({ deliver: (e) => console.log(e), kick() {} }, "127.0.0.1:5000");
 * core.rename(alice, "alice");
 * core.say(alice, "hello");
 * ```
 */
export class ChatCore {
  readonly #clock: () => number;
  readonly #reserveIds: (count: number) => number;
  readonly #registeredName: (key: string) => string | undefined;
  readonly #onPublic?: (event: PublicEvent) => void;
  readonly #onOffline?: (event: PrivateEvent, recipientKey: string) => boolean;
  /** Online users in join order; iterated for every broadcast. */
  readonly #users = new Map<number, User>();
  /** Online users by {@link nameKey} of their name. */
  readonly #byName = new Map<string, User>();
  #nextUserId = 1;
  #nextMsgId = 0;
  #idsLeft = 0;
  /** Every room but the lobby (lib/core/rooms.ts). */
  readonly rooms: Rooms;

  constructor(options: CoreOptions = {}) {
    let counter = 1;
    this.#clock = options.clock ?? Date.now;
    this.#reserveIds = options.reserveIds ?? ((n) => (counter += n) - n);
    this.#registeredName = options.registeredName ?? (() => undefined);
    this.#onPublic = options.onPublic;
    this.#onOffline = options.onOffline;
    this.rooms = new Rooms({
      stamp: () => ({ msgId: this.#msgId(), ts: this.#clock() }),
      lastMsgId: () => this.#nextMsgId - 1,
      find: (name) => this.find(name),
      clock: this.#clock,
      onPublic: options.onPublic,
      store: options.roomStore,
      limits: options.roomLimits,
    });
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
    this.#unname(user);
    this.rooms.disconnect(user);
    if (!silent) this.#broadcast(this.#presence("offline", user));
  }

  /** The online users, in join order. */
  who(): User[] {
    return [...this.#users.values()];
  }

  /** The online user called `name` (case-insensitively), if any. */
  find(name: string): User | undefined {
    return this.#byName.get(nameKey(name));
  }

  /** Sends `text` to everyone online, the sender included. */
  say(user: User, text: string): Result<Sent> {
    const clean = sanitizeText(text);
    if (clean.trim() === "") return fail("empty_text");
    const event: PublicEvent = {
      kind: "public",
      msgId: this.#msgId(),
      ts: this.#clock(),
      from: user.name,
      fromAddr: user.addr,
      text: clean,
      wire: [],
    };
    this.#onPublic?.(event);
    this.#broadcast(event);
    return { ok: true, msgId: event.msgId, ts: event.ts };
  }

  /**
   * Sends `text` to the user called `to`: at once when online, stored for later when `to` is a
   * registered name that is offline.
   */
  whisper(user: User, to: string, text: string): Result<Sent> {
    const name = sanitizeText(to).trim();
    if (name === "") return fail("receiver_empty");
    const clean = sanitizeText(text);
    if (clean.trim() === "") return fail("empty_text");
    const key = nameKey(name);
    const receiver = this.#byName.get(key);
    const offlineName = receiver ? undefined : this.#registeredName(key);
    if (!receiver && offlineName === undefined) {
      return fail("not_online");
    }
    const event: PrivateEvent = {
      kind: "private",
      msgId: this.#msgId(),
      ts: this.#clock(),
      from: user.name,
      fromAddr: user.addr,
      to: receiver?.name ?? offlineName!,
      text: clean,
      wire: [],
    };
    if (receiver) {
      receiver.peer.deliver(event);
      return { ok: true, msgId: event.msgId, ts: event.ts };
    }
    if (this.#onOffline && !this.#onOffline(event, key)) {
      return fail("inbox_full", `${event.to}'s offline inbox is full; try again later`);
    }
    return { ok: true, msgId: event.msgId, ts: event.ts, stored: true };
  }

  /**
   * Renames `user`, announcing it to everyone else. Names are unique case-insensitively, and a
   * registered name is only for the user logged in as it.
   */
  rename(user: User, requested: string): Result<{ name: string }> {
    const valid = validateName(sanitizeText(requested));
    if (!valid.ok) return fail(valid.error.code, valid.error.message);
    const key = nameKey(valid.name);
    const holder = this.#byName.get(key);
    if (holder && holder !== user) return fail("name_taken");
    if (user.account !== key && this.#registeredName(key) !== undefined) {
      return fail(
        "name_registered",
        `${valid.name} is registered: log in to use it`,
      );
    }
    // Renaming away from your registered name ends the login, so a name's owner is always
    // whoever holds it (takeovers and name bans find them by name).
    if (user.account !== undefined && user.account !== key) user.account = undefined;
    this.#setName(user, valid.name);
    return { ok: true, name: user.name };
  }

  /**
   * Checks that `user` may register its current name: it must be a chosen name, not the address
   * it was given, and not registered yet. Returns the name key to register under.
   */
  claimable(user: User): Result<{ key: string }> {
    if (user.name === user.addr) {
      return fail("name_required");
    }
    const key = nameKey(user.name);
    if (this.#registeredName(key) !== undefined) {
      return fail("already_registered", `${user.name} is already registered`);
    }
    return { ok: true, key };
  }

  /**
   * Logs `user` in as the account `key` (its password already checked) under the account's
   * `name`. Whoever else is online under that name leaves (announced as usual) and is kicked:
   * the owner may be reconnecting before the server noticed the old connection die.
   */
  signIn(user: User, key: string, name: string): Result<{ name: string }> {
    const holder = this.#byName.get(key);
    if (holder && holder !== user) {
      holder.account = undefined;
      this.leave(holder);
      holder.peer.kick("replaced", "you logged in from another connection");
    }
    user.account = key;
    this.#setName(user, name);
    return { ok: true, name: user.name };
  }

  #setName(user: User, name: string): void {
    const old = user.name;
    if (old === name) return;
    this.#unname(user);
    this.#byName.set(nameKey(name), user);
    user.name = name;
    const event = this.#presence("renamed", user, old);
    for (const other of this.#users.values()) if (other !== user) other.peer.deliver(event);
  }

  /** Frees `user`'s name, unless someone else has taken it over since. */
  #unname(user: User): void {
    const key = nameKey(user.name);
    if (this.#byName.get(key) === user) this.#byName.delete(key);
  }

  #msgId(): number {
    if (this.#idsLeft === 0) {
      this.#nextMsgId = this.#reserveIds(ID_BLOCK);
      this.#idsLeft = ID_BLOCK;
    }
    this.#idsLeft--;
    return this.#nextMsgId++;
  }

  #presence(event: PresenceEvent["event"], user: User, old?: string): PresenceEvent {
    const e: PresenceEvent = {
      kind: "presence",
      msgId: this.#msgId(),
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
