/**
 * The embedded store: public history, accounts and the offline inbox in one SQLite file through
 * Deno's built-in `node:sqlite`, so FastIM needs no set-up and no extra dependency.
 *
 * Writes are group-committed: everything appended during one turn of the event loop goes into
 * one transaction, committed on the next macrotask, and whoever must only answer once the data is
 * durable (a sender's acknowledgement) waits with {@link Store.afterCommit}.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
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
import { closeQuietly } from "../shared/close_quietly.ts";
import { foldForSearch } from "../shared/search_fold.ts";

export type { Account, InboxMessage, StoredMessage };

/** A problem with the database file found at start; the message is one line for the user. */
export class StoreError extends Error {
  override name = "StoreError";
}

/**
 * Forward migrations, one per schema version: entry `i` takes a database from version `i` to
 * `i + 1`. Never edit a released entry; append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: public history and the message-id high-water mark.
  `CREATE TABLE messages (
     id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,
     sender TEXT NOT NULL, sender_addr TEXT NOT NULL, text TEXT NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);`,
  // 2: accounts and the offline inbox.
  `CREATE TABLE accounts (
     name_key TEXT PRIMARY KEY, name TEXT NOT NULL,
     salt BLOB NOT NULL, hash BLOB NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE inbox (
     id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, sender TEXT NOT NULL,
     recipient_key TEXT NOT NULL, recipient TEXT NOT NULL, text TEXT NOT NULL);
   CREATE INDEX inbox_by_recipient ON inbox (recipient_key, id);`,
  // 3: operator bans.
  `CREATE TABLE bans (
     target TEXT PRIMARY KEY, kind TEXT NOT NULL, until INTEGER, reason TEXT NOT NULL);`,
  // 4: rooms with registered members; room messages (messages.room is the room key, NULL for
  // the lobby).
  `ALTER TABLE messages ADD COLUMN room TEXT;
   CREATE INDEX messages_by_room ON messages (room, id);
   CREATE TABLE rooms (
     room_key TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL,
     invite_only INTEGER NOT NULL);
   CREATE TABLE room_members (
     room_key TEXT NOT NULL, account_key TEXT NOT NULL, last_seen INTEGER NOT NULL,
     operator INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (room_key, account_key));
   CREATE TABLE room_invites (
     room_key TEXT NOT NULL, name_key TEXT NOT NULL, PRIMARY KEY (room_key, name_key));`,
  // 5: each account's look-alike keys (names.ts nameSkeletons), to refuse names that imitate it.
  // Existing accounts get theirs when the store opens (see fillSkeletons): computing them needs
  // the confusables data, which SQL does not have.
  `CREATE TABLE account_skeletons (
     skeleton TEXT NOT NULL, name_key TEXT NOT NULL, PRIMARY KEY (skeleton, name_key));`,
  // 6: private messages of accounts, for catch-up (sender_key, recipient_key: NULL for a
  // guest), and each account's read markers (target: '#lobby', a room key or 'private').
  `CREATE TABLE private_messages (
     id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, sender TEXT NOT NULL, sender_key TEXT,
     recipient TEXT NOT NULL, recipient_key TEXT, text TEXT NOT NULL);
   CREATE INDEX private_by_sender ON private_messages (sender_key, id);
   CREATE INDEX private_by_recipient ON private_messages (recipient_key, id);
   CREATE TABLE read_markers (
     account_key TEXT NOT NULL, target TEXT NOT NULL, msg_id INTEGER NOT NULL,
     PRIMARY KEY (account_key, target));`,
  // 7: full-text search (FTS5) over public and private messages. The index holds folded text
  // (lib/shared/search_fold.ts: accents and case in every script), written by the store with
  // each message, so it keeps no copy of the text (contentless); deleting a message deletes its
  // entry (triggers). Messages from before this version are indexed when the store opens.
  `CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='', contentless_delete=1,
     tokenize='unicode61 remove_diacritics 0');
   CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
     DELETE FROM messages_fts WHERE rowid = old.id; END;
   CREATE VIRTUAL TABLE private_fts USING fts5(text, content='', contentless_delete=1,
     tokenize='unicode61 remove_diacritics 0');
   CREATE TRIGGER private_fts_delete AFTER DELETE ON private_messages BEGIN
     DELETE FROM private_fts WHERE rowid = old.id; END;
   INSERT INTO meta (key, value) VALUES ('fts_unindexed', 1);`,
  // 8: bot accounts (docs/BOTS.md): a name and the SHA-256 digest of its token, never the token.
  `CREATE TABLE bots (
     name_key TEXT PRIMARY KEY, name TEXT NOT NULL, digest BLOB NOT NULL UNIQUE,
     created INTEGER NOT NULL);`,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` from its `user_version` up to `target`, each step in its own transaction.
 *
 * @example
 * ```ts
 * import { migrate } from "./sqlite.ts";
 * import { DatabaseSync } from "node:sqlite";
 *
 * migrate(new DatabaseSync(":memory:"));
 * ```
 */
