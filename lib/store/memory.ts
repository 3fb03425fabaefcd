/**
 * A {@link ChatStorage} in memory, for tests (the dispatcher's, say): the same
 * semantics as the SQLite store (the contract tests in tests/unit/store/ run against both), with
 * nothing surviving the process.
 *
 * Writes take effect at once for reads (as SQLite's do for its own connection inside a
 * transaction), and are "committed" together on the next macrotask, like SQLite's group commit:
 * {@link MemoryStorage.afterCommit} waiters run then, so a reply that waits for durability waits
 * just as long here.
 *
 * @module
 */

import type { Ban } from "../core/bans.ts";
import type {
  Account,
  ChatStorage,
  HistoryScope,
  InboxMessage,
  SearchScope,
  SearchTerm,
  StoredMessage,
  StoredRoom,
} from "../core/storage.ts";
import { nameKey, nameSkeletons } from "../shared/names.ts";
import { foldForSearch } from "../shared/search_fold.ts";

/** A stored message and the key of its room (undefined: the lobby). */
type Row = StoredMessage & { roomKey?: string };

/** A text's words as the SQLite store's index sees them: folded, split at non-letters. */
function words(text: string): string[] {
  return foldForSearch(text).split(/[^\p{L}\p{N}]+/u).filter((w) => w !== "");
}

/** Whether `have` holds the term's words in a row (its last word as a prefix, if asked). */
function holds(have: string[], term: SearchTerm): boolean {
  const want = words(term.text);
  if (want.length === 0) return false;
  for (let i = 0; i + want.length <= have.length; i++) {
    const ok = want.every((w, j) =>
      term.prefix && j === want.length - 1 ? have[i + j].startsWith(w) : have[i + j] === w
    );
    if (ok) return true;
  }
  return false;
}

/** A stored private message and the accounts of its two sides. */
type PrivateRow = StoredMessage & { to: string; fromKey?: string; toKey?: string };

/**
 * Storage that lives as long as the object.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "./memory.ts";
 *
 * const store = new MemoryStorage();
 * const id = store.reserveIds(1);
 * store.appendPublic({ msgId: id, ts: 0, from: "alice", fromAddr: "127.0.0.1:5000", text: "hi" });
 * store.afterCommit((error) => console.log(error ?? "committed"));
 * ```
 */
export class MemoryStorage implements ChatStorage {
  #nextId = 1;
  /** Public messages in id order (ids are reserved in order, so appends come sorted). */
  readonly #messages: Row[] = [];
  readonly #rooms = new Map<string, StoredRoom>();
  readonly #inboxes = new Map<string, InboxMessage[]>();
  readonly #accounts = new Map<string, Account>();
  readonly #bans = new Map<string, Ban>();
  /** Bot accounts by name key: the display name and the token's digest. */
  readonly #bots = new Map<string, { name: string; digest: Uint8Array }>();
  /** Private messages of accounts, in id order. */
  readonly #private: PrivateRow[] = [];
  /** Read markers by account, then target. */
  readonly #markers = new Map<string, Map<string, number>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: ((error?: Error) => void)[] = [];
  #closed = false;

  reserveIds(count: number): number {
    this.#open();
    const first = this.#nextId;
    this.#nextId += count;
    return first;
  }

  appendPublic(m: StoredMessage): void {
    this.#write();
    const copy: Row = {
      msgId: m.msgId,
      ts: m.ts,
      from: m.from,
      fromAddr: m.fromAddr,
      text: m.text,
    };
    if (m.room !== undefined) copy.roomKey = nameKey(m.room);
    const at = this.#messages.findLastIndex((x) => x.msgId < m.msgId) + 1;
    this.#messages.splice(at, 0, copy);
  }

  appendInbox(m: InboxMessage, recipientKey: string): void {
    this.#write();
    const box = this.#inboxes.get(recipientKey) ?? [];
    box.push({ msgId: m.msgId, ts: m.ts, from: m.from, to: m.to, text: m.text });
    box.sort((a, b) => a.msgId - b.msgId);
    this.#inboxes.set(recipientKey, box);
  }

  afterCommit(callback: (error?: Error) => void): void {
    if (this.#timer === undefined) callback();
    else this.#waiters.push(callback);
  }

  get pending(): boolean {
    return this.#timer !== undefined;
  }

  recentPublic(limit: number, beforeId = Number.MAX_SAFE_INTEGER): StoredMessage[] {
    this.#open();
    if (limit <= 0) return [];
    return this.#page(undefined, limit, beforeId, 0);
  }

  /** The newest `limit` messages of a room (undefined: the lobby) in (afterId, beforeId). */
  #page(roomKey: string | undefined, limit: number, beforeId: number, afterId: number) {
    const out: StoredMessage[] = [];
    for (let i = this.#messages.length - 1; i >= 0 && out.length < limit; i--) {
      const { roomKey: key, ...m } = this.#messages[i];
      if (m.msgId <= afterId) break;
      if (m.msgId < beforeId && key === roomKey) out.push(m);
    }
    return out.reverse();
  }

