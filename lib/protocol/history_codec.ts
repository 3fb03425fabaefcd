/**
 * The history requests in both dialects (catch-up and read markers; lib/core/history.ts carries
 * them out): parsing their text lines and JSON frames, and rendering their text replies. Kept
 * apart from the two codecs so that each codec only hands these requests over.
 *
 * @module
 */

import type { ErrorCode, MarkerEvent, StoredMessage } from "./events.ts";
import { MAX_HISTORY_PAGE, type Reply, type Request, type RequestId } from "./requests.ts";

/** The target naming an account's own private messages. */
export const PRIVATE_TARGET = "private";

/** Messages one `catchup` returns when it names no limit. */
export const CATCHUP_PAGE = 100;

/** Results one `search` returns when it names no limit, and the most it may ask for. */
export const SEARCH_PAGE = 20;
export const MAX_SEARCH_PAGE = 100;

/** The longest search query, in characters. */
export const MAX_SEARCH_QUERY = 200;

/** Whether `target` can name a history target: `#lobby`, `#ROOM` or `private`. */
function isTarget(target: string): boolean {
  return target.startsWith("#") || target === PRIVATE_TARGET;
}

function badFormat(command: string, usage: string, id?: RequestId): Request {
  const r: Request = {
    type: "invalid",
    code: "bad_format",
    message: `Invalid ${command} format. Use: ${usage}`,
  };
  return id === undefined ? r : { ...r, id };
}

