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

/**
 * The chat's storage. Writes join the current group commit; {@link ChatStorage.afterCommit} tells
 * when they are durable, which is when an acknowledgement may leave.
 */
export interface ChatStorage extends BanStore {
  /**
   * Reserves `count` message ids and returns the first; ids are never reused, even after a
   * restart.
   */
  reserveIds(count: number): number;
  /** Queues a public message for the current group commit. */
  appendPublic(m: StoredMessage): void;
  /** Queues a private message for an offline registered user. */
  appendInbox(m: InboxMessage, recipientKey: string): void;
  /** Calls `callback` once everything queued so far is committed, with the error if it failed. */
  afterCommit(callback: (error?: Error) => void): void;
  /** Whether writes are waiting for the group commit. */
  readonly pending: boolean;
  /** Up to `limit` public messages before `beforeId` (newest if absent), oldest first. */
  recentPublic(limit: number, beforeId?: number): StoredMessage[];
  /** The messages waiting for `recipientKey`, oldest first. */
  inbox(recipientKey: string): InboxMessage[];
  /** How many messages wait for `recipientKey`. */
  inboxSize(recipientKey: string): number;
  /** Removes delivered inbox messages; only the recipient's own ids are touched. */
  removeFromInbox(recipientKey: string, msgIds: number[]): void;
  /** The account registered under a name key. */
  account(key: string): Account | undefined;
  /** Creates or replaces an account (in the current group commit). */
  putAccount(a: Account): void;
  /** Commits anything pending and releases the storage. */
  close(): void;
}
