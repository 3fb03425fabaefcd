/**
 * The text dialect of the Go original: `who`, `rename|NEW`, `to|NAME|TEXT`, anything else is a
 * public message. Replies and events are the original's lines, byte for byte.
 *
 * @module
 */

import type { ChatEvent, ErrorCode, RoomEvent, StoredMessage } from "./events.ts";
import { type Codec, MAX_HISTORY_PAGE, type Reply, type Request } from "./requests.ts";
import { markerLine, parseHistoryText, renderHistoryTextReply } from "./history_codec.ts";

const encoder = new TextEncoder();

/** The original's usage line for a malformed private message. */
export const TO_FORMAT_ERROR = "Invalid message format. Use: to|<receiver_name>|<message_content>";

/** A `bad_format` request naming the command's usage. */
function badFormat(command: string, usage: string): Request {
  return {
    type: "invalid",
    code: "bad_format",
    message: `Invalid ${command} format. Use: ${usage}`,
  };
}

/** Splits `A|REST` at its first `|`: the last field takes the rest of the line, `|` included. */
function twoFields(rest: string): [string, string] | null {
  const bar = rest.indexOf("|");
  return bar < 0 ? null : [rest.slice(0, bar), rest.slice(bar + 1)];
}

/**
 * Parses one text-dialect line into a request: `WORD` or `WORD|ARGS` for the commands below,
 * anything else is a public message (as in the original).
 *
 * @example
 * ```ts
 * import { parseTextLine } from "./text_codec.ts";
 *
 * parseTextLine("to|bob|hi | there"); // { type: "msg", to: "bob", text: "hi | there" }
 * ```
 */
export function parseTextLine(line: string): Request {
  const bar = line.indexOf("|");
  const word = bar < 0 ? line : line.slice(0, bar);
  const rest = bar < 0 ? undefined : line.slice(bar + 1);
  const history = parseHistoryText(line);
  if (history) return history;
  // Room commands name a room first; a name never starts with `#`, so `to|#dev|hi` is no
  // private message, and `part|of it` stays the public message it always was.
  if (rest?.startsWith("#")) {
    const room = parseRoomCommand(word, rest);
    if (room) return room;
  }
  if (line === "rooms") return { type: "rooms" };
  switch (word) {
    case "who":
      if (rest === undefined) return { type: "who" };
      break;
    case "history": {
      if (rest === undefined) return { type: "history" };
      const limit = Number(rest);
      if (!Number.isInteger(limit) || limit < 1) return badFormat("history", "history|<count>");
      return { type: "history", limit: Math.min(limit, MAX_HISTORY_PAGE) };
    }
    case "rename":
      if (rest !== undefined) return { type: "rename", name: rest };
      break;
    case "register":
      if (rest !== undefined) return { type: "register", password: rest };
      break;
    case "to": {
      if (rest === undefined) break;
      // Unlike the original, the text is the whole rest of the line, `|` included.
      const f = twoFields(rest);
      return f
        ? { type: "msg", to: f[0], text: f[1] }
        : { type: "invalid", code: "bad_format", message: TO_FORMAT_ERROR };
    }
    case "kick": {
      if (rest === undefined) break;
      const f = twoFields(rest);
      return f ? { type: "kick", name: f[0], reason: f[1] } : { type: "kick", name: rest };
    }
    case "ban": {
      if (rest === undefined) break;
      const f = twoFields(rest);
      return f ? { type: "ban", target: f[0], duration: f[1] } : { type: "ban", target: rest };
    }
    case "unban":
      if (rest !== undefined) return { type: "unban", target: rest };
      break;
    case "login": {
      if (rest === undefined) break;
      const f = twoFields(rest);
      return f
        ? { type: "login", name: f[0], password: f[1] }
        : badFormat("login", "login|<name>|<password>");
    }
    case "takeover": {
      if (rest === undefined) break;
      const f = twoFields(rest);
      return f
        ? { type: "login", name: f[0], password: f[1], takeover: true }
        : badFormat("takeover", "takeover|<name>|<password>");
    }
    case "passwd": {
      if (rest === undefined) break;
      const f = twoFields(rest);
      return f
        ? { type: "passwd", old: f[0], new: f[1] }
        : badFormat("passwd", "passwd|<old>|<new>");
    }
  }
  return { type: "say", text: line };
}