  rooms(): StoredRoom[] {
    this.#open();
    return [...this.#rooms.values()].map((r) => structuredClone(r));
  }

  putRoom(room: Pick<StoredRoom, "key" | "name" | "topic" | "inviteOnly">): void {
    this.#write();
    const old = this.#rooms.get(room.key);
    this.#rooms.set(room.key, {
      operators: [],
      invites: [],
      members: [],
      ...old,
      key: room.key,
      name: old?.name ?? room.name,
      topic: room.topic,
      inviteOnly: room.inviteOnly,
    });
  }

  deleteRoom(key: string): void {
    this.#write();
    this.#rooms.delete(key);
  }

  deleteRoomHistory(key: string): void {
    this.#write();
    for (let i = this.#messages.length - 1; i >= 0; i--) {
      if (this.#messages[i].roomKey === key) this.#messages.splice(i, 1);
    }
  }

  putRoomMember(roomKey: string, account: string, lastSeen: number): void {
    this.#write();
    const room = this.#rooms.get(roomKey);
    if (!room) return; // as SQLite: a member row of an unknown room is never loaded
    const member = room.members.find((m) => m.account === account);
    if (member) member.lastSeen = lastSeen;
    else room.members.push({ account, lastSeen });
  }

  removeRoomMember(roomKey: string, account: string): void {
    this.#write();
    const room = this.#rooms.get(roomKey);
    if (!room) return;
    room.members = room.members.filter((m) => m.account !== account);
    room.operators = room.operators.filter((a) => a !== account);
  }

  setRoomOperator(roomKey: string, account: string, operator: boolean): void {
    this.#write();
    const room = this.#rooms.get(roomKey);
    if (!room || !room.members.some((m) => m.account === account)) return;
    room.operators = room.operators.filter((a) => a !== account);
    if (operator) room.operators.push(account);
  }

  setRoomInvite(roomKey: string, name: string, invited: boolean): void {
    this.#write();
    const room = this.#rooms.get(roomKey);
    if (!room) return;
    room.invites = room.invites.filter((n) => n !== name);
    if (invited) room.invites.push(name);
  }

  roomMessages(
    roomKey: string,
    limit: number,
    beforeId = Number.MAX_SAFE_INTEGER,
    afterId = 0,
  ): StoredMessage[] {
    this.#open();
    return limit <= 0 ? [] : this.#page(roomKey, limit, beforeId, afterId);
  }

  roomMessageCount(roomKey: string, afterId: number, beforeId = Number.MAX_SAFE_INTEGER): number {
    this.#open();
    return this.#messages.filter((m) =>
      m.roomKey === roomKey && m.msgId > afterId && m.msgId < beforeId
    ).length;
  }

  appendPrivate(m: InboxMessage, fromKey: string | undefined, toKey: string | undefined): void {
    this.#write();
    const row: PrivateRow = {
      msgId: m.msgId,
      ts: m.ts,
      from: m.from,
      fromAddr: "",
      to: m.to,
      text: m.text,
    };
    if (fromKey !== undefined) row.fromKey = fromKey;
    if (toKey !== undefined) row.toKey = toKey;
    const at = this.#private.findLastIndex((x) => x.msgId < m.msgId) + 1;
    this.#private.splice(at, 0, row);
  }

  messagesAfter(scope: HistoryScope, afterId: number, limit: number): StoredMessage[] {
    this.#open();
    return this.#inScope(scope, afterId, limit);
  }

  messagesBefore(
    scope: HistoryScope,
    beforeId: number | undefined,
    limit: number,
  ): StoredMessage[] {
    this.#open();
    if (limit <= 0) return [];
    const below = this.#inScope(scope, 0, Infinity).filter((m) =>
      beforeId === undefined || m.msgId < beforeId
    );
    return below.slice(-limit);
  }

  countAfter(scope: HistoryScope, afterId: number, cap: number): number {
    this.#open();
    return this.#inScope(scope, afterId, cap).length;
  }

  /** Up to `limit` messages of `scope` above `afterId`, oldest first, as SQLite's rows. */
  #inScope(scope: HistoryScope, afterId: number, limit: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    if (scope.kind === "private") {
      for (const { fromKey, toKey, ...m } of this.#private) {
        if (out.length >= limit) break;
        if (m.msgId > afterId && (fromKey === scope.account || toKey === scope.account)) {
          out.push(m);
        }
      }
      return out;
    }
    const roomKey = scope.kind === "room" ? scope.key : undefined;
    for (const { roomKey: key, ...m } of this.#messages) {
      if (out.length >= limit) break;
      if (m.msgId > afterId && key === roomKey) out.push(m);
    }
    return out;
  }

  markers(account: string): { target: string; msgId: number }[] {
    this.#open();
    return [...(this.#markers.get(account) ?? [])].map(([target, msgId]) => ({ target, msgId }));
  }

  putMarker(account: string, target: string, msgId: number): void {
    this.#write();
    const mine = this.#markers.get(account) ?? new Map<string, number>();
    mine.set(target, msgId);
    this.#markers.set(account, mine);
  }

  search(
    terms: SearchTerm[],
    scope: SearchScope,
    beforeId: number,
    limit: number,
  ): StoredMessage[] {
    this.#open();
    if (terms.length === 0) return [];
    const hit = (text: string) => terms.every((t) => holds(words(text), t));
    const out: StoredMessage[] = [];
    for (const { roomKey, ...m } of this.#messages) {
      if (m.msgId >= beforeId || !hit(m.text)) continue;
      if (roomKey === undefined) out.push(m);
      else if (scope.rooms.includes(roomKey)) out.push({ ...m, room: roomKey });
    }
    for (const { fromKey, toKey, ...m } of this.#private) {
      if (scope.account === undefined || m.msgId >= beforeId || !hit(m.text)) continue;
      if (fromKey === scope.account || toKey === scope.account) out.push(m);
    }
    return out.sort((a, b) => b.msgId - a.msgId).slice(0, limit);
  }

  prune(cutoffTs: number, keep: number): number {
    this.#write();
    let deleted = 0;
    for (const rows of [this.#messages, this.#private] as StoredMessage[][]) {
      const before = rows.length;
      const kept = rows.filter((m, i) =>
        m.ts >= cutoffTs && (keep === 0 || i >= rows.length - keep)
      );
      rows.splice(0, rows.length, ...kept);
      deleted += before - kept.length;
    }
    return deleted;
  }

  inbox(recipientKey: string): InboxMessage[] {
    this.#open();
    return (this.#inboxes.get(recipientKey) ?? []).map((m) => ({ ...m }));
  }

  inboxSize(recipientKey: string): number {
    this.#open();
    return this.#inboxes.get(recipientKey)?.length ?? 0;
  }

  removeFromInbox(recipientKey: string, msgIds: number[]): void {
    if (msgIds.length === 0) return;
    this.#write();
    const box = this.#inboxes.get(recipientKey);
    if (!box) return;
    const gone = new Set(msgIds);
    const kept = box.filter((m) => !gone.has(m.msgId));
    if (kept.length === 0) this.#inboxes.delete(recipientKey);
    else this.#inboxes.set(recipientKey, kept);
  }

  /** A registered account whose name has one of these look-alike keys, if any. */
  accountLookingLike(skeletons: string[]): { key: string; name: string } | undefined {
    for (const a of this.#accounts.values()) {
      if (nameSkeletons(a.name).some((k) => skeletons.includes(k))) {
        return { key: a.key, name: a.name };
      }
    }
    return undefined;
  }

  account(key: string): Account | undefined {
    this.#open();
    const a = this.#accounts.get(key);
    return a && { key: a.key, name: a.name, salt: a.salt.slice(), hash: a.hash.slice() };
  }

  putAccount(a: Account): void {
    this.#write();
    // As SQLite's upsert: a replaced account keeps the name it was registered with.
    const name = this.#accounts.get(a.key)?.name ?? a.name;
    this.#accounts.set(a.key, { key: a.key, name, salt: a.salt.slice(), hash: a.hash.slice() });
  }

  /** As the SQLite store's `addBot`: `taken` when an account or another bot has the name. */
  addBot(key: string, name: string, digest: Uint8Array, _now: number): "ok" | "taken" {
    this.#open();
    if (this.#accounts.has(key) || this.#bots.has(key)) return "taken";
    this.#bots.set(key, { name, digest: digest.slice() });
    return "ok";
  }

  /** As the SQLite store's `removeBot`. */
  removeBot(key: string): boolean {
    this.#open();
    return this.#bots.delete(key);
  }

  botName(key: string): string | undefined {
    this.#open();
    return this.#bots.get(key)?.name;
  }

  botByDigest(digest: Uint8Array): { key: string; name: string } | undefined {
    this.#open();
    for (const [key, bot] of this.#bots) {
      if (bot.digest.length === digest.length && bot.digest.every((b, i) => b === digest[i])) {
        return { key, name: bot.name };
      }
    }
    return undefined;
  }

  bans(): Ban[] {
    this.#open();
    return [...this.#bans.values()].map((b) => ({ ...b }));
  }

  putBan(ban: Ban): void {
    this.#write();
    this.#bans.set(ban.target, { ...ban });
  }

  removeBan(target: string): void {
    this.#write();
    this.#bans.delete(target);
  }

  close(): void {
    this.#commit();
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new Error("the storage is closed");
  }

  /** Joins the current group commit, starting one (committed on the next macrotask) if needed. */
  #write(): void {
    this.#open();
    this.#timer ??= setTimeout(() => this.#commit(), 0);
  }

  #commit(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
