/**
 * The chat core: presence, names, accounts' claims on names, and routing of public and private
 * messages. It has no sockets or I/O: transports call it with what users asked for and it
 * hands events to each user's {@link Peer}; persistence plugs in through {@link CoreOptions}
 * hooks. Its one timer hands out presence announcements that had to wait (a connect storm;
 * lib/core/presence_feed.ts), and {@link CoreOptions.later} replaces it. That keeps it fast, testable on its own, and independent of how users connect.
 *
 * All text and names entering the core are sanitised here, so no transport can forget to.
 *
 * A {@link User} is one connection. A registered account may be online from several connections
 * at once (laptop, phone, scripts; Ergo calls this multiclient): they share one name, each gets
 * what the name receives, and presence is per name: `online` when the first connection takes the
 * name, `offline` when the last one leaves, one entry in `who`. A guest's name has one connection.
 *
 * @module
 */

import {
  fail,
  type PresenceEvent,
  type PrivateEvent,
  type PublicEvent,
  type Result,
} from "../protocol/events.ts";
import { nameKey, nameSkeletons, validateName } from "../shared/names.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import { type Peer, User } from "./user.ts";
import { deliverMarked } from "./mentions.ts";
import { PresenceFeed } from "./presence_feed.ts";
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
  /**
   * A registered account whose name looks like a name with these {@link nameSkeletons} keys:
   * its key and display name, if any.
   */
  registeredLookalike?: (skeletons: string[]) => { key: string; name: string } | undefined;
  /**
   * The display name of the bot account (docs/BOTS.md) with this name key, if there is one: a
   * bot's name is only for the bot, signed in with its token.
   */
  botName?: (key: string) => string | undefined;
  /** Receives every public message, to store it. */
  onPublic?: (event: PublicEvent) => void;
  /**
   * Receives a private message for an offline registered user, to store it; returns false when
   * the user's inbox is full.
   */
  onOffline?: (event: PrivateEvent, recipientKey: string) => boolean;
  /**
   * Receives every private message an account sends or receives, with the accounts of its
   * sender and receiver (undefined for a guest), to keep it for catch-up.
   */
  onPrivate?: (event: PrivateEvent, fromKey?: string, toKey?: string) => void;
  /**
   * Runs `fn` after pending I/O: how presence announcements that wait in a log are handed out
   * in slices (default `setTimeout(fn, 0)`; lib/core/presence_feed.ts).
   */
  later?: (fn: () => void) => void;
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
  readonly #registeredLookalike: CoreOptions["registeredLookalike"];
  readonly #botName: (key: string) => string | undefined;
  readonly #onPublic?: (event: PublicEvent) => void;
  readonly #onOffline?: (event: PrivateEvent, recipientKey: string) => boolean;
  readonly #onPrivate?: CoreOptions["onPrivate"];
  /** Online users in join order; iterated for every broadcast. */
  readonly #users = new Map<number, User>();
  /**
   * The connections holding each name, by {@link nameKey}, oldest first. More than one only for
   * an account online from several connections, all logged in as it.
   */
  readonly #byName = new Map<string, User[]>();
  /** The name keys online under each {@link nameSkeletons} key, to refuse look-alike names. */
  readonly #bySkeleton = new Map<string, Set<string>>();
  #nextUserId = 1;
  #nextMsgId = 0;
  #idsLeft = 0;
  /** Every room but the lobby (lib/core/rooms.ts). */
  readonly rooms: Rooms;
  /** Who comes, goes and renames, announced to everyone (lib/core/presence_feed.ts). */
  readonly #presenceFeed: PresenceFeed;

  constructor(options: CoreOptions = {}) {
    let counter = 1;
    this.#clock = options.clock ?? Date.now;
    this.#reserveIds = options.reserveIds ?? ((n) => (counter += n) - n);
    this.#registeredName = options.registeredName ?? (() => undefined);
    this.#registeredLookalike = options.registeredLookalike;
    this.#botName = options.botName ?? (() => undefined);
    this.#onPublic = options.onPublic;
    this.#onOffline = options.onOffline;
    this.#onPrivate = options.onPrivate;
    this.#presenceFeed = new PresenceFeed({
      users: () => this.#users.values(),
      count: () => this.#users.size,
      clock: this.#clock,
      later: options.later,
    });
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

  /** How many connections are open. */
  get size(): number {
    return this.#users.size;
  }

  /** Adds a user named after `addr` and announces it to everyone, the newcomer included. */
  join(peer: Peer, addr: string): User {
    const user = new User(this.#nextUserId++, sanitizeText(addr), peer);
    // One IP:PORT can be two connections at once (to the chat port and to the HTTP or IRC port:
    // the system reuses a local port towards another destination), and names stay unique.
    for (let n = 2; this.#byName.has(nameKey(user.name)); n++) user.name = `${user.addr}-${n}`;
    return this.add(user);
  }

  /**
   * Adds a user built elsewhere and announces it like {@link join}. A cluster node
   * (lib/cluster/) numbers its users itself, because it hands the connection its `User` before
   * the join has gone round the cluster; it never mixes this with `join`.
   */
  add(user: User): User {
    this.#users.set(user.id, user);
    user.feed = this.#presenceFeed;
    this.#presenceFeed.joined(user);
    this.#hold(user);
    this.#presenceFeed.announce(this.#presence("online", user));
    return user;
  }

  /**
   * Hands `user` the presence announcements still waiting for it. Called before a request of
   * its own is answered, so that the answer (a `who`, say) never overtakes them.
   */
  catchUp(user: User): void {
    this.#presenceFeed.catchUp(user);
  }

  /** Presence announcements waiting in the log for some user (0 while announcing at once). */
  get presencePending(): number {
    return this.#presenceFeed.pending;
  }

  /**
   * Removes a connection; unless `silent`, announces it to everyone left when it was its name's
   * last connection. Idempotent.
   */
  leave(user: User, silent = false): void {
    if (!this.#users.delete(user.id)) return;
    const last = this.#release(user);
    this.rooms.disconnect(user);
    user.feed = undefined;
    if (!silent && last) this.#presenceFeed.announce(this.#presence("offline", user));
  }

  /** The online names, each once (by its oldest connection), in join order. */
  who(): User[] {
    return [...this.#users.values()].filter((u) => this.#byName.get(nameKey(u.name))?.[0] === u);
  }

  /** Every open connection, in join order (an account's several connections each count). */
  connections(): User[] {
    return [...this.#users.values()];
  }

  /** The oldest connection of the name `name` (case-insensitively), if it is online. */
  find(name: string): User | undefined {
    return this.#byName.get(nameKey(name))?.[0];
  }

  /** Every connection holding the name `name` (case-insensitively). */
  findAll(name: string): readonly User[] {
    return this.#byName.get(nameKey(name)) ?? [];
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
    if (user.bot) event.bot = true;
    this.#onPublic?.(event);
    deliverMarked(this.#users.values(), event); // to everyone, with mentions marked
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
    const receivers = this.#byName.get(key);
    const receiver = receivers?.[0];
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
    if (receivers) {
      this.#keepPrivate(event, user.account, receiver!.account);
      for (const r of receivers) r.deliver(event);
      // The sender's other connections see what it sent, as its own echo would show it.
      let echo: PrivateEvent | undefined;
      for (const mine of this.#byName.get(user.key) ?? []) {
        if (mine === user || receivers.includes(mine)) continue;
        mine.deliver(echo ??= { ...event, echo: true, wire: [] });
      }
      return { ok: true, msgId: event.msgId, ts: event.ts };
    }
    if (this.#onOffline && !this.#onOffline(event, key)) {
      return fail("inbox_full", `${event.to}'s offline inbox is full; try again later`);
    }
    this.#keepPrivate(event, user.account, key);
    return { ok: true, msgId: event.msgId, ts: event.ts, stored: true };
  }

  /**
   * Renames `user`, announcing it to everyone else. Names are unique case-insensitively, and a
   * registered name is only for the user logged in as it.
   */
  rename(user: User, requested: string): Result<{ name: string }> {
    const valid = validateName(sanitizeText(requested));
    // A mixed-script name is refused either way; saying which name it imitates is clearer.
    if (!valid.ok && valid.error.code !== "name_mixed_script") {
      return fail(valid.error.code, valid.error.message);
    }
    const name = valid.ok ? valid.name : sanitizeText(requested).normalize("NFC").trim();
    const key = nameKey(name);
    // Before "taken": a registered name's owner, online elsewhere, may log in alongside.
    if (user.account !== key && this.#registeredName(key) !== undefined) {
      return fail("name_registered", `${name} is registered: log in to use it`);
    }
    if (!(user.bot && user.key === key) && this.#botName(key) !== undefined) {
      return fail("name_registered", `${name} is a bot's name: choose another name`);
    }
    const holders = this.#byName.get(key);
    if (holders && holders.some((h) => h !== user)) {
      return fail("name_taken");
    }
    const alike = this.#lookalike(user, name, key);
    if (alike !== undefined) {
      return fail("name_lookalike", `${name} looks too much like ${alike}: choose another name`);
    }
    if (!valid.ok) return fail(valid.error.code, valid.error.message);
    // Renaming away from your registered name ends the login, so a name's owner is always
    // whoever holds it (takeovers and name bans find them by name).
    if (user.account !== undefined && user.account !== key) user.account = undefined;
    this.#setName(user, name);
    return { ok: true, name: user.name };
  }

  /**
   * The name that `name` (key `key`) looks too much like, online (held by another connection)
   * or registered, if any. The same name in another case is not a look-alike: that is the
   * checks on `key`'s business.
   */
  #lookalike(user: User, name: string, key: string): string | undefined {
    const skeletons = nameSkeletons(name);
    for (const skeleton of skeletons) {
      for (const other of this.#bySkeleton.get(skeleton) ?? []) {
        const holder = this.#byName.get(other)?.find((h) => h !== user);
        if (other !== key && holder) return holder.name;
      }
    }
    const registered = this.#registeredLookalike?.(skeletons);
    return registered && registered.key !== key ? registered.name : undefined;
  }

  /**
   * Checks that `user` may register its current name: it must be a chosen name, not the address
   * it was given, and not registered yet. Returns the name key to register under.
   */
  claimable(user: User): Result<{ key: string }> {
    // A given name is the address, or the address and a number (see `join`).
    if (user.name === user.addr || user.name.startsWith(`${user.addr}-`)) {
      return fail("name_required");
    }
    const key = nameKey(user.name);
    if (this.#registeredName(key) !== undefined) {
      return fail("already_registered", `${user.name} is already registered`);
    }
    if (this.#botName(key) !== undefined) {
      return fail("already_registered", `${user.name} is a bot's name`);
    }
    return { ok: true, key };
  }

  /**
   * Logs `user` in as the account `key` (its password already checked) under the account's
   * `name`. When the account is online from other connections, `user` joins them, unless
   * `takeover`: then they are kicked (the owner may be reconnecting before the server noticed
   * the old connection die, or wants a lost device out). A guest somehow holding the name is
   * always kicked.
   */
  signIn(user: User, key: string, name: string, takeover = false): Result<{ name: string }> {
    for (const holder of [...(this.#byName.get(key) ?? [])]) {
      if (holder === user || (holder.account === key && !takeover)) continue;
      holder.account = undefined;
      this.leave(holder);
      holder.peer.kick("replaced", "you logged in from another connection");
    }
    user.account = key;
    this.#setName(user, name);
    return { ok: true, name: user.name };
  }

  /**
   * Signs `user` in as the bot `name` (name key `key`), its token already checked. A bot may be
   * present through several sessions (one per HTTP front thread with --workers): they share the
   * name as an account's connections do. A guest holding the name (taken before the bot was
   * made) is kicked. Kept apart from accounts: a bot has no password, inbox or stored rooms.
   */
  signInBot(user: User, key: string, name: string): Result<{ name: string }> {
    for (const holder of [...(this.#byName.get(key) ?? [])]) {
      if (holder === user || holder.bot) continue;
      holder.account = undefined;
      this.leave(holder);
      holder.peer.kick("replaced", `${name} is a bot's name`);
    }
    user.account = undefined;
    user.bot = true;
    this.#setName(user, name);
    return { ok: true, name: user.name };
  }

  /**
   * Gives `user` the name `name`. Others see it as a rename, or, when the old name stays online
   * through the account's other connections or the new one already was, as the names coming
   * and going that they saw.
   */
  #setName(user: User, name: string): void {
    const old = user.name;
    if (old === name) return;
    const oldLast = this.#release(user);
    user.name = name;
    const newFirst = this.#hold(user);
    const events = oldLast && newFirst ? [this.#presence("renamed", user, old)] : [
      ...(oldLast ? [this.#presence("offline", user, undefined, old)] : []),
      ...(newFirst ? [this.#presence("online", user)] : []),
    ];
    for (const event of events) this.#presenceFeed.announce(event, user);
  }

  /** Adds `user` to its name's connections; true when it is the first. */
  #hold(user: User): boolean {
    const key = nameKey(user.name);
    const holders = this.#byName.get(key);
    if (holders) {
      holders.push(user);
      return false;
    }
    this.#byName.set(key, [user]);
    for (const skeleton of nameSkeletons(user.name)) {
      const keys = this.#bySkeleton.get(skeleton) ?? new Set();
      this.#bySkeleton.set(skeleton, keys.add(key));
    }
    return true;
  }

  /** Removes `user` from its name's connections; true when it was the last. */
  #release(user: User): boolean {
    const key = nameKey(user.name);
    const holders = this.#byName.get(key);
    if (!holders?.includes(user)) return false;
    if (holders.length > 1) {
      holders.splice(holders.indexOf(user), 1);
      return false;
    }
    this.#byName.delete(key);
    for (const skeleton of nameSkeletons(user.name)) {
      const keys = this.#bySkeleton.get(skeleton);
      keys?.delete(key);
      if (keys?.size === 0) this.#bySkeleton.delete(skeleton);
    }
    return true;
  }

  /** Hands a private message to history when an account is on either side of it. */
  #keepPrivate(event: PrivateEvent, fromKey?: string, toKey?: string): void {
    if (fromKey !== undefined || toKey !== undefined) this.#onPrivate?.(event, fromKey, toKey);
  }

  #msgId(): number {
    if (this.#idsLeft === 0) {
      this.#nextMsgId = this.#reserveIds(ID_BLOCK);
      this.#idsLeft = ID_BLOCK;
    }
    this.#idsLeft--;
    return this.#nextMsgId++;
  }

  /** A presence event about `user`, under `name` when it is not the user's current name. */
  #presence(
    event: PresenceEvent["event"],
    user: User,
    old?: string,
    name = user.name,
  ): PresenceEvent {
    const e: PresenceEvent = {
      kind: "presence",
      msgId: this.#msgId(),
      ts: this.#clock(),
      event,
      name,
      addr: user.addr,
      wire: [],
    };
    if (old !== undefined) e.old = old;
    return e;
  }
}