/** The room commands, each `WORD|#ROOM...`; `null` when `word` is not one. */
function parseRoomCommand(word: string, rest: string): Request | null {
  const f = twoFields(rest);
  const room = f ? f[0] : rest;
  const arg = f?.[1];
  switch (word) {
    case "join":
    case "part":
    case "close":
      return arg === undefined ? { type: word, room } : badFormat(word, `${word}|#ROOM`);
    case "to":
      return arg === undefined
        ? {
          type: "invalid",
          code: "bad_format",
          message: "Invalid message format. Use: to|#ROOM|TEXT",
        }
        : { type: "say", room, text: arg };
    case "who":
      return arg === undefined ? { type: "who", room } : badFormat("who", "who|#ROOM");
    case "topic":
      return arg === undefined ? { type: "topic", room } : { type: "topic", room, text: arg };
    case "history": {
      if (arg === undefined) return { type: "history", room };
      const g = twoFields(arg) ?? [arg, undefined];
      const limit = Number(g[0]);
      const before = g[1] === undefined ? undefined : Number(g[1]);
      if (
        !Number.isInteger(limit) || limit < 1 ||
        (before !== undefined && (!Number.isSafeInteger(before) || before < 1))
      ) {
        return badFormat("history", "history|#ROOM|<count>|<before msgId>");
      }
      const r: Request = { type: "history", room, limit: Math.min(limit, MAX_HISTORY_PAGE) };
      if (before !== undefined) r.before = before;
      return r;
    }
    case "invite":
    case "op":
      return arg !== undefined && arg !== ""
        ? { type: word, room, name: arg }
        : badFormat(word, `${word}|#ROOM|NAME`);
    case "kick": {
      if (arg === undefined || arg === "") return badFormat("kick", "kick|#ROOM|NAME|REASON");
      const g = twoFields(arg);
      return g
        ? { type: "kick", room, name: g[0], reason: g[1] }
        : { type: "kick", room, name: arg };
    }
    case "mode":
      if (arg === "+i" || arg === "-i") return { type: "mode", room, inviteOnly: arg === "+i" };
      return badFormat("mode", "mode|#ROOM|+i or mode|#ROOM|-i");
  }
  return null;
}

/** How to do it in this dialect, after errors whose fix is a command. */
const TEXT_HINTS: Partial<Record<ErrorCode, string>> = {
  name_registered: " with login|NAME|PASSWORD",
  name_required: " (rename|NAME, then register|PASSWORD)",
  not_logged_in: " with login|NAME|PASSWORD",
};

/**
 * Renders an event as the original's line (without the newline).
 *
 * @example
 * ```ts
 * import { renderTextEvent } from "./text_codec.ts";
 * import type { PublicEvent } from "./events.ts";
 *
 * const event: PublicEvent = {
 *   kind: "public",
 *   msgId: 1,
 *   ts: 0,
 *   from: "alice",
 *   fromAddr: "127.0.0.1:5000",
 *   text: "hello",
 *   wire: [],
 * };
 * renderTextEvent(event); // "[127.0.0.1:5000], alice:hello"
 * ```
 */
export function renderTextEvent(event: ChatEvent): string {
  switch (event.kind) {
    case "public": {
      const live = publicLine(event, event.room);
      // Replayed (a room's missed messages at login): marked, so it never reads as news.
      if (event.history) return historyLine(event.ts, live);
      // Naming you (sent only to those who asked with mentions|on).
      return event.mention ? `mention|${live}` : live;
    }
    case "room":
      return `[${event.room}] ${roomEventText(event)}`;
    case "private":
      if (event.echo) return `You sent ${event.to} a message: ${event.text}`;
      return event.offline
        ? `${event.from} sent you a message (at ${new Date(event.ts).toISOString()}): ${event.text}`
        : `${event.from} sent you a message: ${event.text}`;
    case "presence":
      return event.event === "renamed"
        ? `[${event.addr}], ${event.old}:renamed to ${event.name}`
        : `[${event.addr}], ${event.name}:${event.event}`;
    case "notice":
      return event.text;
    case "marker":
      return markerLine(event);
  }
}

/** A room event's line after its `[#ROOM] ` prefix. */
function roomEventText(e: RoomEvent): string {
  switch (e.event) {
    case "joined":
    case "left":
      return `[${e.addr}], ${e.name}:${e.event}`;
    case "topic":
      return e.text ? `${e.name} set the topic: ${e.text}` : `${e.name} cleared the topic`;
    case "kicked":
      return `${e.by} kicked ${e.name}` + (e.text ? `: ${e.text}` : "");
    case "mode":
      return e.inviteOnly
        ? `${e.name} made the room invite-only`
        : `${e.name} opened the room to everyone`;
    case "op":
      return `${e.by} made ${e.name} an operator`;
    case "invited":
      return `${e.by} invited you: join|${e.room}`;
    case "closed":
      return `${e.name} closed the room`;
    case "unread":
      return `${e.more} more unread: history|${e.room}|50|${e.before}`;
  }
}

