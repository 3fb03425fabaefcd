/**
 * What the chat needs from persistence: public history, accounts, the offline inbox and bans,
 * committed in groups. The core and the dispatcher see only this interface; `lib/store/` holds
 * its implementations (SQLite today, Redis for a cluster), and tests may use an in-memory one.
 *
 * @module
 */

import type { InboxMessage, StoredMessage } from "../protocol/events.ts";
import type { BanStore } from "./bans.ts";

export type { InboxMessage, StoredMessage };

/** A registered name's credentials. */
export interface Account {
  key: string;
  name: string;
  salt: Uint8Array;
  hash: Uint8Array;
}

/** A room with a registered member, as stored. Guests' memberships are never stored. */
export interface StoredRoom {
  /** The room key (see `roomKey`), `#dev`. */
  key: string;
  /** The display name, `#Dev`. */
  name: string;
  topic: string;
  inviteOnly: boolean;
  /** Account keys of its registered operators. */
  operators: string[];
  /** Name keys invited (invite-only rooms). */
  invites: string[];
  /** Its registered members: account key and the last message id they saw. */
  members: { account: string; lastSeen: number }[];
}

/**
 * What rooms need from storage: rooms with registered members and their history. Writes join the
 * current group commit, like every other write.
 */
export interface RoomStorage {
  /** Every stored room, to load at start. */
  rooms(): StoredRoom[];
  /** Creates or updates a room's own fields. */
  putRoom(room: Pick<StoredRoom, "key" | "name" | "topic" | "inviteOnly">): void;
  /** Forgets a stored room: its fields, members, operators and invites. */
  deleteRoom(key: string): void;
  /** Forgets a room's messages, when the room is gone (a new room of its name starts afresh). */
  deleteRoomHistory(key: string): void;
  /** Adds or updates a registered member. */
  putRoomMember(roomKey: string, account: string, lastSeen: number): void;
  removeRoomMember(roomKey: string, account: string): void;
  /** Grants (true) or takes back (false) operator. */
  setRoomOperator(roomKey: string, account: string, operator: boolean): void;
  /** Adds (true) or removes (false) an invite for a name key. */
  setRoomInvite(roomKey: string, name: string, invited: boolean): void;
  /**
   * Up to `limit` messages of room `roomKey` with ids in (`afterId`, `beforeId`), the newest of
   * them, oldest first.
   */
  roomMessages(
    roomKey: string,
    limit: number,
    beforeId?: number,
    afterId?: number,
  ): StoredMessage[];
  /** How many messages of room `roomKey` have ids in (`afterId`, `beforeId`). */
  roomMessageCount(roomKey: string, afterId: number, beforeId?: number): number;
}

/**
 * Where stored messages were said, for catch-up, read markers and search: the lobby, one room
 * (by its key), or one account's private messages (sent or received).
 */
export type HistoryScope =
  | { kind: "lobby" }
  | { kind: "room"; key: string }
  | { kind: "private"; account: string };

/** One word to search for; `prefix`: any word starting with it (`deplo*`). */
export interface SearchTerm {
  text: string;
  prefix: boolean;
}

/** What one search may read: the lobby, these rooms (keys), and this account's private messages. */
export interface SearchScope {
  rooms: string[];
  account?: string;
}

/**
 * What catch-up and read markers need from storage (lib/core/history.ts). Private messages are
 * kept when an account sends or receives them (a guest has no history to catch up on).
 */
export interface HistoryStorage {
  /**
   * Queues a private message for history; `fromKey`, `toKey`: the accounts of its sender and
   * receiver (at least one of them).
   */
  appendPrivate(m: InboxMessage, fromKey: string | undefined, toKey: string | undefined): void;
  /** Up to `limit` messages of `scope` with ids above `afterId`, oldest first. */
  messagesAfter(scope: HistoryScope, afterId: number, limit: number): StoredMessage[];
  /**
   * The newest `limit` messages of `scope` with ids below `beforeId` (all, when it is undefined),
   * oldest first: paging back through a conversation.
   */
  messagesBefore(scope: HistoryScope, beforeId: number | undefined, limit: number): StoredMessage[];
  /** How many messages of `scope` have ids above `afterId`, counting no further than `cap`. */
  countAfter(scope: HistoryScope, afterId: number, cap: number): number;
  /** The account's read markers: target key (`#lobby`, a room key, `private`) and message id. */
  markers(account: string): { target: string; msgId: number }[];
  /** Sets a read marker (in the current group commit). */
  putMarker(account: string, target: string, msgId: number): void;
  /**
   * Up to `limit` messages in `scope` with ids below `beforeId` holding every term (case and
   * accents folded), newest first. A room message's `room` is its room's key.
   */
  search(terms: SearchTerm[], scope: SearchScope, beforeId: number, limit: number): StoredMessage[];
  /**
   * Deletes public and private messages older than `cutoffTs` (0: none by age) and all but the
   * newest `keep` of each kind (0: no limit), at once; returns how many went. Offline messages
   * waiting in an inbox are not touched.
   */
  prune(cutoffTs: number, keep: number): number;
}

/**
 * The chat's storage. Writes join the current group commit; {@link ChatStorage.afterCommit} tells
 * when they are durable, which is when an acknowledgement may leave.
 */
export interface ChatStorage extends BanStore, RoomStorage, HistoryStorage {
  /**
   * Reserves `count` message ids and returns the first; ids are never reused, even after a
   * restart.
   */
  reserveIds(count: number): number;
  /** Queues a public message (of the lobby, or of `m.room`) for the current group commit. */
  appendPublic(m: StoredMessage): void;
  /** Queues a private message for an offline registered user. */
  appendInbox(m: InboxMessage, recipientKey: string): void;
  /** Calls `callback` once everything queued so far is committed, with the error if it failed. */
  afterCommit(callback: (error?: Error) => void): void;
  /** Whether writes are waiting for the group commit. */
  readonly pending: boolean;
  /** Up to `limit` lobby messages before `beforeId` (newest if absent), oldest first. */
  recentPublic(limit: number, beforeId?: number): StoredMessage[];
  /** The messages waiting for `recipientKey`, oldest first. */
  inbox(recipientKey: string): InboxMessage[];
  /** How many messages wait for `recipientKey`. */
  inboxSize(recipientKey: string): number;
  /** Removes delivered inbox messages; only the recipient's own ids are touched. */
  removeFromInbox(recipientKey: string, msgIds: number[]): void;
  /** The account registered under a name key. */
  account(key: string): Account | undefined;
  /**
   * A registered account whose name has one of these look-alike keys (`nameSkeletons` in
   * lib/shared/names.ts), if any: names that imitate it are refused.
   */
  accountLookingLike(skeletons: string[]): { key: string; name: string } | undefined;
  /** Creates or replaces an account (in the current group commit), with its look-alike keys. */
  putAccount(a: Account): void;
  /** The display name of the bot account with this name key (docs/BOTS.md), if any. */
  botName(key: string): string | undefined;
  /** The bot whose token has this SHA-256 digest (lib/core/bot_tokens.ts), if any. */
  botByDigest(digest: Uint8Array): { key: string; name: string } | undefined;
  /** Commits anything pending and releases the storage. */
  close(): void;
}
