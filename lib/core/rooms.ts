/**
 * Rooms: named channels inside the chat, each with its members, topic, operators and invites.
 * The lobby (`#lobby`) is the room everyone is in; it lives in {@link ChatCore} as before and is
 * not kept here. A room's membership belongs to an account for a registered user (kept in the
 * store, rejoined at login) and to its one connection for a guest (gone when it disconnects).
 *
 * Pure like the rest of the core: time and message ids come from the core, persistence through
 * {@link RoomStorage}.
 *
 * @module
 */

import { deliverMarked } from "./mentions.ts";
import {
  type ChatEvent,
  fail,
  type PublicEvent,
  type Result,
  type RoomEvent,
} from "../protocol/events.ts";
import type { RoomInfo } from "../protocol/requests.ts";
import { nameKey, validateName } from "../shared/names.ts";
import { sanitizeText } from "../shared/sanitize.ts";
import type { RoomStorage, StoredMessage, StoredRoom } from "./storage.ts";
import type { User } from "./user.ts";

/** The lobby's name: everyone is in it, nobody can create, part or close it. */
export const LOBBY = "#lobby";
/** The longest topic, in UTF-16 units after cleaning. */
export const MAX_TOPIC_LENGTH = 300;
/** Room messages a returning member is sent at login, per room; older ones are paged with `history`. */
export const ROOM_BACKLOG = 50;
/** The most rooms one `rooms` reply lists (the most populated first). */
export const MAX_LISTED_ROOMS = 500;

/** The room limits; each has its server flag (lib/server/config.ts). 0 turns one off. */
export interface RoomLimits {
  /** Rooms one user (account, or guest connection) may be in, the lobby not counted. */
  roomsPerUser: number;
  /** Members of one room, offline registered members included. */
  membersPerRoom: number;
  /** Rooms on the server. */
  maxRooms: number;
  /** Rooms one connection may create per minute. */
  createsPerMinute: number;
}

/** The defaults of {@link RoomLimits}. */
export const ROOM_LIMITS: RoomLimits = {
  roomsPerUser: 20,
  membersPerRoom: 10_000,
  maxRooms: 10_000,
  createsPerMinute: 10,
};

/** The key under which room names are unique: like names, case-insensitive. */
export function roomKey(name: string): string {
  return nameKey(name);
}

/**
 * Validates a room name: `#` and then what a user name may be (1–32 letters, digits, `_ - .`).
 *
 * @example
 * ```ts
 * import { validateRoom } from "./rooms.ts";
 *
 * validateRoom("#Dev"); // { ok: true, name: "#Dev" }
 * validateRoom("dev").ok; // false
 * ```
 */
export function validateRoom(raw: string): Result<{ name: string }> {
  const name = sanitizeText(raw).normalize("NFC").trim();
  const usage = "use # and then 1-32 letters, digits, _ - . (like #dev)";
  if (!name.startsWith("#")) return fail("room_invalid", `a room name starts with #: ${usage}`);
  const rest = validateName(name.slice(1));
  if (!rest.ok) {
    return fail("room_invalid", `bad room name ${JSON.stringify(name.slice(0, 40))}: ${usage}`);
  }
  return { ok: true, name: `#${rest.name}` };
}

/** Whether `raw` names the lobby. */
export function isLobby(raw: string): boolean {
  return roomKey(sanitizeText(raw).trim()) === LOBBY;
}

/** One member: an account (all its connections) or a guest's connection. */
interface Member {
  /** The account key, for a registered member. */
  account?: string;
  /** Its connections now online. */
  users: Set<User>;
  /** The newest message id it saw before going offline (registered members). */
  lastSeen: number;
}

/** A room. */
export class Room {
  topic = "";
  inviteOnly = false;
  /**
   * The connections of its members that are online: the hot path iterates this only, so a room
   * message costs nothing per non-member.
   */
  readonly online = new Set<User>();
  /** Members by {@link memberKey}. */
  readonly members = new Map<string, Member>();
  /** Member keys of its operators. */
  readonly operators = new Set<string>();
  /** Name keys invited and not yet joined. */
  readonly invites = new Set<string>();
  /** How many members are registered: a room with any is stored. */
  registered = 0;