export function migrate(db: DatabaseSync, target = SCHEMA_VERSION): void {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `database schema version ${version} is newer than this FastIM understands (${SCHEMA_VERSION}): upgrade FastIM`,
    );
  }
  for (let v = version; v < target; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
}

/**
 * Stores the look-alike keys of every account that has none: those registered before schema
 * version 4. Cheap when there are none: one indexed query.
 */
export function fillSkeletons(db: DatabaseSync): void {
  const missing = db.prepare(
    `SELECT name_key AS key, name FROM accounts
     WHERE name_key NOT IN (SELECT name_key FROM account_skeletons)`,
  ).all() as { key: string; name: string }[];
  if (missing.length === 0) return;
  const insert = db.prepare(
    "INSERT OR IGNORE INTO account_skeletons (skeleton, name_key) VALUES (?, ?)",
  );
  db.exec("BEGIN IMMEDIATE");
  for (const { key, name } of missing) {
    for (const skeleton of nameSkeletons(name)) insert.run(skeleton, key);
  }
  db.exec("COMMIT");
}

/**
 * Indexes for search the messages stored before schema version 7 (once: the migration leaves a
 * mark in `meta`), folded as the store folds every new one.
 */
export function fillSearchIndex(db: DatabaseSync): void {
  const mark = db.prepare("SELECT value FROM meta WHERE key = 'fts_unindexed'").get();
  if (!mark) return;
  const fold = (sql: string, into: string) => {
    const insert = db.prepare(`INSERT INTO ${into} (rowid, text) VALUES (?, ?)`);
    for (const row of db.prepare(sql).iterate() as Iterable<{ id: number; text: string }>) {
      insert.run(row.id, foldForSearch(row.text));
    }
  };
  db.exec("BEGIN IMMEDIATE");
  fold("SELECT id, text FROM messages", "messages_fts");
  fold("SELECT id, text FROM private_messages", "private_fts");
  db.exec("DELETE FROM meta WHERE key = 'fts_unindexed'");
  db.exec("COMMIT");
}

/** The schema version recorded in the file. */
export function userVersion(db: DatabaseSync): number {
  return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
}

/**
 * FastIM's database.
 *
 * @example
 * ```ts
 * import { Store } from "./sqlite.ts";
 *
 * const store = Store.open("fastim.db");
 * store.appendPublic({ msgId: 1, ts: Date.now(), from: "alice", fromAddr: "1.2.3.4:5", text: "hi" });
 * store.afterCommit((err) => console.log(err ?? "durable"));
 * ```
 */
