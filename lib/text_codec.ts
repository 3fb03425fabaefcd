/**
 * The text dialect of the Go original: `who`, `rename|NEW`, `to|NAME|TEXT`, anything else is a
 * public message. Replies and events are the original's lines, byte for byte.
 *
 * @module
 */

import type { ChatEvent } from "./events.ts";
import { type Codec, MAX_HISTORY_PAGE, type Reply, type Request } from "./requests.ts";

const encoder = new TextEncoder();

/** The original's usage line for a malformed private message. */
export const TO_FORMAT_ERROR = "Invalid message format. Use: to|<receiver_name>|<message_content>";

/**
 * Parses one text-dialect line into a request.
 *
 * @example
 * ```ts
 * parseTextLine("to|bob|hi | there"); // { type: "msg", to: "bob", text: "hi | there" }
 * ```
 */
export function parseTextLine(line: string): Request {
  if (line === "who") return { type: "who" };
  if (line === "history") return { type: "history" };
  if (line.startsWith("history|")) {
    const limit = Number(line.slice(8));
    if (!Number.isInteger(limit) || limit < 1) {
      return {
        type: "invalid",
        code: "bad_format",
        message: "Invalid history format. Use: history|<count>",
      };
    }
    return { type: "history", limit: Math.min(limit, MAX_HISTORY_PAGE) };
  }
  if (line.startsWith("register|")) return { type: "register", password: line.slice(9) };
  if (line.startsWith("login|")) {
    const bar = line.indexOf("|", 6);
    if (bar < 0) {
      return {
        type: "invalid",
        code: "bad_format",
        message: "Invalid login format. Use: login|<name>|<password>",
      };
    }
    return { type: "login", name: line.slice(6, bar), password: line.slice(bar + 1) };
  }
  if (line.startsWith("passwd|")) {
    const bar = line.indexOf("|", 7);
    if (bar < 0) {
      return {
        type: "invalid",
        code: "bad_format",
        message: "Invalid passwd format. Use: passwd|<old>|<new>",
      };
    }
    return { type: "passwd", old: line.slice(7, bar), new: line.slice(bar + 1) };
  }
  if (line.startsWith("rename|")) return { type: "rename", name: line.slice(7) };
  if (line.startsWith("to|")) {
    const bar = line.indexOf("|", 3);
    if (bar < 0) return { type: "invalid", code: "bad_format", message: TO_FORMAT_ERROR };
    // Unlike the original, the text is the whole rest of the line, `|` included.
    return { type: "msg", to: line.slice(3, bar), text: line.slice(bar + 1) };
  }
  return { type: "say", text: line };
}

/**
 * Renders an event as the original's line (without the newline).
 *
 * @example
 * ```ts
 * renderTextEvent(event); // "[127.0.0.1:5000], alice:hello"
 * ```
 */
export function renderTextEvent(event: ChatEvent): string {
  switch (event.kind) {
    case "public":
      return `[${event.fromAddr}], ${event.from}:${event.text}`;
    case "private":
      return event.offline
        ? `${event.from} sent you a message (at ${new Date(event.ts).toISOString()}): ${event.text}`
        : `${event.from} sent you a message: ${event.text}`;
    case "presence":
      return event.event === "renamed"
        ? `[${event.addr}], ${event.old}:renamed to ${event.name}`
        : `[${event.addr}], ${event.name}:${event.event}`;
    case "notice":
      return event.text;
  }
}

/** Renders a reply as lines (without the final newline), or `null` when none is sent. */
export function renderTextReply(request: Request, reply: Reply): string | null {
  if (!reply.ok) return reply.message;
  switch (request.type) {
    case "who":
      return (reply.users ?? []).map((u) => `[${u.addr}],${u.name}:online`).join("\n");
    case "rename":
      return `You renamed to ${reply.name}`;
    case "msg":
      return reply.stored
        ? `${reply.to} is offline: the message was stored and will be delivered when they log in`
        : null;
    case "history":
      return (reply.messages ?? []).map((m) => `[${m.fromAddr}], ${m.from}:${m.text}`).join("\n") ||
        null;
    case "register":
      return `You registered ${reply.name}`;
    case "login":
      return `You logged in as ${reply.name}`;
    case "passwd":
      return "Your password was changed";
    default:
      // The original acknowledges neither public nor private messages.
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
