/**
 * The typed values the chat core produces: events delivered to users and results of requests.
 * They carry no formatting; each transport's codec renders them for its dialect, once per event
 * (see {@link WireCache}).
 *
 * @module
 */

import type { Failure } from "./errors.ts";

export { type ErrorCode, fail, type Failure } from "./errors.ts";

/**
 * Encoded bytes of an event, one slot per dialect, filled on first use so that a message for many
 * recipients is encoded once per dialect, not once per recipient.
 */
export type WireCache = [text?: Uint8Array, json?: Uint8Array];

/** A public message to everyone online. */
export interface PublicEvent {
  kind: "public";
  msgId: number;
  ts: number;
  from: string;
  fromAddr: string;
  text: string;
  /** The room it was said in (its display name); absent for the lobby. */
  room?: string;
  /** Set when sent from history rather than live. */
  history?: true;
  /** Set on the copy for the users the text names (lib/core/mentions.ts). */
  mention?: true;
  /** Set when a bot sent it (docs/BOTS.md): JSON shows `bot: true`, text lines do not change. */
  bot?: true;
  wire: WireCache;
}

/** A private message to one user. */
export interface PrivateEvent {
  kind: "private";
  msgId: number;
  ts: number;
  from: string;
  fromAddr: string;
  to: string;
  text: string;
  /** Set when it was stored while the receiver was offline. */
  offline?: true;
  /** Set on the copy the sender's other connections get (an account's several devices). */
  echo?: true;
  wire: WireCache;
}

/** Someone came, left or renamed. */
export interface PresenceEvent {
  kind: "presence";
  msgId: number;
  ts: number;
  event: "online" | "offline" | "renamed";
  name: string;
  addr: string;
  /** The previous name, for `renamed`. */
  old?: string;
  wire: WireCache;
}

/** Something happened in a room; sent to its members (an invite: to the invitee only). */
export interface RoomEvent {
  kind: "room";
  msgId: number;
  ts: number;
  /** The room's display name, `#dev`. */
  room: string;
  event: "joined" | "left" | "topic" | "kicked" | "mode" | "op" | "invited" | "closed" | "unread";
  /** Who it is about: who joined, left, was kicked, made operator, invited; for `topic`, `mode`, `closed`: who did it. */
  name: string;
  /** For `joined` and `left`: the address of `name`. */
  addr?: string;
  /** For `kicked`, `op`, `invited`: who did it. */
  by?: string;
  /** For `topic`: the new topic; for `kicked`: the reason. */
  text?: string;
  /** For `mode`: whether the room is now invite-only. */
  inviteOnly?: boolean;
  /** For `unread`: how many more unread messages there are before `before`. */
  more?: number;
  before?: number;
  wire: WireCache;
}

/** Why the core ends a user's connection. */
export type KickCode = "replaced" | "kicked" | "banned";

/** A system notice from the transport to one connection, after which it closes. */
export interface NoticeEvent {
  kind: "notice";
  code: "idle_timeout" | "shutdown" | "line_too_long" | "bad_frame" | KickCode;
  text: string;
  wire: WireCache;
}

/**
 * An account's read marker moved (lib/core/history.ts): sent to the account's other connections,
 * so every device shows the same unread counts.
 */
export interface MarkerEvent {
  kind: "marker";
  /** `#lobby`, a room's display name, or `private`. */
  target: string;
  /** The newest message id read there. */
  msgId: number;
  /** How many messages there are after it (at most {@link MAX_UNREAD_COUNT}). */
  unread: number;
  wire: WireCache;
}

/** The most unread messages counted per target; more read as this many. */
export const MAX_UNREAD_COUNT = 1000;

/** Anything a connection can be sent without having asked for it. */
export type ChatEvent =
  | PublicEvent
  | PrivateEvent
  | PresenceEvent
  | RoomEvent
  | NoticeEvent
  | MarkerEvent;

/** The result of a request: its data, or a {@link Failure}. */
export type Result<T extends object = Record<never, never>> = ({ ok: true } & T) | Failure;

/** A stored public message. */
export interface StoredMessage {
  msgId: number;
  ts: number;
  from: string;
  fromAddr: string;
  text: string;
  /** The room's display name; absent for the lobby. */
  room?: string;
  /** Set on a private message (catch-up and search): its receiver. */
  to?: string;
}

/** A private message waiting for an offline registered user. */
export interface InboxMessage {
  msgId: number;
  ts: number;
  from: string;
  to: string;
  text: string;
}