export class Store implements ChatStorage {
  readonly #db: DatabaseSync;
  readonly #insertMessage: StatementSync;
  readonly #insertInbox: StatementSync;
  readonly #selectAccount: StatementSync;
  /** Statements prepared once per SQL text, not once per call. */
  readonly #statements = new Map<string, StatementSync>();
  #inTransaction = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: ((error?: Error) => void)[] = [];
  /** Called when a group commit fails, for the log. */
  onCommitError: (error: Error) => void = () => {};
  /** Called after each group commit with how long the COMMIT took (ms), for `/metrics`. */
  onCommitted: (ms: number) => void = () => {};

  private constructor(db: DatabaseSync, readonly path: string) {
    this.#db = db;
    this.#insertMessage = db.prepare(
      "INSERT INTO messages (id, ts, sender, sender_addr, text, room) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#insertInbox = db.prepare(
      "INSERT INTO inbox (id, ts, sender, recipient_key, recipient, text) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#selectAccount = db.prepare(
      "SELECT name_key AS key, name, salt, hash FROM accounts WHERE name_key = ?",
    );
  }

  /**
   * Opens (creating if needed) and migrates the database at `path` (`:memory:` for none), and
   * proves it writable; throws {@link StoreError} with a clear line when it cannot.
   */
  static open(path: string): Store {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 5000");
      if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
      // FULL: a committed (so acknowledged) message survives a crash of the machine, not only of
      // the process. Group commit keeps this to one sync per event-loop turn.
      db.exec("PRAGMA synchronous = FULL");
      migrate(db);
      fillSkeletons(db);
      fillSearchIndex(db);
      // Prove we can write now rather than fail on the first message.
      db.exec("BEGIN IMMEDIATE");
      db.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('next_id', 1)");
      // Rooms of guests only were never stored, and end with the process: so does their history.
      db.exec(
        "DELETE FROM messages WHERE room IS NOT NULL AND room NOT IN (SELECT room_key FROM rooms)",
      );
      db.exec("COMMIT");
      return new Store(db, path);
    } catch (e) {
      closeQuietly(db);
      if (e instanceof StoreError) throw e;
      throw new StoreError(describeOpenError(path, e));
    }
  }

  /**
   * Reserves `count` message ids and returns the first. The reservation is committed at once, so
   * ids are never reused after a restart, even for events that are not stored.
   */
  reserveIds(count: number): number {
    this.#commit(); // the reservation must be durable on its own, before any id is used
    const row = this.#sql(
      "UPDATE meta SET value = value + ? WHERE key = 'next_id' RETURNING value - ? AS first",
    ).get(count, count) as { first: number };
    return Number(row.first);
  }

  /** Queues a public message for the current group commit. */
  appendPublic(m: StoredMessage): void {
    this.#begin();
    const room = m.room === undefined ? null : nameKey(m.room);
    this.#insertMessage.run(m.msgId, m.ts, m.from, m.fromAddr, m.text, room);
    this.#sql("INSERT INTO messages_fts (rowid, text) VALUES (?, ?)")
      .run(m.msgId, foldForSearch(m.text));
  }

  /** Queues a private message for an offline registered user. */
  appendInbox(m: InboxMessage, recipientKey: string): void {
    this.#begin();
    this.#insertInbox.run(m.msgId, m.ts, m.from, recipientKey, m.to, m.text);
  }

  /**
   * Calls `callback` once everything queued so far is committed (with the error if the commit
   * failed); at once when nothing is pending.
   */
  afterCommit(callback: (error?: Error) => void): void {
    if (!this.#inTransaction) callback();
    else this.#waiters.push(callback);
  }

  /** Whether writes are waiting for the group commit. */
  get pending(): boolean {
    return this.#inTransaction;
  }

  /** Up to `limit` public messages before `beforeId` (newest if absent), oldest first. */
  recentPublic(limit: number, beforeId = Number.MAX_SAFE_INTEGER): StoredMessage[] {
    if (limit <= 0) return [];
    const rows = this.#sql(
      `SELECT id AS msgId, ts, sender AS "from", sender_addr AS fromAddr, text
       FROM messages WHERE room IS NULL AND id < ? ORDER BY id DESC LIMIT ?`,
    ).all(beforeId, limit) as unknown as StoredMessage[];
    return rows.reverse().map((r) => ({ ...r }));
  }

  /** Every stored room with its members, operators and invites. */
  rooms(): StoredRoom[] {
    const rooms = new Map<string, StoredRoom>();
    const rows = this.#sql("SELECT room_key, name, topic, invite_only FROM rooms").all() as {
      room_key: string;
      name: string;
      topic: string;
      invite_only: number;
    }[];
    for (const r of rows) {
      rooms.set(r.room_key, {
        key: r.room_key,
        name: r.name,
        topic: r.topic,
        inviteOnly: Number(r.invite_only) !== 0,
        operators: [],
        invites: [],
        members: [],
      });
    }
    const members = this.#sql(
      "SELECT room_key, account_key, last_seen, operator FROM room_members",
    ).all() as { room_key: string; account_key: string; last_seen: number; operator: number }[];
    for (const m of members) {
      const room = rooms.get(m.room_key);
      if (!room) continue;
      room.members.push({ account: m.account_key, lastSeen: Number(m.last_seen) });
      if (Number(m.operator) !== 0) room.operators.push(m.account_key);
    }
    const invites = this.#sql("SELECT room_key, name_key FROM room_invites").all() as {
      room_key: string;
      name_key: string;
    }[];
    for (const i of invites) rooms.get(i.room_key)?.invites.push(i.name_key);
    return [...rooms.values()];
  }

  /** Creates or updates a room's own fields (in the current group commit). */
  putRoom(room: Pick<StoredRoom, "key" | "name" | "topic" | "inviteOnly">): void {
    this.#begin();
    this.#sql(
      `INSERT INTO rooms (room_key, name, topic, invite_only) VALUES (?, ?, ?, ?)
       ON CONFLICT (room_key) DO UPDATE SET topic = excluded.topic,
         invite_only = excluded.invite_only`,
    ).run(room.key, room.name, room.topic, room.inviteOnly ? 1 : 0);
  }

  /** Forgets a room, its members and invites (in the current group commit). */
  deleteRoom(key: string): void {
    this.#begin();
    this.#sql("DELETE FROM rooms WHERE room_key = ?").run(key);
    this.#sql("DELETE FROM room_members WHERE room_key = ?").run(key);
    this.#sql("DELETE FROM room_invites WHERE room_key = ?").run(key);
  }

  /** Forgets a room's messages (in the current group commit). */
  deleteRoomHistory(key: string): void {
    this.#begin();
    this.#sql("DELETE FROM messages WHERE room = ?").run(key);
  }

  /** Adds a registered member, or updates what it last saw. */
  putRoomMember(roomKey: string, account: string, lastSeen: number): void {
    this.#begin();
    this.#sql(
      `INSERT INTO room_members (room_key, account_key, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (room_key, account_key) DO UPDATE SET last_seen = excluded.last_seen`,
    ).run(roomKey, account, lastSeen);
  }

  removeRoomMember(roomKey: string, account: string): void {
    this.#begin();
    this.#sql("DELETE FROM room_members WHERE room_key = ? AND account_key = ?")
      .run(roomKey, account);
  }

  setRoomOperator(roomKey: string, account: string, operator: boolean): void {
    this.#begin();
    this.#sql("UPDATE room_members SET operator = ? WHERE room_key = ? AND account_key = ?")
      .run(operator ? 1 : 0, roomKey, account);
  }

  setRoomInvite(roomKey: string, name: string, invited: boolean): void {
    this.#begin();
    this.#sql(
      invited
        ? "INSERT OR IGNORE INTO room_invites (room_key, name_key) VALUES (?, ?)"
        : "DELETE FROM room_invites WHERE room_key = ? AND name_key = ?",
    ).run(roomKey, name);
  }

  /** The newest `limit` messages of a room with ids in (`afterId`, `beforeId`), oldest first. */
  roomMessages(
    roomKey: string,
    limit: number,
    beforeId = Number.MAX_SAFE_INTEGER,
    afterId = 0,
  ): StoredMessage[] {
    if (limit <= 0) return [];
    const rows = this.#sql(
      `SELECT id AS msgId, ts, sender AS "from", sender_addr AS fromAddr, text
       FROM messages WHERE room = ? AND id < ? AND id > ? ORDER BY id DESC LIMIT ?`,
    ).all(roomKey, beforeId, afterId, limit) as unknown as StoredMessage[];
    return rows.reverse().map((r) => ({ ...r }));
  }

  /** How many messages of a room have ids in (`afterId`, `beforeId`). */
  roomMessageCount(roomKey: string, afterId: number, beforeId = Number.MAX_SAFE_INTEGER): number {
    const row = this.#sql(
      "SELECT count(*) AS n FROM messages WHERE room = ? AND id > ? AND id < ?",
    ).get(roomKey, afterId, beforeId) as { n: number };
    return Number(row.n);
  }

  /** Queues a private message of an account for history (in the current group commit). */
  appendPrivate(m: InboxMessage, fromKey: string | undefined, toKey: string | undefined): void {
    this.#begin();
    this.#sql(
      `INSERT INTO private_messages (id, ts, sender, sender_key, recipient, recipient_key, text)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(m.msgId, m.ts, m.from, fromKey ?? null, m.to, toKey ?? null, m.text);
    this.#sql("INSERT INTO private_fts (rowid, text) VALUES (?, ?)")
      .run(m.msgId, foldForSearch(m.text));
  }

  /** Up to `limit` messages of `scope` with ids above `afterId`, oldest first. */
  messagesAfter(scope: HistoryScope, afterId: number, limit: number): StoredMessage[] {
    if (limit <= 0) return [];
    const [sql, args] = scopeSelect(scope, "id > :after");
    const rows = this.#sql(`${sql} ORDER BY msgId LIMIT :limit`)
      .all({ ...args, after: afterId, limit }) as unknown as StoredMessage[];
    return rows.map((r) => ({ ...r }));
  }

  /** The newest `limit` messages of `scope` below `beforeId`, oldest first. */
  messagesBefore(
    scope: HistoryScope,
    beforeId: number | undefined,
    limit: number,
  ): StoredMessage[] {
    if (limit <= 0) return [];
    const [sql, args] = scopeSelect(scope, "id < :before");
    const rows = this.#sql(`${sql} ORDER BY msgId DESC LIMIT :limit`)
      .all({
        ...args,
        before: beforeId ?? Number.MAX_SAFE_INTEGER,
        limit,
      }) as unknown as StoredMessage[];
    return rows.reverse().map((r) => ({ ...r }));
  }

  /** How many messages of `scope` have ids above `afterId`, counting no further than `cap`. */
  countAfter(scope: HistoryScope, afterId: number, cap: number): number {
    const [sql, args] = scopeSelect(scope, "id > :after");
    const row = this.#sql(`SELECT count(*) AS n FROM (${sql} LIMIT :cap)`)
      .get({ ...args, after: afterId, cap }) as { n: number };
    return Number(row.n);
  }

  /** The account's read markers. */
  markers(account: string): { target: string; msgId: number }[] {
    return (this.#sql("SELECT target, msg_id FROM read_markers WHERE account_key = ?")
      .all(account) as { target: string; msg_id: number }[])
      .map((r) => ({ target: r.target, msgId: Number(r.msg_id) }));
  }

  /** Sets a read marker (in the current group commit). */
  putMarker(account: string, target: string, msgId: number): void {
    this.#begin();
    this.#sql(
      `INSERT INTO read_markers (account_key, target, msg_id) VALUES (?, ?, ?)
       ON CONFLICT (account_key, target) DO UPDATE SET msg_id = excluded.msg_id`,
    ).run(account, target, msgId);
  }

  /**
   * Up to `limit` messages in `scope` below `beforeId` holding every term, newest first: FTS5
   * walks its index from the newest id down and stops at `limit`, so a page costs the same
   * however much history there is (docs/BENCHMARKS.md).
   */
  search(
    terms: SearchTerm[],
    scope: SearchScope,
    beforeId: number,
    limit: number,
  ): StoredMessage[] {
    if (terms.length === 0 || limit <= 0) return [];
    const q = ftsQuery(terms);
    const found = this.#sql(
      `SELECT m.id AS msgId, m.ts, m.sender AS "from", m.sender_addr AS fromAddr, m.text, m.room
       FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
       WHERE messages_fts MATCH :q AND messages_fts.rowid < :before
         AND (m.room IS NULL OR m.room IN (SELECT value FROM json_each(:rooms)))
       ORDER BY messages_fts.rowid DESC LIMIT :limit`,
    ).all({
      q,
      before: beforeId,
      rooms: JSON.stringify(scope.rooms),
      limit,
    }) as unknown as (StoredMessage & { room: string | null })[];
    const out: StoredMessage[] = found.map(({ room, ...m }) => room === null ? m : { ...m, room });
    if (scope.account !== undefined) {
      out.push(
        ...(this.#sql(
          `SELECT p.id AS msgId, p.ts, p.sender AS "from", '' AS fromAddr, p.text,
             p.recipient AS "to"
           FROM private_fts JOIN private_messages p ON p.id = private_fts.rowid
           WHERE private_fts MATCH :q AND private_fts.rowid < :before
             AND (p.sender_key = :account OR p.recipient_key = :account)
           ORDER BY private_fts.rowid DESC LIMIT :limit`,
        ).all({ q, before: beforeId, account: scope.account, limit }) as unknown as StoredMessage[])
          .map((m) => ({ ...m })),
      );
      out.sort((a, b) => b.msgId - a.msgId);
    }
    return out.slice(0, limit);
  }

  /** Deletes messages older than `cutoffTs` and all but the newest `keep`; returns how many. */
  prune(cutoffTs: number, keep: number): number {
    this.#commit(); // a clean-up of its own, not mixed into a group commit that acks messages
    let deleted = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const table of ["messages", "private_messages"]) {
        if (cutoffTs > 0) {
          deleted += Number(this.#sql(`DELETE FROM ${table} WHERE ts < ?`).run(cutoffTs).changes);
        }
        if (keep > 0) {
          // NULL (fewer than `keep` rows) deletes nothing.
          deleted += Number(
            this.#sql(
              `DELETE FROM ${table} WHERE id < (SELECT id FROM ${table} ORDER BY id DESC LIMIT 1 OFFSET ?)`,
            ).run(keep - 1).changes,
          );
        }
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
    return deleted;
  }

  /** The messages waiting for `recipientKey`, oldest first. */
  inbox(recipientKey: string): InboxMessage[] {
    return (this.#sql(
      `SELECT id AS msgId, ts, sender AS "from", recipient AS "to", text
       FROM inbox WHERE recipient_key = ? ORDER BY id`,
    ).all(recipientKey) as unknown as InboxMessage[]).map((r) => ({ ...r }));
  }

  /** How many messages wait for `recipientKey`. */
  inboxSize(recipientKey: string): number {
    const row = this.#sql("SELECT count(*) AS n FROM inbox WHERE recipient_key = ?")
      .get(recipientKey) as { n: number };
    return Number(row.n);
  }

  /** Removes delivered inbox messages; only the recipient's own ids are touched. */
  removeFromInbox(recipientKey: string, msgIds: number[]): void {
    if (msgIds.length === 0) return;
    this.#begin();
    const del = this.#sql("DELETE FROM inbox WHERE recipient_key = ? AND id = ?");
    for (const id of msgIds) del.run(recipientKey, id);
  }

  /** The account registered under a name key. */
  account(key: string): Account | undefined {
    const row = this.#selectAccount.get(key) as Account | undefined;
    return row && { key: row.key, name: row.name, salt: row.salt, hash: row.hash };
  }

  /** Creates or replaces an account (in the current group commit). */
  putAccount(a: Account): void {
    this.#begin();
    this.#sql(
      `INSERT INTO accounts (name_key, name, salt, hash, created) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name_key) DO UPDATE SET salt = excluded.salt, hash = excluded.hash`,
    ).run(a.key, a.name, a.salt, a.hash, Date.now());
    const insert = this.#sql(
      "INSERT OR IGNORE INTO account_skeletons (skeleton, name_key) VALUES (?, ?)",
    );
    for (const skeleton of nameSkeletons(a.name)) insert.run(skeleton, a.key);
  }

  /** A registered account whose name has one of these look-alike keys, if any. */
  accountLookingLike(skeletons: string[]): { key: string; name: string } | undefined {
    const find = this.#sql(
      `SELECT a.name_key AS key, a.name AS name FROM account_skeletons s
       JOIN accounts a ON a.name_key = s.name_key WHERE s.skeleton = ? LIMIT 1`,
    );
    for (const skeleton of skeletons) {
      const row = find.get(skeleton) as { key: string; name: string } | undefined;
      if (row) return { key: row.key, name: row.name };
    }
    return undefined;
  }

  /** Every ban, expired ones included (the ban list drops those). */
  bans(): Ban[] {
    return (this.#sql("SELECT target, kind, until, reason FROM bans")
      .all() as unknown as Ban[])
      .map((b) => ({ ...b, until: b.until === null ? null : Number(b.until) }));
  }

  /** Adds or replaces a ban (in the current group commit). */
  putBan(ban: Ban): void {
    this.#begin();
    this.#sql(
      `INSERT INTO bans (target, kind, until, reason) VALUES (?, ?, ?, ?)
       ON CONFLICT (target) DO UPDATE SET kind = excluded.kind, until = excluded.until,
         reason = excluded.reason`,
    ).run(ban.target, ban.kind, ban.until, ban.reason);
  }

  /** Removes a ban (in the current group commit). */
  removeBan(target: string): void {
    this.#begin();
    this.#sql("DELETE FROM bans WHERE target = ?").run(target);
  }

  /**
   * Adds a bot account, committed at once (the admin command runs without a chat): `taken` when
   * a registered account or another bot already has the name.
   */
  addBot(key: string, name: string, digest: Uint8Array, now: number): "ok" | "taken" {
    const account = this.account(key);
    const bot = this.#db.prepare("SELECT 1 FROM bots WHERE name_key = ?").get(key);
    if (account !== undefined || bot !== undefined) return "taken";
    this.#db.prepare("INSERT INTO bots (name_key, name, digest, created) VALUES (?, ?, ?, ?)")
      .run(key, name, digest, now);
    return "ok";
  }

  /** Removes a bot account and so revokes its token; false when there was no such bot. */
  removeBot(key: string): boolean {
    return Number(this.#db.prepare("DELETE FROM bots WHERE name_key = ?").run(key).changes) > 0;
  }

  /** The display name of the bot with this name key, if any. */
  botName(key: string): string | undefined {
    const row = this.#sql("SELECT name FROM bots WHERE name_key = ?").get(key) as
      | { name: string }
      | undefined;
    return row?.name;
  }

  /** The bot whose token has this digest, if any. */
  botByDigest(digest: Uint8Array): { key: string; name: string } | undefined {
    const row = this.#db.prepare("SELECT name_key AS key, name FROM bots WHERE digest = ?")
      .get(digest) as { key: string; name: string } | undefined;
    return row && { key: row.key, name: row.name };
  }

  /** Commits anything pending and closes the file. */
  close(): void {
    this.#commit();
    this.#db.close();
  }

  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #begin(): void {
    if (this.#inTransaction) return;
    this.#db.exec("BEGIN");
    this.#inTransaction = true;
    // A macrotask runs after every read completed in this turn was handled: one commit for all.
    this.#timer = setTimeout(() => this.#commit(), 0);
  }

  #commit(): void {
    if (!this.#inTransaction) return;
    clearTimeout(this.#timer);
    this.#inTransaction = false;
    let error: Error | undefined;
    const start = performance.now();
    try {
      this.#db.exec("COMMIT");
      this.onCommitted(performance.now() - start);
    } catch (e) {
      error = new Error(`could not save to ${this.path}: ${(e as Error).message}`);
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* the transaction is already gone */ }
      this.onCommitError(error);
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(error);
  }
}

/**
 * An FTS5 query that matches every term as written: each is a quoted string (so `AND`, `-`,
 * `:` or a quote in what the user typed are words, never query syntax), a prefix one with `*`.
 */
function ftsQuery(terms: SearchTerm[]): string {
  return terms
    .map((t) => `"${foldForSearch(t.text).replaceAll('"', '""')}"${t.prefix ? "*" : ""}`)
    .join(" ");
}

