/**
 * The typed values the chat core produces: events delivered to users and results of requests.
 * They carry no formatting; each transport's codec renders them for its dialect, once per event
 * (see {@link WireCache}).
 *
 * @module
 */

/** Stable, machine-readable error codes shared by both dialects. */
export type ErrorCode =
  | "bad_json"
  | "bad_request"
  | "bad_format"
  | "unknown_type"
  | "version_unsupported"
  | "name_empty"
  | "name_too_long"
  | "name_invalid_char"
  | "name_taken"
  | "receiver_empty"
  | "not_online"
  | "empty_text"
  | "name_registered"
  | "name_required"
  | "already_registered"
  | "login_failed"
  | "not_logged_in"
  | "password_weak"
  | "rate_limited"
  | "not_admin"
  | "inbox_full"
  | "busy"
  | "name_banned"
  | "store_failed";

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
  /** Set when sent from history rather than live. */
  history?: true;
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

/** Why the core ends a user's connection. */
export type KickCode = "replaced" | "kicked" | "banned";

/** A system notice from the transport to one connection, after which it closes. */
export interface NoticeEvent {
  kind: "notice";
  code: "idle_timeout" | "shutdown" | "line_too_long" | KickCode;
  text: string;
  wire: WireCache;
}

/** Anything a connection can be sent without having asked for it. */
export type ChatEvent = PublicEvent | PrivateEvent | PresenceEvent | NoticeEvent;

/** A failed request: a stable code and one sentence for people. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  message: string;
  /** For `rate_limited`: how long to wait before trying again. */
  retryAfterMs?: number;
}

/** The result of a request: its data, or a {@link Failure}. */
export type Result<T extends object = Record<never, never>> = ({ ok: true } & T) | Failure;

/**
 * Builds a {@link Failure}.
 *
 * @example
 * ```ts
 * return fail("not_online", "the receiver is not online");
 * ```
 */
export function fail(code: ErrorCode, message: string): Failure {
  return { ok: false, code, message };
}

/** A stored public message. */
export interface StoredMessage {
  msgId: number;
  ts: number;
  from: string;
  fromAddr: string;
  text: string;
}

/** A private message waiting for an offline registered user. */
export interface InboxMessage {
  msgId: number;
  ts: number;
  from: string;
  to: string;
  text: string;
}
