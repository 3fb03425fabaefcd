/**
 * Every error code a request can fail with, its default message and what it means, in one table
 * as Ergo's `errors.go` keeps them. {@link fail} takes its message from here unless the caller has
 * a more specific one (naming the limit or the name). docs/PROTOCOL.md's error table lists the same
 * codes with the same meanings (a unit test compares them).
 *
 * @module
 */

/** One error code's default message (sent to people, in both dialects) and its meaning. */
export interface ErrorInfo {
  /** The message {@link fail} uses when the caller gives none. */
  message: string;
  /** What the code means, as docs/PROTOCOL.md says it. */
  doc: string;
}

/**
 * The error table. Some default messages are the original Go server's words, kept for its
 * clients (`Please input valid content`).
 *
 * @example
 * ```ts
 * import { ERRORS } from "./errors.ts";
 *
 * ERRORS.not_admin.message; // "only operators (--admin, logged in) may do that"
 * ```
 */
export const ERRORS = Object.freeze(
  {
    bad_json: {
      message: "a frame must be one JSON object on one line",
      doc: "the line is not a JSON object",
    },
    bad_request: {
      message: "the request is not valid",
      doc: "a field is missing or has the wrong type; `message` names it",
    },
    unknown_type: {
      message: "no such request type",
      doc: "no such request `type`",
    },
    version_unsupported: {
      message: "this protocol version is not supported",
      doc: "the hello's version is not supported (the connection closes)",
    },
    name_empty: {
      message: "name may not be empty.",
      doc: "the requested name breaks a rule",
    },
    name_too_long: {
      message: "name is too long.",
      doc: "the requested name breaks a rule",
    },
    name_invalid_char: {
      message: "name contains a character that is not allowed.",
      doc: "the requested name breaks a rule",
    },
    name_taken: {
      message: "this name is already used",
      doc: "someone else has that name (case-insensitively)",
    },
    name_lookalike: {
      message: "this name looks too much like a name that is online or registered",
      doc: 'the name looks like one that is online or registered (see "Names"); `message` names it',
    },
    name_mixed_script: {
      message: "name may not mix Latin, Cyrillic and Greek letters",
      doc: "the name mixes Latin with Cyrillic or Greek letters",
    },
    not_online: {
      message: "the receiver is not online",
      doc: "no user of that name is online",
    },
    empty_text: {
      message: "Please input valid content",
      doc: "the text is empty after removing control characters",
    },
    receiver_empty: {
      message: "Please input valid receiver name",
      doc: "`msg` with an empty `to`",
    },
    bad_format: {
      message: "Invalid message format",
      doc: "(text dialect) a command with missing parts",
    },
    name_registered: {
      message: "this name is registered: log in to use it",
      doc: "the name is registered to an account you are not logged in as",
    },
    name_required: {
      message: "choose a name first, then register it",
      doc: "`register` while still named after your address: rename first",
    },
    already_registered: {
      message: "this name is already registered",
      doc: "the name is registered already",
    },
    password_weak: {
      message: "the password is too short or too long",
      doc: "the new password is shorter than 8 or longer than 256 characters",
    },
    login_failed: {
      message: "wrong name or password",
      doc: "wrong name or password",
    },
    not_logged_in: {
      message: "log in first",
      doc: "`passwd` before logging in",
    },
    rate_limited: {
      message: "slow down",
      doc:
        "too many requests, failed logins or new rooms; `message` says which limit, and `retryAfterMs` how long to wait (when waiting helps)",
    },
    not_admin: {
      message: "only operators (--admin, logged in) may do that",
      doc: "kick or ban by someone who is not a logged-in operator",
    },
    name_banned: {
      message: "this name is banned from this server",
      doc: "the name is banned by an operator",
    },
    inbox_full: {
      message: "the receiver's offline inbox is full; try again later",
      doc: "the offline receiver already has 100 messages waiting",
    },
    busy: {
      message: "the server is busy checking passwords; try again in a moment",
      doc: "too many password checks at once; `retryAfterMs` says when to try again",
    },
    unavailable: {
      message: "the chat cannot reach its shared store (Redis) right now; try again shortly",
      doc: "a cluster node cannot reach Redis: nothing was stored or acknowledged; retry later",
    },
    store_failed: {
      message: "the server could not save this; try again",
      doc: "the server could not save the message (disk full, say); it was not acknowledged",
    },
    room_invalid: {
      message: "a room name is # and then 1-32 letters, digits, _ - .",
      doc: "a bad room name (`#` and then 1–32 letters, digits, `_ - .`)",
    },
    room_reserved: {
      message: "#lobby is everyone's room: it has no members, topic or operators",
      doc: "the request makes no sense for `#lobby` (part, topic, kick, …)",
    },
    no_such_room: {
      message: "there is no such room",
      doc: "no such room (or an invite-only room you are not in)",
    },
    not_in_room: {
      message: "you are not in this room",
      doc:
        "you are not a member of the room (`say`, `who`, `history`), or the one to kick or op is not",
    },
    not_room_operator: {
      message: "only an operator of this room may do that",
      doc: "only the room's operators may do that",
    },
    room_full: {
      message: "the room is full",
      doc: "the room has `--max-room-members` members",
    },
    invite_only: {
      message: "the room is invite-only: ask one of its operators to invite you",
      doc: "the room is invite-only and you have no invite",
    },
    too_many_rooms: {
      message: "you are in too many rooms: part one first",
      doc: "you are in `--max-rooms-per-user` rooms already",
    },
    server_rooms_full: {
      message: "the server has as many rooms as it allows: join one",
      doc: "the server has `--max-rooms` rooms; creating one more is refused",
    },
    connection_closed: {
      message: "the connection closed before the request finished",
      doc:
        "the connection closed while its password was being checked; nothing was changed (the client never sees this reply)",
    },
  } as const satisfies Record<string, ErrorInfo>,
);

/** Stable, machine-readable error codes shared by both dialects: the keys of {@link ERRORS}. */
export type ErrorCode = keyof typeof ERRORS;

/** A failed request: a stable code and one sentence for people. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  message: string;
  /** For `rate_limited`: how long to wait before trying again. */
  retryAfterMs?: number;
}

/**
 * Builds a {@link Failure} with `code`'s default message from {@link ERRORS}, or `message` when
 * the caller can say more.
 *
 * @example
 * ```ts
 * import { fail } from "./errors.ts";
 *
 * fail("not_admin"); // { ok: false, code: "not_admin", message: "only operators ..." }
 * fail("not_online", "tom is not online"); // a more specific message
 * ```
 */
export function fail(code: ErrorCode, message: string = ERRORS[code].message): Failure {
  return { ok: false, code, message };
}
