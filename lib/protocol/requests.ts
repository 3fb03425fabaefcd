/**
 * What a user can ask of the server, independent of dialect, and the codec interface that turns
 * lines into requests and events or replies into bytes.
 *
 * @module
 */

import type { ChatEvent, ErrorCode, Result, StoredMessage } from "./events.ts";

/** A client's correlation id, echoed in the reply (JSON dialect only). */
export type RequestId = string | number;

/** A parsed request. `invalid` carries a parse error to reply with. */
export type Request =
  | { type: "say"; id?: RequestId; text: string; room?: string }
  | { type: "msg"; id?: RequestId; to: string; text: string }
  | { type: "who"; id?: RequestId; room?: string }
  | { type: "rename"; id?: RequestId; name: string }
  | { type: "ping"; id?: RequestId }
  | { type: "quit"; id?: RequestId }
  | { type: "history"; id?: RequestId; limit?: number; before?: number; room?: string }
  | { type: "register"; id?: RequestId; password: string }
  /** `takeover`: end the account's other connections instead of joining them. */
  | { type: "login"; id?: RequestId; name: string; password: string; takeover?: boolean }
  | { type: "passwd"; id?: RequestId; old: string; new: string }
  | { type: "ack"; id?: RequestId; msgIds: number[] }
  | { type: "kick"; id?: RequestId; name: string; reason?: string; room?: string }
  | { type: "ban"; id?: RequestId; target: string; duration?: string; reason?: string }
  | { type: "unban"; id?: RequestId; target: string }
  /**
   * Signs a bot session of the HTTP API in under its bot name (docs/BOTS.md). Made only by the
   * server's bot API, never parsed from a client's line: no codec produces it.
   */
  | { type: "bot_login"; id?: RequestId; token: string }
  | RoomRequest
  | HistoryRequest
  | { type: "invalid"; id?: RequestId; code: ErrorCode; message: string };

/** The requests that only concern rooms (`say`, `who`, `history` and `kick` take a `room` too). */
export type RoomRequest =
  | { type: "join"; id?: RequestId; room: string }
  | { type: "part"; id?: RequestId; room: string }
  | { type: "rooms"; id?: RequestId }
  | { type: "topic"; id?: RequestId; room: string; text?: string }
  | { type: "invite"; id?: RequestId; room: string; name: string }
  | { type: "mode"; id?: RequestId; room: string; inviteOnly: boolean }
  | { type: "op"; id?: RequestId; room: string; name: string }
  | { type: "close"; id?: RequestId; room: string };

/**
 * The requests about stored history (lib/core/history.ts). A `target` is `#lobby`, a room
 * (`#dev`) or `private` (the asker's own private messages, for a logged-in account).
 */
export type HistoryRequest =
  /** What was said in `target` after message id `after`, oldest first, a page at a time. */
  | { type: "catchup"; id?: RequestId; target: string; after: number; limit?: number }
  /** Moves the account's read marker of `target` to `msgId` (never backwards). */
  | { type: "mark"; id?: RequestId; target: string; msgId: number }
  /** The account's read markers with their unread counts. */
  | { type: "markers"; id?: RequestId }
  /** Whether public messages naming the asker come marked as mentions (text dialect: opt-in). */
  | { type: "mentions"; id?: RequestId; on: boolean }
  /** Messages the asker may read holding every word of `query`, newest first, below `before`. */
  | { type: "search"; id?: RequestId; query: string; before?: number; limit?: number };

/** One read marker as `markers` lists it. */
export interface MarkerInfo {
  target: string;
  msgId: number;
  unread: number;
}

/** One room as `rooms` and the welcome list it. */
export interface RoomInfo {
  /** Display name, `#dev`. */
  room: string;
  topic: string;
  /** Members, offline registered members included. */
  members: number;
  inviteOnly: boolean;
  /** Whether the asker is a member, and an operator. */
  member: boolean;
  operator: boolean;
}

/** The most history messages one request returns. */
export const MAX_HISTORY_PAGE = 500;

/** One online user as listed by `who`. */
export interface UserInfo {
  name: string;
  addr: string;
}

/** The data a successful request returns; which fields are set depends on the request. */
export interface ReplyData {
  msgId?: number;
  ts?: number;
  users?: UserInfo[];
  name?: string;
  /** For `msg`: the receiver, and whether the message was stored because they are offline. */
  to?: string;
  stored?: boolean;
  /** For `history`: public messages, oldest first. */
  messages?: StoredMessage[];
  /** For room requests: the room's display name. */
  room?: string;
  /** For `join` and `topic`: the room's topic. */
  topic?: string;
  /** For `join`: whether you are an operator there; for `join` and `rooms`. */
  operator?: boolean;
  members?: number;
  /** For `join`: you were a member already. */
  already?: boolean;
  /** For `rooms`: the rooms you may see. */
  rooms?: RoomInfo[];
  /** For `who` with a room: which of `users` are its operators (names). */
  operators?: string[];
  /** For `catchup` and `mark`: the target as shown (a room's display name). */
  target?: string;
  /** For `catchup` and `search`: whether more messages follow the page (ask again from `last`). */
  more?: boolean;
  /** For `search`: the query as understood (its words). */
  query?: string;
  /**
   * For `catchup`: the last message id of the page (`after` when it is empty); for `search`: the
   * oldest of the page (the next page is `before` it).
   */
  last?: number;
  /** For `mark`: how many messages there are after the marker. */
  unread?: number;
  /** For `markers`. */
  markers?: MarkerInfo[];
}

/** The outcome of a request. */
export type Reply = Result<ReplyData>;

/** A dialect: parses lines into requests and renders events and replies into bytes. */
export interface Codec {
  /** Which {@link ChatEvent.wire} slot this codec caches its encoding in. */
  readonly slot: 0 | 1;
  /** Parses one line (already framed, never empty). */
  parse(line: string): Request;
  /** Encodes an event, at most once per event and dialect. */
  encodeEvent(event: ChatEvent): Uint8Array;
  /** Encodes the reply to `request`, or `null` when the dialect sends none. */
  encodeReply(request: Request, reply: Reply): Uint8Array | null;
}