const PUBLIC_COLUMNS = `id AS msgId, ts, sender AS "from", sender_addr AS fromAddr, text`;
const PRIVATE_COLUMNS =
  `id AS msgId, ts, sender AS "from", '' AS fromAddr, text, recipient AS "to"`;

/**
 * The SELECT of a scope's messages that pass `filter` (a condition on `id`, with named
 * parameters), as rows shaped like {@link StoredMessage}, and the scope's own parameter. Each
 * half uses an index on (scope, id); the private scope is two indexed halves rather than an OR,
 * which SQLite would answer with a scan.
 */
function scopeSelect(scope: HistoryScope, filter: string): [string, Record<string, string>] {
  switch (scope.kind) {
    case "lobby":
      return [`SELECT ${PUBLIC_COLUMNS} FROM messages WHERE room IS NULL AND ${filter}`, {}];
    case "room":
      return [
        `SELECT ${PUBLIC_COLUMNS} FROM messages WHERE room = :scope AND ${filter}`,
        { scope: scope.key },
      ];
    case "private":
      return [
        `SELECT ${PRIVATE_COLUMNS} FROM private_messages WHERE sender_key = :scope AND ${filter}
         UNION
         SELECT ${PRIVATE_COLUMNS} FROM private_messages WHERE recipient_key = :scope AND ${filter}`,
        { scope: scope.account },
      ];
  }
}