  constructor(readonly name: string, readonly key: string) {}
}

/** Who a member is: its account key, or `@` and the connection's id for a guest. */
export function memberKey(user: User): string {
  return user.account ?? `@${user.id}`;
}

/** What rooms need from the core and the outside world. */
export interface RoomsOptions {
  /** A fresh message id and time for an event. */
  stamp: () => { msgId: number; ts: number };
  /** The newest message id issued so far (a member's last seen when it goes offline). */
  lastMsgId: () => number;
  /** The online user of a name. */
  find: (name: string) => User | undefined;
  /** Milliseconds since the epoch, for the creation rate. */
  clock: () => number;
  /** Stores a room message (the lobby's `onPublic`). */
  onPublic?: (event: PublicEvent) => void;
  store?: RoomStorage;
  limits?: Partial<RoomLimits>;
}

/**
 * Every room but the lobby, and who is in which.
 *
 * @example
 * ```ts
 * import { Rooms } from "./rooms.ts";
 * import { ChatCore } from "./chat.ts";
 *
 * const core = new ChatCore();
 * const alice = core.join({ deliver() {}, kick() {} }, "127.0.0.1:5000");
 * let lastId = 0;
 * const rooms = new Rooms({
 *   stamp: () => ({ msgId: ++lastId, ts: Date.now() }),
 *   lastMsgId: () => lastId,
 *   find: (name) => core.find(name),
 *   clock: Date.now,
 * });
 * rooms.join(alice, "#dev", false); // alice creates #dev and is its operator
 * rooms.say(alice, "#dev", "hi");
 * ```
 */
export class Rooms {
  readonly limits: RoomLimits;
  readonly #o: RoomsOptions;
  readonly #rooms = new Map<string, Room>();
  /** The rooms each online connection is in. */
  readonly #byUser = new Map<User, Set<Room>>();
  /** The rooms each registered account is a member of, online or not. */
  readonly #byAccount = new Map<string, Set<Room>>();
  /**
   * The connections logged in as each account (an account may be online from several): a room
   * the account joins takes them all.
   */
  readonly #usersOf = new Map<string, Set<User>>();
  /** The account each of those connections was logged in as when it was recorded. */
  readonly #accountOf = new Map<User, string>();
  /** When each connection created its recent rooms. */
  readonly #created = new WeakMap<User, number[]>();

  constructor(options: RoomsOptions) {
    this.#o = options;
    this.limits = { ...ROOM_LIMITS, ...options.limits };
    for (const stored of options.store?.rooms() ?? []) this.#load(stored);
  }

  /** How many rooms exist (the lobby not counted). */
  get size(): number {
    return this.#rooms.size;
  }

  /** The room called `name`, if it exists. */
  get(name: string): Room | undefined {
    return this.#rooms.get(roomKey(sanitizeText(name).trim()));
  }

