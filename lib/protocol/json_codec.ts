/**
 * The JSON dialect: one JSON object per line, requests with an optional client `id` answered by
 * `ok` or `error`, and typed events. See docs/PROTOCOL.md.
 *
 * @module
 */

import type { ChatEvent, ErrorCode } from "./events.ts";
import {
  type Codec,
  MAX_HISTORY_PAGE,
  type Reply,
  type ReplyData,
  type Request,
  type RequestId,
  type RoomInfo,
  type RoomRequest,
  type UserInfo,
} from "./requests.ts";
import { parseHistoryFrame } from "./history_codec.ts";

const encoder = new TextEncoder();

/** The newest protocol version this server speaks. */
export const PROTOCOL_VERSION = 1;
/** The most message ids one `ack` may carry. */
const MAX_ACK_IDS = 1000;
/** The longest string `id` echoed back; longer ones are refused. */
const MAX_ID_LENGTH = 128;

/** A parsed `hello` frame. */
export interface Hello {
  id?: RequestId;
  version: unknown;
  name?: string;
  /** With `name`: log in as that registered name instead of renaming. */
  password?: string;
  /** With `password`: end the account's other connections instead of joining them. */
  takeover?: boolean;
  client?: string;
}

type Frame = Record<string, unknown>;

function parseObject(line: string): Frame | null {
  if (line.charCodeAt(0) !== 0x7b /* { */) return null;
  try {
    const value = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function invalid(code: ErrorCode, message: string, id?: RequestId): Request {
  return id === undefined
    ? { type: "invalid", code, message }
    : { type: "invalid", id, code, message };
}

function isId(v: unknown): v is RequestId {
  return (typeof v === "string" && v.length <= MAX_ID_LENGTH) ||
    (typeof v === "number" && Number.isFinite(v));
}

/**
 * Recognises a connection's first line as a JSON `hello`; anything else is `null` (text dialect).
 *
 * @example
 * ```ts
 * import { parseHello } from "./json_codec.ts";
 *
 * parseHello('{"type":"hello","version":1}'); // { version: 1 }
 * parseHello("hello"); // null
 * ```
 */
export function parseHello(line: string): Hello | null {
  const frame = parseObject(line);
  if (!frame || frame.type !== "hello") return null;
  const hello: Hello = { version: frame.version };
  if (isId(frame.id)) hello.id = frame.id;
  if (typeof frame.name === "string") hello.name = frame.name;
  if (typeof frame.password === "string") hello.password = frame.password;
  if (frame.takeover === true) hello.takeover = true;
  if (typeof frame.client === "string") hello.client = frame.client.slice(0, 100);
  return hello;
}

/**
 * Parses one JSON-dialect line into a request; every malformed frame becomes an `invalid`
 * request with a stable code and a message naming what is wrong.
 *
 * @example
 * ```ts
 * import { parseJsonLine } from "./json_codec.ts";
 *
 * parseJsonLine('{"type":"say","id":1,"text":"hi"}'); // { type: "say", id: 1, text: "hi" }
 * ```
 */
export function parseJsonLine(line: string): Request {
  const frame = parseObject(line);
  if (!frame) return invalid("bad_json", "a frame must be one JSON object on one line");
  let id: RequestId | undefined;
  if (frame.id !== undefined) {
    if (!isId(frame.id)) {
      return invalid("bad_request", `id must be a number or a string of at most ${MAX_ID_LENGTH}`);
    }
    id = frame.id;
  }
  const str = (field: string): string | Request => {
    const v = frame[field];
    return typeof v === "string" ? v : invalid("bad_request", `${field} must be a string`, id);
  };
  const optionalStr = (field: string): string | undefined | Request =>
    frame[field] === undefined ? undefined : str(field);
  const withId = <T extends Request>(r: T): T => (id === undefined ? r : { ...r, id });
  const history = parseHistoryFrame(frame, id);
  if (history) return history;
  // `room` is optional on say, who, history and kick (absent: the lobby), required on the rest.
  const room = optionalStr("room");
  if (typeof room === "object") return room;
  const inRoom = <T extends Request>(r: T): T => withId(room === undefined ? r : { ...r, room });
  switch (frame.type) {
    case "say": {
      const text = str("text");
      return typeof text === "string" ? inRoom({ type: "say", text }) : text;
    }
    case "join":
    case "part":
    case "close":
    case "rooms":
    case "topic":
    case "invite":
    case "op":
    case "mode":
      return parseRoomFrame(frame, frame.type, room, id);
    case "msg": {
      const to = str("to");
      if (typeof to !== "string") return to;
      const text = str("text");
      return typeof text === "string" ? withId({ type: "msg", to, text }) : text;
    }
    case "rename": {
      const name = str("name");
      return typeof name === "string" ? withId({ type: "rename", name }) : name;
    }
    case "who":
      return inRoom({ type: "who" });
    case "ping":
    case "quit":
      return withId({ type: frame.type });
    case "history": {
      const r: Request = room === undefined ? { type: "history" } : { type: "history", room };
      for (const field of ["limit", "before"] as const) {
        const v = frame[field];
        if (v === undefined) continue;
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
          return invalid("bad_request", `${field} must be a positive whole number`, id);
        }
        r[field] = field === "limit" ? Math.min(v, MAX_HISTORY_PAGE) : v;
      }
      return withId(r);
    }
    case "register": {
      const password = str("password");
      return typeof password === "string" ? withId({ type: "register", password }) : password;
    }
    case "login": {
      const name = str("name");
      if (typeof name !== "string") return name;
      const password = str("password");
      if (typeof password !== "string") return password;
      const takeover = frame.takeover;
      if (takeover !== undefined && typeof takeover !== "boolean") {
        return invalid("bad_request", "takeover must be true or false", id);
      }
      return withId({ type: "login", name, password, ...(takeover ? { takeover } : {}) });
    }
    case "passwd": {
      const old = str("old");
      if (typeof old !== "string") return old;
      const next = str("new");
      return typeof next === "string" ? withId({ type: "passwd", old, new: next }) : next;
    }
    case "kick": {
      const name = str("name");
      if (typeof name !== "string") return name;
      const reason = optionalStr("reason");
      return typeof reason === "object" ? reason : inRoom({ type: "kick", name, reason });
    }
    case "ban": {
      const target = str("target");
      if (typeof target !== "string") return target;
      const duration = optionalStr("duration");
      if (typeof duration === "object") return duration;
      const reason = optionalStr("reason");
      return typeof reason === "object"
        ? reason
        : withId({ type: "ban", target, duration, reason });
    }
    case "unban": {
      const target = str("target");
      return typeof target === "string" ? withId({ type: "unban", target }) : target;
    }
    case "ack": {
      const ids = frame.msgIds;
      if (
        !Array.isArray(ids) || ids.length > MAX_ACK_IDS ||
        !ids.every((v) => typeof v === "number" && Number.isSafeInteger(v))
      ) {
        return invalid(
          "bad_request",
          `msgIds must be an array of at most ${MAX_ACK_IDS} message ids`,
          id,
        );
      }
      return withId({ type: "ack", msgIds: ids as number[] });
    }
    case "hello":
      return invalid("bad_request", "hello is only allowed as the first line", id);
    default:
      if (typeof frame.type !== "string") {
        return invalid("bad_request", "type must be a string", id);
      }
      return invalid(
        "unknown_type",
        `unknown request type ${JSON.stringify(frame.type.slice(0, 40))}`,
        id,
      );
  }
}

/** The room requests' frames (`room` already checked to be a string if present). */
function parseRoomFrame(
  frame: Frame,
  type: RoomRequest["type"],
  room: string | undefined,
  id: RequestId | undefined,
): Request {
  const withId = <T extends Request>(r: T): T => (id === undefined ? r : { ...r, id });
  if (type === "rooms") return withId({ type });
  if (room === undefined) return invalid("bad_request", "room must be a string", id);
  switch (type) {
    case "join":
    case "part":
    case "close":
      return withId({ type, room });
    case "topic": {
      const text = frame.text;
      if (text === undefined) return withId({ type, room });
      return typeof text === "string"
        ? withId({ type, room, text })
        : invalid("bad_request", "text must be a string", id);
    }
    case "invite":
    case "op": {
      const name = frame.name;
      return typeof name === "string"
        ? withId({ type, room, name })
        : invalid("bad_request", "name must be a string", id);
    }
    case "mode": {
      const inviteOnly = frame.inviteOnly;
      return typeof inviteOnly === "boolean"
        ? withId({ type, room, inviteOnly })
        : invalid("bad_request", "inviteOnly must be true or false", id);
    }
  }
}

function eventFrame(event: ChatEvent): Frame {
  switch (event.kind) {
    case "public": {
      const f: Frame = {
        type: "public",
        msgId: event.msgId,
        ts: event.ts,
        from: event.from,
        text: event.text,
      };
      // Lobby messages carry no room, so clients that know nothing of rooms see what they did.
      if (event.room !== undefined) f.room = event.room;
      if (event.history) f.history = true;
      if (event.mention) f.mention = true;
      if (event.bot) f.bot = true;
      return f;
    }
    case "room": {
      const f: Frame = {
        type: "room",
        msgId: event.msgId,
        ts: event.ts,
        room: event.room,
        event: event.event,
      };
      for (const k of ["name", "addr", "by", "text", "inviteOnly", "more", "before"] as const) {
        if (event[k] !== undefined && event[k] !== "") f[k] = event[k];
      }
      return f;
    }
    case "private": {
      const f: Frame = {
        type: "private",
        msgId: event.msgId,
        ts: event.ts,
        from: event.from,
        to: event.to,
        text: event.text,
      };
      if (event.offline) f.offline = true;
      if (event.echo) f.echo = true;
      return f;
    }
    case "presence": {
      const f: Frame = {
        type: "presence",
        msgId: event.msgId,
        ts: event.ts,
        event: event.event,
        name: event.name,
        addr: event.addr,
      };
      if (event.old !== undefined) f.old = event.old;
      return f;
    }
    case "notice":
      return { type: "notice", code: event.code, text: event.text };
    case "marker":
      return { type: "marker", target: event.target, msgId: event.msgId, unread: event.unread };
  }
}

/** Encodes a frame as one line of bytes. */
export function encodeFrame(frame: Frame): Uint8Array {
  return encoder.encode(JSON.stringify(frame) + "\n");
}

/** What the welcome frame tells a client about itself and the server. */
export interface WelcomeInfo {
  version: number;
  server: string;
  name: string;
  addr: string;
  limits: { maxLine: number; idleTimeoutMs: number; msgRate: number; msgBurst: number };
  online: UserInfo[];
  /** The rooms this user is in (the lobby not listed); only sent when there are some. */
  rooms?: RoomInfo[];
  /** The registered name this connection is logged in as, when the hello logged in. */
  account?: string;
  /** That history is stored and searchable, and how long it is kept (lib/server/retention.ts). */
  historyNotice?: string;
  nameError?: { code: ErrorCode; message: string };
}

/** Encodes the `welcome` frame that answers a `hello`. */
export function encodeWelcome(info: WelcomeInfo): Uint8Array {
  return encodeFrame({ type: "welcome", ...info });
}

/** The JSON dialect as a {@link Codec}. */
export const jsonCodec: Codec = {
  slot: 1,
  parse: parseJsonLine,
  encodeEvent(event) {
    return event.wire[1] ??= encodeFrame(eventFrame(event));
  },
  encodeReply(request, reply: Reply) {
    const head: Frame = { type: reply.ok ? "ok" : "error" };
    if (request.id !== undefined) head.id = request.id;
    if (!reply.ok) {
      const f: Frame = { ...head, code: reply.code, message: reply.message };
      if (reply.retryAfterMs !== undefined) f.retryAfterMs = reply.retryAfterMs;
      return encodeFrame(f);
    }
    const { ok: _, ...data }: { ok: true } & ReplyData = reply;
    return encodeFrame({ ...head, ...data });
  },
};