/** A public message's live line: `[ADDR], NAME:TEXT`, in a room `[#ROOM] [ADDR], NAME:TEXT`. */
function publicLine(m: { fromAddr: string; from: string; text: string }, room?: string): string {
  const line = `[${m.fromAddr}], ${m.from}:${m.text}`;
  return room === undefined ? line : `[${room}] ${line}`;
}

/**
 * A message replayed from history (a FastIM extension): `history|TIME|` before the live line it
 * was, TIME in ISO 8601 (UTC). No line of the original starts with `history|` (a name has no `|`),
 * so a program tells replayed messages from live ones.
 */
function historyLine(ts: number, live: string): string {
  return `history|${new Date(ts).toISOString()}|${live}`;
}

/**
 * The reply to `history`: each message as a {@linkcode historyLine}, oldest first, then
 * `history|end|N`, so a program knows the reply is complete, even when it is empty.
 *
 * @example
 * ```ts
 * import { renderTextHistory } from "./text_codec.ts";
 *
 * renderTextHistory([{ msgId: 1, ts: 0, from: "bob", fromAddr: "10.0.0.2:5000", text: "hi" }]);
 * // "history|1970-01-01T00:00:00.000Z|[10.0.0.2:5000], bob:hi\nhistory|end|1"
 * ```
 */
export function renderTextHistory(messages: readonly StoredMessage[], room?: string): string {
  const lines = messages.map((m) => historyLine(m.ts, publicLine(m, room)));
  return [...lines, `history|end|${messages.length}`].join("\n");
}

/** Renders a reply as lines (without the final newline), or `null` when none is sent. */
export function renderTextReply(request: Request, reply: Reply): string | null {
  if (!reply.ok) return reply.message + (TEXT_HINTS[reply.code] ?? "");
  const history = renderHistoryTextReply(request, reply, publicLine);
  if (history !== undefined) return history;
  if (reply.room !== undefined) return renderRoomReply(request, reply);
  switch (request.type) {
    case "rooms":
      // The lobby is always listed, so this is never empty.
      return (reply.rooms ?? []).map((r) => `${r.room}|${r.members}|${r.topic}`).join("\n");
    case "who":
      return (reply.users ?? []).map((u) => `[${u.addr}],${u.name}:online`).join("\n");
    case "rename":
      return `You renamed to ${reply.name}`;
    case "msg":
      return reply.stored
        ? `${reply.to} is offline: the message was stored and will be delivered when they log in`
        : null;
    case "history":
      return renderTextHistory(reply.messages ?? []);
    case "register":
      return `You registered ${reply.name}`;
    case "login":
      return `You logged in as ${reply.name}`;
    case "passwd":
      return "Your password was changed";
    case "kick":
      return `You kicked ${reply.name}`;
    case "ban":
      return `You banned ${reply.name}`;
    case "unban":
      return `You lifted the ban on ${reply.name}`;
    default:
      // The original acknowledges neither public nor private messages.
      return null;
  }
}

/** Renders the reply to a room request (one that names a room). */
function renderRoomReply(request: Request, reply: Reply & { ok: true }): string | null {
  const room = reply.room!;
  switch (request.type) {
    case "join":
      if (reply.already) return `You are in ${room} already`;
      return reply.topic ? `[${room}] topic: ${reply.topic}` : null;
    case "part":
      return `You left ${room}`;
    case "who": {
      const ops = new Set(reply.operators ?? []);
      return (reply.users ?? [])
        .map((u) => `[${room}] [${u.addr}],${u.name}:${ops.has(u.name) ? "operator" : "online"}`)
        .join("\n");
    }
    case "topic":
      // Setting it is told by the room's own line; showing it is this.
      if (request.text !== undefined) return null;
      return reply.topic ? `[${room}] topic: ${reply.topic}` : `[${room}] no topic`;
    case "history":
      return renderTextHistory(reply.messages ?? [], room);
    case "invite":
      return `You invited ${reply.name} to ${room}`;
    case "close":
      return `You closed ${room}`;
    case "kick":
      return `You kicked ${reply.name} from ${room}`;
    default:
      // say, mode, op: the room's own line tells what happened.
      return null;
  }
}

/** The text dialect as a {@link Codec}. */
export const textCodec: Codec = {
  slot: 0,
  parse: parseTextLine,
  encodeEvent(event) {
    return event.wire[0] ??= encoder.encode(renderTextEvent(event) + "\n");
  },
  encodeReply(request, reply) {
    const text = renderTextReply(request, reply);
    return text === null ? null : encoder.encode(text + "\n");
  },
};