  /** The rooms `user` is in. */
  of(user: User): Room[] {
    return [...this.#byUser.get(user) ?? []];
  }

  /** Joins `user` to `raw`, creating it (with `user` as operator) when it does not exist. */
  join(user: User, raw: string, admin: boolean): Result<{ room: Room; already?: boolean }> {
    const valid = validateRoom(raw);
    if (!valid.ok) return valid;
    const key = roomKey(valid.name);
    if (key === LOBBY) return fail("room_reserved", "everyone is in #lobby already");
    let room = this.#rooms.get(key);
    const mine = room?.members.get(memberKey(user));
    if (room && mine) {
      this.#connect(room, mine, user);
      return { ok: true, room, already: true };
    }
    const l = this.limits;
    if (l.roomsPerUser > 0 && this.#count(user) >= l.roomsPerUser) {
      return fail(
        "too_many_rooms",
        `you may be in at most ${l.roomsPerUser} rooms: part one first`,
      );
    }
    if (!room) {
      if (l.maxRooms > 0 && this.#rooms.size >= l.maxRooms) {
        return fail("server_rooms_full", `the server has ${l.maxRooms} rooms, its limit: join one`);
      }
      const wait = this.#creationWait(user);
      if (wait > 0) {
        const s = Math.ceil(wait / 1000);
        return {
          ...fail(
            "rate_limited",
            `slow down: at most ${l.createsPerMinute} new rooms per minute; try again in ${s} s`,
          ),
          retryAfterMs: wait,
        };
      }
      room = new Room(valid.name, key);
      this.#rooms.set(key, room);
      this.#created.get(user)?.push(this.#o.clock()) ?? this.#created.set(user, [this.#o.clock()]);
      this.#add(room, user, true);
    } else {
      const invited = room.invites.has(nameKey(user.name)) ||
        (user.account !== undefined && room.invites.has(user.account));
      if (room.inviteOnly && !invited && !admin) {
        return fail(
          "invite_only",
          `${room.name} is invite-only: ask one of its operators to invite you`,
        );
      }
      if (l.membersPerRoom > 0 && room.members.size >= l.membersPerRoom) {
        return fail("room_full", `${room.name} is full (${l.membersPerRoom} members)`);
      }
      this.#uninvite(room, nameKey(user.name));
      if (user.account !== undefined) this.#uninvite(room, user.account);
      this.#add(room, user, false);
    }
    this.#send(room, this.#event(room, "joined", user.name, { addr: user.addr }));
    return { ok: true, room };
  }

  /** Takes `user`'s membership (all its connections) out of `raw`. */
  part(user: User, raw: string): Result<{ room: Room }> {
    const found = this.#member(user, raw);
    if (!found.ok) return found;
    const { room } = found;
    this.#remove(room, memberKey(user));
    this.#send(room, this.#event(room, "left", user.name, { addr: user.addr }));
    this.#dropIfEmpty(room);
    return { ok: true, room };
  }

  /** Sends `text` to the online members of `raw`, the sender included. */
  say(user: User, raw: string, text: string): Result<{ msgId: number; ts: number }> {
    const found = this.#member(user, raw);
    if (!found.ok) return found;
    const clean = sanitizeText(text);
    if (clean.trim() === "") return fail("empty_text", "Please input valid content");
    const { msgId, ts } = this.#o.stamp();
    const event: PublicEvent = {
      kind: "public",
      msgId,
      ts,
      from: user.name,
      fromAddr: user.addr,
      text: clean,
      room: found.room.name,
      wire: [],
    };
    if (user.bot) event.bot = true;
    this.#o.onPublic?.(event);
    deliverMarked(found.room.online, event); // #send, with mentions marked
    return { ok: true, msgId, ts };
  }

  /** The online members of `raw`, for a member. */
  who(user: User, raw: string): Result<{ room: Room; users: User[] }> {
    const found = this.#member(user, raw);
    if (!found.ok) return found;
    // One entry per member online, by its oldest connection: an account on several connections
    // is one name, as in the lobby's `who`.
    const users: User[] = [];
    for (const member of found.room.members.values()) {
      const first = member.users.values().next();
      if (!first.done) users.push(first.value);
    }
    return { ok: true, room: found.room, users };
  }

  /** Whether `user` is an operator of `room`. */
  isOperator(room: Room, user: User): boolean {
    return room.operators.has(memberKey(user));
  }

  /** Shows (no `text`) or sets `raw`'s topic; setting takes an operator. */
  topic(user: User, raw: string, text?: string): Result<{ room: Room }> {
    if (text === undefined) return this.#visible(user, raw);
    const found = this.#operator(user, raw, false);
    if (!found.ok) return found;
    const clean = sanitizeText(text).trim();
    if (clean.length > MAX_TOPIC_LENGTH) {
      return fail("bad_request", `a topic may be at most ${MAX_TOPIC_LENGTH} characters`);
    }
    const { room } = found;
    room.topic = clean;
    this.#save(room);
    this.#send(room, this.#event(room, "topic", user.name, { text: clean }));
    return found;
  }

  /** Invites `name` to `raw` (an operator's request); tells them if they are online. */
  invite(user: User, raw: string, name: string): Result<{ room: Room; name: string }> {
    const found = this.#operator(user, raw, false);
    if (!found.ok) return found;
    const valid = validateName(sanitizeText(name));
    if (!valid.ok) return fail(valid.error.code, valid.error.message);
    const { room } = found;
    const key = nameKey(valid.name);
    if (!room.invites.has(key)) {
      room.invites.add(key);
      if (room.registered > 0) this.#o.store?.setRoomInvite(room.key, key, true);
    }
    const target = this.#o.find(valid.name);
    if (target) {
      target.deliver(this.#event(room, "invited", target.name, { by: user.name }));
    }
    return { ok: true, room, name: target?.name ?? valid.name };
  }

  /** Takes `name` out of `raw` (an operator's or admin's request), telling the room why. */
  kick(
    user: User,
    raw: string,
    name: string,
    reason: string,
    admin: boolean,
  ): Result<{ room: Room; name: string }> {
    const found = this.#operator(user, raw, admin);
    if (!found.ok) return found;
    const { room } = found;
    const target = this.#find(room, name);
    if (!target) return fail("not_in_room", `${sanitizeText(name).trim()} is not in ${room.name}`);
    const why = sanitizeText(reason).trim();
    this.#send(room, this.#event(room, "kicked", target.name, { by: user.name, text: why }));
    this.#remove(room, target.key);
    this.#dropIfEmpty(room);
    return { ok: true, room, name: target.name };
  }

  /** Makes `raw` invite-only or open (an operator's request). */
  mode(user: User, raw: string, inviteOnly: boolean): Result<{ room: Room }> {
    const found = this.#operator(user, raw, false);
    if (!found.ok) return found;
    const { room } = found;
    room.inviteOnly = inviteOnly;
    this.#save(room);
    this.#send(room, this.#event(room, "mode", user.name, { inviteOnly }));
    return found;
  }

  /** Makes the member `name` an operator of `raw` (an operator's or admin's request). */
  op(user: User, raw: string, name: string, admin: boolean): Result<{ room: Room; name: string }> {
    const found = this.#operator(user, raw, admin);
    if (!found.ok) return found;
    const { room } = found;
    const target = this.#find(room, name);
    if (!target) return fail("not_in_room", `${sanitizeText(name).trim()} is not in ${room.name}`);
    if (!room.operators.has(target.key)) {
      room.operators.add(target.key);
      if (target.account) this.#o.store?.setRoomOperator(room.key, target.account, true);
    }
    this.#send(room, this.#event(room, "op", target.name, { by: user.name }));
    return { ok: true, room, name: target.name };
  }

  /** Closes `raw` for good (an admin's request): every member is out, the store forgets it. */
  close(user: User, raw: string): Result<{ room: Room }> {
    const found = this.#existing(raw);
    if (!found.ok) return found;
    const { room } = found;
    this.#send(room, this.#event(room, "closed", user.name, {}));
    for (const key of [...room.members.keys()]) this.#remove(room, key);
    this.#drop(room);
    return found;
  }

  /** The rooms `user` may see (not invite-only, or a member), the most populated first. */
  list(user: User): RoomInfo[] {
    const key = memberKey(user);
    const visible = [...this.#rooms.values()].filter((r) => !r.inviteOnly || r.members.has(key));
    visible.sort((a, b) => b.members.size - a.members.size || (a.key < b.key ? -1 : 1));
    return visible.slice(0, MAX_LISTED_ROOMS).map((r) => this.info(r, user));
  }

  /** The rooms `user` is in, for its welcome. */
  snapshot(user: User): RoomInfo[] {
    return this.of(user).map((r) => this.info(r, user));
  }

  /** What `rooms` and the welcome say about `room` to `user`. */
  info(room: Room, user: User): RoomInfo {
    const key = memberKey(user);
    return {
      room: room.name,
      topic: room.topic,
      members: room.members.size,
      inviteOnly: room.inviteOnly,
      member: room.members.has(key),
      operator: room.operators.has(key),
    };
  }

  /**
   * A connection went away. A guest's memberships end (announced to the rooms); a registered
   * member stays one, and when its last connection goes, what it last saw is recorded.
   */
  disconnect(user: User): void {
    const account = this.#accountOf.get(user);
    if (account !== undefined) {
      this.#accountOf.delete(user);
      const users = this.#usersOf.get(account);
      users?.delete(user);
      if (users?.size === 0) this.#usersOf.delete(account);
    }
    const rooms = this.#byUser.get(user);
    if (!rooms) return;
    this.#byUser.delete(user);
    for (const room of rooms) {
      room.online.delete(user);
      const entry = this.#membership(room, user);
      if (!entry) continue;
      const [key, member] = entry;
      member.users.delete(user);
      if (member.account === undefined) {
        this.#remove(room, key);
        this.#send(room, this.#event(room, "left", user.name, { addr: user.addr }));
        this.#dropIfEmpty(room);
      } else if (member.users.size === 0) {
        member.lastSeen = this.#o.lastMsgId();
        this.#o.store?.putRoomMember(room.key, member.account, member.lastSeen);
      }
    }
  }

  /**
   * `user` just registered its name: its guest memberships become the account's, so they are
   * stored and survive a reconnect.
   */
  registered(user: User): void {
    const account = user.account;
    if (account === undefined) return;
    let users = this.#usersOf.get(account);
    if (!users) this.#usersOf.set(account, users = new Set());
    users.add(user);
    this.#accountOf.set(user, account);
    for (const room of this.#byUser.get(user) ?? []) {
      const guest = room.members.get(`@${user.id}`);
      if (!guest) continue;
      room.members.delete(`@${user.id}`);
      const op = room.operators.delete(`@${user.id}`);
      const existing = room.members.get(account);
      if (existing) {
        // The account was a member already (offline): this connection joins its membership.
        for (const u of guest.users) existing.users.add(u);
        if (op && !room.operators.has(account)) {
          room.operators.add(account);
          this.#o.store?.setRoomOperator(room.key, account, true);
        }
        continue;
      }
      room.members.set(account, { ...guest, account });
      if (op) room.operators.add(account);
      this.#registeredMember(room, account, op);
    }
  }

  /**
   * `user` just logged in: it rejoins every room of its account (guest memberships it had are
   * handed to the account too). Returns, for each room it was away from, what was said there
   * since (at most {@link ROOM_BACKLOG} messages, then an `unread` event saying how to page
   * back), preceded by its own `joined` line: for the connection only, not announced.
   */
  rejoin(user: User): ChatEvent[] {
    this.registered(user);
    const account = user.account;
    if (account === undefined) return [];
    const events: ChatEvent[] = [];
    for (const room of this.#byAccount.get(account) ?? []) {
      const member = room.members.get(account);
      if (!member || member.users.has(user)) continue;
      const away = member.users.size === 0;
      this.#connect(room, member, user);
      events.push(this.#event(room, "joined", user.name, { addr: user.addr }));
      if (away) events.push(...this.#backlog(room, member.lastSeen));
    }
    return events;
  }

  /** Room messages since `lastSeen`, then a marker when more were missed. */
  #backlog(room: Room, lastSeen: number): ChatEvent[] {
    const store = this.#o.store;
    if (!store) return [];
    const messages = store.roomMessages(room.key, ROOM_BACKLOG, undefined, lastSeen);
    const events: ChatEvent[] = messages.map((m) => roomHistoryEvent(m, room.name));
    if (messages.length === ROOM_BACKLOG) {
      const more = store.roomMessageCount(room.key, lastSeen, messages[0].msgId);
      if (more > 0) {
        events.push(this.#event(room, "unread", "", { more, before: messages[0].msgId }));
      }
    }
    return events;
  }

  /**
   * The membership `user`'s connection is part of, with its key: usually under
   * {@link memberKey}, but renaming away from a registered name ends the login while the
   * membership stays the account's, so then it is looked for by connection.
   */
  #membership(room: Room, user: User): [string, Member] | undefined {
    const key = memberKey(user);
    const member = room.members.get(key);
    if (member?.users.has(user)) return [key, member];
    return [...room.members].find(([, m]) => m.users.has(user));
  }

  #count(user: User): number {
    return user.account !== undefined
      ? this.#byAccount.get(user.account)?.size ?? 0
      : this.#byUser.get(user)?.size ?? 0;
  }

  /** Milliseconds until `user` may create another room (0: now). */
  #creationWait(user: User): number {
    const perMinute = this.limits.createsPerMinute;
    if (perMinute <= 0) return 0;
    const now = this.#o.clock();
    const times = (this.#created.get(user) ?? []).filter((t) => now - t < 60_000);
    this.#created.set(user, times);
    return times.length < perMinute ? 0 : times[0] + 60_000 - now;
  }

  #existing(raw: string): Result<{ room: Room }> {
    const valid = validateRoom(raw);
    if (!valid.ok) return valid;
    if (roomKey(valid.name) === LOBBY) {
      return fail(
        "room_reserved",
        "#lobby is everyone's room: it has no members, topic or operators",
      );
    }
    const room = this.#rooms.get(roomKey(valid.name));
    return room
      ? { ok: true, room }
      : fail("no_such_room", `there is no room ${valid.name}: join|${valid.name} creates it`);
  }

  /** The room, if `user` may know of it (invite-only rooms hide from non-members). */
  #visible(user: User, raw: string): Result<{ room: Room }> {
    const found = this.#existing(raw);
    if (found.ok && found.room.inviteOnly && !found.room.members.has(memberKey(user))) {
      return fail(
        "no_such_room",
        `there is no room ${found.room.name}: join|${found.room.name} creates it`,
      );
    }
    return found;
  }

  #member(user: User, raw: string): Result<{ room: Room }> {
    const found = this.#visible(user, raw);
    if (!found.ok) return found;
    if (!found.room.members.has(memberKey(user))) {
      return fail(
        "not_in_room",
        `you are not in ${found.room.name}: join|${found.room.name} first`,
      );
    }
    return found;
  }