/** A whole number in 0..MAX_SAFE_INTEGER, or `undefined`. */
function count(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parses a text line that is a history command (`catchup|TARGET|AFTER[|N]`,
 * `mark|TARGET|MSGID`, `markers`, `search|WORDS[|BEFORE]`), or returns `null` so that the line is what it always was (a
 * public message): only a line whose second field names a target is a command.
 *
 * @example
 * ```ts
 * import { parseHistoryText } from "./history_codec.ts";
 *
 * parseHistoryText("catchup|#dev|120|50"); // { type: "catchup", target: "#dev", after: 120, limit: 50 }
 * parseHistoryText("mark my words"); // null
 * ```
 */
export function parseHistoryText(line: string): Request | null {
  if (line === "markers") return { type: "markers" };
  if (line === "mentions|on" || line === "mentions|off") {
    return { type: "mentions", on: line === "mentions|on" };
  }
  if (line.startsWith("search|")) return parseTextSearch(line.slice("search|".length));
  // Every chat line comes through here: leave the others before splitting them.
  if (!line.startsWith("catchup|") && !line.startsWith("mark|")) return null;
  const fields = line.split("|");
  const [word, target] = fields;
  if ((word !== "catchup" && word !== "mark") || target === undefined || !isTarget(target)) {
    return null;
  }
  if (word === "mark") {
    const msgId = count(fields[2]);
    if (fields.length !== 3 || msgId === undefined) {
      return badFormat("mark", "mark|TARGET|MSGID");
    }
    return { type: "mark", target, msgId };
  }
  const after = count(fields[2]);
  const limit = fields[3] === undefined ? CATCHUP_PAGE : count(fields[3]);
  if (fields.length > 4 || after === undefined || limit === undefined || limit < 1) {
    return badFormat("catchup", "catchup|TARGET|AFTER_MSGID|COUNT");
  }
  return { type: "catchup", target, after, limit: Math.min(limit, MAX_HISTORY_PAGE) };
}

/** `search|QUERY` or `search|QUERY|BEFORE_MSGID` (the next page: the last line's id). */
function parseTextSearch(rest: string): Request {
  const bar = rest.lastIndexOf("|");
  const before = bar < 0 ? undefined : count(rest.slice(bar + 1));
  const query = before === undefined ? rest : rest.slice(0, bar);
  if (query.trim() === "" || query.length > MAX_SEARCH_QUERY) {
    return badFormat(
      "search",
      `search|WORDS (at most ${MAX_SEARCH_QUERY} characters)|BEFORE_MSGID`,
    );
  }
  return before === undefined ? { type: "search", query } : { type: "search", query, before };
}

/**
 * Parses a JSON frame of type `catchup`, `mark`, `markers` or `search`, or returns `null` for any other.
 *
 * @example
 * ```ts
 * import { parseHistoryFrame } from "./history_codec.ts";
 *
 * parseHistoryFrame({ type: "catchup", target: "private", after: 0 }, 7);
 * // { type: "catchup", target: "private", after: 0, limit: 100, id: 7 }
 * ```
 */
export function parseHistoryFrame(
  frame: Record<string, unknown>,
  id: RequestId | undefined,
): Request | null {
  const withId = (r: Request): Request => (id === undefined ? r : { ...r, id });
  const invalid = (code: ErrorCode, message: string) => withId({ type: "invalid", code, message });
  const whole = (field: string): number | undefined => {
    const v = frame[field];
    return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  };
  switch (frame.type) {
    case "markers":
      return withId({ type: "markers" });
    case "mentions":
      return typeof frame.on === "boolean"
        ? withId({ type: "mentions", on: frame.on })
        : invalid("bad_request", "on must be true or false");
    case "search": {
      const query = frame.query;
      if (typeof query !== "string" || query.trim() === "" || query.length > MAX_SEARCH_QUERY) {
        return invalid(
          "bad_request",
          `query must be words to look for (at most ${MAX_SEARCH_QUERY} characters)`,
        );
      }
      const before = frame.before === undefined ? undefined : whole("before");
      const limit = frame.limit === undefined ? SEARCH_PAGE : whole("limit");
      if (before === undefined && frame.before !== undefined) {
        return invalid("bad_request", "before must be a message id");
      }
      if (limit === undefined || limit < 1) {
        return invalid("bad_request", "limit must be a positive whole number");
      }
      const r: Request = { type: "search", query, limit: Math.min(limit, MAX_SEARCH_PAGE) };
      return withId(before === undefined ? r : { ...r, before });
    }
    case "catchup":
    case "mark": {
      const target = frame.target;
      if (typeof target !== "string" || !isTarget(target)) {
        return invalid("bad_request", 'target must be "#lobby", a room or "private"');
      }
      if (frame.type === "mark") {
        const msgId = whole("msgId");
        if (msgId === undefined) return invalid("bad_request", "msgId must be a message id");
        return withId({ type: "mark", target, msgId });
      }
      const after = whole("after");
      if (after === undefined) {
        return invalid("bad_request", "after must be a message id (0: from the start)");
      }
      const limit = frame.limit === undefined ? CATCHUP_PAGE : whole("limit");
      if (limit === undefined || limit < 1) {
        return invalid("bad_request", "limit must be a positive whole number");
      }
      return withId({ type: "catchup", target, after, limit: Math.min(limit, MAX_HISTORY_PAGE) });
    }
    default:
      return null;
  }
}

/** A marker as a text line: `marker|TARGET|MSGID|UNREAD`. */
export function markerLine(m: Pick<MarkerEvent, "target" | "msgId" | "unread">): string {
  return `marker|${m.target}|${m.msgId}|${m.unread}`;
}

/**
 * A stored message as one text line after its `catchup|ID|TIME|` prefix: the live line of a
 * public message (given by the text codec), `FROM -> TO: TEXT` for a private one (the same line
 * whichever side asks).
 */
export function storedLine(
  m: StoredMessage,
  publicLine: (m: StoredMessage, room?: string) => string,
): string {
  return m.to === undefined ? publicLine(m, m.room) : `${m.from} -> ${m.to}: ${m.text}`;
}

/**
 * Renders the text reply to a history request, or `undefined` when `request` is none.
 * `catchup`: `catchup|ID|TIME|LINE` per message, oldest first, then `catchup|more|LAST` (ask
 * again after LAST) or `catchup|end|LAST`.
 */
export function renderHistoryTextReply(
  request: Request,
  reply: Reply & { ok: true },
  publicLine: (m: StoredMessage, room?: string) => string,
): string | undefined {
  switch (request.type) {
    case "catchup": {
      const lines = (reply.messages ?? []).map((m) =>
        `catchup|${m.msgId}|${new Date(m.ts).toISOString()}|${storedLine(m, publicLine)}`
      );
      lines.push(`catchup|${reply.more ? "more" : "end"}|${reply.last}`);
      return lines.join("\n");
    }
    case "mentions":
      return request.on
        ? "mentions are on: messages naming you come as mention|LINE"
        : "mentions are off";
    case "mark":
      return markerLine({ target: reply.target!, msgId: reply.msgId!, unread: reply.unread! });
    case "markers": {
      const markers = reply.markers ?? [];
      return [...markers.map(markerLine), `markers|end|${markers.length}`].join("\n");
    }
    case "search": {
      const messages = reply.messages ?? [];
      const lines = messages.map((m) =>
        `search|${m.msgId}|${new Date(m.ts).toISOString()}|${storedLine(m, publicLine)}`
      );
      lines.push(reply.more ? `search|more|${reply.last}` : `search|end|${messages.length}`);
      return lines.join("\n");
    }
    default:
      return undefined;
  }
}