function describeOpenError(path: string, e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  if (/not a database|malformed|corrupt/i.test(message)) {
    return `database ${path} is not a FastIM database or is corrupt (${message}): move it away or choose another --db`;
  }
  const why = whyUnwritable(path);
  if (why) return `cannot create or open database ${path}: ${why}; choose another --db`;
  if (/unable to open|readonly|read-only|permission|not permitted|access/i.test(message)) {
    return `cannot open database ${path} for writing (${message}): check the path and its permissions, or choose another --db`;
  }
  return `cannot open database ${path}: ${message}`;
}

/**
 * Says why `path` cannot hold a database, from what the file system shows, so the user reads the
 * cause rather than SQLite's "unable to open" or Deno's advice to run with `--allow-all` (its
 * answer for files under /proc, /sys and /dev, which no flag should be needed for).
 */
function whyUnwritable(path: string): string | undefined {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const special = /^\/(proc|sys|dev)(\/|$)/.exec(dir);
  if (special) return `/${special[1]} is a kernel file system where no file can be created`;
  try {
    if (Deno.statSync(path).isDirectory) return `${path} is a directory`;
  } catch { /* it does not exist yet, which is fine: look at its directory */ }
  try {
    if (!Deno.statSync(dir).isDirectory) return `${dir} is not a directory`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `the directory ${dir} does not exist`;
    if (e instanceof Deno.errors.PermissionDenied) return `no permission to reach ${dir}`;
  }
  return undefined;
}