  #operator(user: User, raw: string, admin: boolean): Result<{ room: Room }> {
    const found = admin ? this.#existing(raw) : this.#member(user, raw);
    if (!found.ok || admin || found.room.operators.has(memberKey(user))) return found;
    return fail("not_room_operator", `only an operator of ${found.room.name} may do that`);
  }

  /** The member called `name`: online by name, or a registered member by its account key. */
  #find(room: Room, name: string): { key: string; name: string; account?: string } | undefined {
    const clean = sanitizeText(name).trim();
    const online = this.#o.find(clean);
    if (online) {
      const key = memberKey(online);
      if (room.members.has(key)) return { key, name: online.name, account: online.account };
    }
    const key = nameKey(clean);
    const member = room.members.get(key);
    return member?.account !== undefined ? { key, name: clean, account: key } : undefined;
  }

  #add(room: Room, user: User, operator: boolean): void {
    const key = memberKey(user);
    const member: Member = { account: user.account, users: new Set(), lastSeen: 0 };
    room.members.set(key, member);
    if (operator) room.operators.add(key);
    this.#connect(room, member, user);
    if (user.account === undefined) return;
    // Every connection of the account is in the room, not only the one that asked.
    for (const other of this.#usersOf.get(user.account) ?? []) {
      if (other.account === user.account) this.#connect(room, member, other);
    }
    this.#registeredMember(room, user.account, operator);
  }

  /** Records a registered member (and the room, if it was not stored yet). */
  #registeredMember(room: Room, account: string, operator: boolean): void {
    let rooms = this.#byAccount.get(account);
    if (!rooms) this.#byAccount.set(account, rooms = new Set());
    rooms.add(room);
    const store = this.#o.store;
    if (room.registered++ === 0 && store) {
      // The room becomes durable now: its fields and whatever guests set up before.
      this.#save(room);
      for (const name of room.invites) store.setRoomInvite(room.key, name, true);
    }
    store?.putRoomMember(room.key, account, this.#o.lastMsgId());
    if (operator) store?.setRoomOperator(room.key, account, true);
  }

  /** Puts one connection of `member` in `room`. */
  #connect(room: Room, member: Member, user: User): void {
    member.users.add(user);
    room.online.add(user);
    let rooms = this.#byUser.get(user);
    if (!rooms) this.#byUser.set(user, rooms = new Set());
    rooms.add(room);
  }

  /** Takes the member `key` (all its connections) out of `room`. */
  #remove(room: Room, key: string): void {
    const member = room.members.get(key);
    if (!member) return;
    room.members.delete(key);
    room.operators.delete(key);
    for (const u of member.users) {
      room.online.delete(u);
      this.#byUser.get(u)?.delete(room);
    }
    if (member.account !== undefined) {
      this.#byAccount.get(member.account)?.delete(room);
      room.registered--;
      const store = this.#o.store;
      if (room.registered === 0) store?.deleteRoom(room.key);
      else {
        store?.removeRoomMember(room.key, member.account);
        store?.setRoomOperator(room.key, member.account, false);
      }
    }
  }

  #uninvite(room: Room, key: string): void {
    if (room.invites.delete(key) && room.registered > 0) {
      this.#o.store?.setRoomInvite(room.key, key, false);
    }
  }

  #dropIfEmpty(room: Room): void {
    if (room.members.size === 0) this.#drop(room);
  }

  #drop(room: Room): void {
    this.#rooms.delete(room.key);
    if (room.registered > 0) this.#o.store?.deleteRoom(room.key);
    this.#o.store?.deleteRoomHistory(room.key);
  }

  #save(room: Room): void {
    if (room.registered === 0) return;
    const { key, name, topic, inviteOnly } = room;
    this.#o.store?.putRoom({ key, name, topic, inviteOnly });
  }

  #load(stored: StoredRoom): void {
    const room = new Room(stored.name, stored.key);
    room.topic = stored.topic;
    room.inviteOnly = stored.inviteOnly;
    for (const name of stored.invites) room.invites.add(name);
    for (const m of stored.members) {
      room.members.set(m.account, { account: m.account, users: new Set(), lastSeen: m.lastSeen });
      let rooms = this.#byAccount.get(m.account);
      if (!rooms) this.#byAccount.set(m.account, rooms = new Set());
      rooms.add(room);
    }
    for (const op of stored.operators) if (room.members.has(op)) room.operators.add(op);
    room.registered = stored.members.length;
    if (room.registered > 0) this.#rooms.set(room.key, room);
  }

  #event(
    room: Room,
    event: RoomEvent["event"],
    name: string,
    extra: Partial<Pick<RoomEvent, "addr" | "by" | "text" | "inviteOnly" | "more" | "before">>,
  ): RoomEvent {
    const { msgId, ts } = this.#o.stamp();
    return { kind: "room", msgId, ts, room: room.name, event, name, ...extra, wire: [] };
  }

  /**
   * The hot path: one event to the room's online members only, the same object to each (encoded
   * at most once per dialect through its wire cache), nothing awaited.
   */
  #send(room: Room, event: ChatEvent): void {
    for (const user of room.online) user.deliver(event);
  }
}

/** A stored room message as a history event. */
export function roomHistoryEvent(m: StoredMessage, room: string): PublicEvent {
  return { kind: "public", ...m, room, history: true, wire: [] };
}
