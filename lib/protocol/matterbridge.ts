/**
 * The message shape of Matterbridge's api gateway (github.com/42wim/matterbridge,
 * bridge/api/api.go, whose endpoints answer with bridge/config's `Message`), so that a program
 * written for that API can read and write FastIM's bot HTTP API unchanged. Only the shapes live
 * here (pure); the HTTP endpoints that use them are separate.
 *
 * Matterbridge's rules kept on purpose: a posted message is bound from any subset of the fields;
 * `channel`, `protocol`, `account`, `id` and `timestamp` are then fixed by the server, whatever the
 * poster sent; every field is always present in what the server returns (Go writes zero values,
 * and `Extra`, which has no JSON tag, as `"Extra": null`); the stream starts with an
 * `api_connected` event; `skip_before` (an RFC 3339 time, sent as a header) drops messages at or
 * before it.
 */

/** Every field of Matterbridge's `config.Message`, in its JSON order. */
export interface MatterbridgeMessage {
  text: string;
  channel: string;
  username: string;
  userid: string;
  avatar: string;
  account: string;
  event: string;
  protocol: string;
  gateway: string;
  parent_id: string;
  /** RFC 3339 with fractional seconds, as Go's `time.Time` marshals. */
  timestamp: string;
  id: string;
  Extra: Record<string, unknown[]> | null;
}

/** The string fields a poster may send (Matterbridge binds any of them). */
const STRING_FIELDS = [
  "text",
  "channel",
  "username",
  "userid",
  "avatar",
  "account",
  "event",
  "protocol",
  "gateway",
  "parent_id",
  "id",
] as const;

/** The `event` of the first line of `/api/stream`. */
export const EVENT_API_CONNECTED = "api_connected";

/** Go's zero `time.Time`, which is what Matterbridge writes for an unset timestamp. */
export const ZERO_TIMESTAMP = "0001-01-01T00:00:00Z";

/** A message with every field at Go's zero value, to fill in. */
export function emptyMessage(): MatterbridgeMessage {
  return {
    text: "",
    channel: "",
    username: "",
    userid: "",
    avatar: "",
    account: "",
    event: "",
    protocol: "",
    gateway: "",
    parent_id: "",
    timestamp: ZERO_TIMESTAMP,
    id: "",
    Extra: null,
  };
}

/** What `/api/stream` sends first: an `api_connected` event stamped now. */
export function apiConnected(now: Date): MatterbridgeMessage {
  return { ...emptyMessage(), event: EVENT_API_CONNECTED, timestamp: now.toISOString() };
}

/** A body `POST /api/message` accepts: what the poster chose, before the server fixes fields. */
export interface PostedMessage {
  text: string;
  username: string;
  userid: string;
  avatar: string;
  gateway: string;
  event: string;
}

/** Why a posted body was refused, in one line for the 400 answer. */
export type PostResult = { ok: true; message: PostedMessage } | { ok: false; error: string };

/**
 * Reads a `POST /api/message` body. Unknown fields are ignored, as Go's JSON binding does; a known
 * field of the wrong type is refused (Go refuses it too), and so is a message with no text,
 * which FastIM cannot post (Matterbridge would pass it on to bridges that drop it).
 */
export function parsePostedMessage(body: string): PostResult {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, error: "body is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: "body is not a JSON object" };
  }
  const fields = value as Record<string, unknown>;
  for (const name of STRING_FIELDS) {
    const field = fields[name];
    if (field !== undefined && field !== null && typeof field !== "string") {
      return { ok: false, error: `field "${name}" is not a string` };
    }
  }
  const text = typeof fields.text === "string" ? fields.text : "";
  if (text.trim() === "") return { ok: false, error: 'field "text" is missing or empty' };
  const str = (name: string) => typeof fields[name] === "string" ? fields[name] as string : "";
  return {
    ok: true,
    message: {
      text,
      username: str("username"),
      userid: str("userid"),
      avatar: str("avatar"),
      gateway: str("gateway"),
      event: str("event"),
    },
  };
}

/**
 * The answer to `POST /api/message`: the posted message with the fields Matterbridge fixes
 * (`channel` and `protocol` "api", `account` the gateway's account, `id` empty, `timestamp` now).
 */
export function postedReply(
  posted: PostedMessage,
  account: string,
  now: Date,
): MatterbridgeMessage {
  return {
    ...emptyMessage(),
    ...posted,
    channel: "api",
    protocol: "api",
    account,
    id: "",
    timestamp: now.toISOString(),
  };
}

/**
 * Reads the `skip_before` header: the time in milliseconds, `undefined` when absent. Matterbridge
 * logs an unparsable value and then filters with Go's zero time, which drops nothing; FastIM
 * answers such a value with `null` so the endpoint can refuse it with a clear 400 instead.
 */
export function parseSkipBefore(header: string | null): number | undefined | null {
  if (header === null || header === "") return undefined;
  // RFC 3339: a date, "T", a time with optional fraction, and "Z" or an offset.
  if (!/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(header)) {
    return null;
  }
  const ms = Date.parse(header);
  return Number.isNaN(ms) ? null : ms;
}

/** Whether a message survives `skip_before` (Matterbridge drops those at or before it). */
export function afterSkip(message: MatterbridgeMessage, skipBefore: number | undefined): boolean {
  if (skipBefore === undefined) return true;
  return Date.parse(message.timestamp) > skipBefore;
}
