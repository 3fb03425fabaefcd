/**
 * Turns server frames and client notes into display lines. Pure: no I/O, no clock (timestamps
 * come from the frame or the caller), so every format is unit-tested.
 *
 * Every string that came from the network goes through {@linkcode sanitizeText} here, before any
 * colour is added, so a hostile server or user can never put a control character or escape
 * sequence on the terminal.
 *
 * @example
 * ```ts
 * import { renderFrame } from "./render.ts";
 *
 * const view = { me: "alice", color: false };
 * renderFrame({ type: "public", ts: 0, from: "bob", text: "hi" }, view); // "00:00 <bob> hi" (UTC)
 * ```
 * @module
 */

import { sanitizeText } from "../shared/sanitize.ts";
import { nameKey } from "../shared/names.ts";
import { LOBBY, roomKey, roomOf } from "./rooms.ts";

/** A decoded frame from the server: a JSON object with a string `type`; the rest is unchecked. */
export type Frame = { type: string } & Record<string, unknown>;

/** Whose screen a line is rendered for. */
export interface View {
  /** The client's current name, to set its own messages apart. */
  me: string;
  /** Add SGR colour codes. */
  color: boolean;
  /** The current room (the lobby when absent): lines about any other room carry its name. */
  room?: string;
}

const SGR = {
  reset: "0",
  bold: "1",
  dim: "2",
  reverse: "7",
  red: "31",
  yellow: "33",
  magenta: "35",
  cyan: "36",
} as const;

/** Colours a name can get: the six basic hues, normal and bright, readable on dark and light. */
const NAME_COLORS = ["31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"];

/** `line` without the colour sequences {@linkcode paint} adds (for a stream without colour). */
export function withoutColor(line: string): string {
  // deno-lint-ignore no-control-regex -- exactly the SGR sequences paint() writes
  return line.replace(/\x1b\[[0-9;]*m/g, "");
}

/** `text` in the SGR `codes` when `color` is on. */
export function paint(text: string, codes: string, color: boolean): string {
  return color && text !== "" ? `\x1b[${codes}m${text}\x1b[0m` : text;
}

/** A stable SGR colour code for a name (FNV-1a hash of its {@linkcode nameKey}), so "Bob" and "bob" match. */
export function nameColor(name: string): string {
  let h = 0x811c9dc5;
  for (const ch of nameKey(name)) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return NAME_COLORS[h % NAME_COLORS.length];
}

/** `HH:MM` in local time. */
export function formatTime(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** A network value as safe display text: non-strings are shown as JSON, never trusted. */
export function safe(value: unknown): string {
  if (value === undefined || value === null) return "";
  return sanitizeText(typeof value === "string" ? value : JSON.stringify(value) ?? "");
}

function timeOf(frame: Frame, now: number): number {
  return typeof frame.ts === "number" && Number.isFinite(frame.ts) ? frame.ts : now;
}

/** A (sanitised) name in its colour; bold when it is the viewer's own. */
export function paintName(name: string, view: View): string {
  const own = nameKey(name) === nameKey(view.me);
  return paint(name, own ? `${SGR.bold};${nameColor(name)}` : nameColor(name), view.color);
}

function stamp(ts: number, view: View): string {
  return paint(formatTime(ts), SGR.dim, view.color);
}

/**
 * `[#ROOM] ` for a line about another room than the viewer's current one, else nothing, so a
 * client that never leaves the lobby shows lobby lines exactly as before rooms.
 */
export function roomTag(frame: Frame, view: View): string {
  const room = roomOf(frame);
  if (roomKey(room) === roomKey(view.room ?? LOBBY)) return "";
  return paint(`[${room}]`, SGR.cyan, view.color) + " ";
}

/**
 * The display line for an incoming event frame (`public`, `private`, `presence`, `notice`, `room`), or
 * `null` for frames that are not events (replies are rendered by whoever made the request).
 * `now` stands in for a missing or bad `ts`.
 */
export function renderFrame(frame: Frame, view: View, now = Date.now()): string | null {
  const at = stamp(timeOf(frame, now), view);
  switch (frame.type) {
    case "public": {
      const from = safe(frame.from);
      if (frame.history === true) {
        // Backlog sent after the welcome: greyed out, so it reads as context rather than news.
        const tag = roomTag(frame, { ...view, color: false });
        return paint(
          `${formatTime(timeOf(frame, now))} ${tag}<${from}> ${safe(frame.text)}`,
          SGR.dim,
          view.color,
        );
      }
      const own = nameKey(from) === nameKey(view.me);
      const text = safe(frame.text);
      // Naming you (the server marks it): bold yellow on reverse, to stand out in a busy room.
      const shown = frame.mention === true
        ? paint(text, `${SGR.bold};${SGR.reverse};${SGR.yellow}`, view.color)
        : own
        ? paint(text, SGR.bold, view.color)
        : text;
      const line = `<${paintName(from, view)}> ${shown}`;
      return `${at} ${roomTag(frame, view)}${line}`;
    }
    case "room":
      return `${at} ${roomTag(frame, view)}${renderRoomEvent(frame, view)}`;
    case "private": {
      // Sent from another of this account's connections: shown as if sent from here.
      if (frame.echo === true) {
        return renderSentPrivate(safe(frame.to), safe(frame.text), timeOf(frame, now), view);
      }
      const mark = (s: string) => paint(s, `${SGR.bold};${SGR.magenta}`, view.color);
      const label = mark("[") + paintName(safe(frame.from), view) + mark(" -> you]");
      const away = frame.offline === true
        ? paint(" (sent while you were away)", SGR.dim, view.color)
        : "";
      return `${at} ${label} ${paint(safe(frame.text), SGR.magenta, view.color)}${away}`;
    }
    case "presence":
      return `${at} ${renderPresence(frame, view)}`;
    case "notice":
      return `${at} ${
        paint(`! ${safe(frame.text) || safe(frame.code)}`, `${SGR.bold};${SGR.yellow}`, view.color)
      }`;
    default:
      return null;
  }
}

function renderPresence(frame: Frame, view: View): string {
  const name = safe(frame.name);
  const who = paintName(name, view);
  const dim = (s: string) => paint(s, SGR.dim, view.color);
  switch (frame.event) {
    case "online": {
      const addr = safe(frame.addr);
      return dim("* ") + who + dim(addr && addr !== name ? ` (${addr}) is online` : " is online");
    }
    case "offline":
      return dim("* ") + who + dim(" is offline");
    case "renamed":
      return dim("* ") + paintName(safe(frame.old), view) + dim(" is now known as ") + who;
    default:
      return dim(`* ${name} ${safe(frame.event)}`);
  }
}

/** A `room` event (someone joined, the topic changed …) in words, without the room's tag. */
function renderRoomEvent(frame: Frame, view: View): string {
  const dim = (s: string) => paint(s, SGR.dim, view.color);
  const name = safe(frame.name);
  const who = nameKey(name) === nameKey(view.me) ? paintName("you", view) : paintName(name, view);
  const by = paintName(safe(frame.by), view);
  const room = roomOf(frame);
  const text = safe(frame.text);
  switch (frame.event) {
    case "joined":
      return dim("* ") + who + dim(` joined ${room}`);
    case "left":
      return dim("* ") + who + dim(` left ${room}`);
    case "topic":
      return text === ""
        ? dim("* ") + who + dim(" cleared the topic")
        : dim("* ") + who + dim(" set the topic: ") + text;
    case "kicked":
      return dim("* ") + by + dim(" kicked ") + who + dim(` from ${room}`) +
        (text === "" ? "" : dim(": ") + text);
    case "mode":
      return dim("* ") + who +
        dim(
          frame.inviteOnly === true ? " made the room invite-only" : " opened the room to everyone",
        );
    case "op":
      return dim("* ") + by + dim(" made ") + who + dim(" an operator");
    case "invited":
      return dim("* ") + by + dim(` invited you to ${room}: /join ${room}`);
    case "closed":
      return dim("* ") + who + dim(` closed ${room}; you are no longer in it`);
    case "unread": {
      const more = typeof frame.more === "number" ? frame.more : 0;
      return dim(`* ${more} older unread in ${room}: /history there pages back`);
    }
    default:
      return dim(`* ${name} ${safe(frame.event)} ${room}`);
  }
}

/**
 * The local echo of a private message the server accepted (the server does not echo these);
 * `stored`: the receiver is a registered user who is offline.
 */
export function renderSentPrivate(
  to: string,
  text: string,
  ts: number,
  view: View,
  stored = false,
): string {
  const mark = (s: string) => paint(s, `${SGR.bold};${SGR.magenta}`, view.color);
  const label = mark("[you -> ") + paintName(safe(to), view) + mark("]");
  const held = stored
    ? paint(` (stored: ${safe(to)} gets it at next login)`, SGR.dim, view.color)
    : "";
  return `${stamp(ts, view)} ${label} ${paint(safe(text), SGR.magenta, view.color)}${held}`;
}

/** A client-side note (connected, reconnecting, help output …), not from the server. */
export function renderInfo(text: string, view: View): string {
  return paint(text, SGR.cyan, view.color);
}

/** A refused request or a local error; `message` may come from the server and is sanitised. */
export function renderError(message: string, view: View): string {
  return paint(`! ${safe(message)}`, SGR.red, view.color);
}

/**
 * The reply to `who`: everyone online (in the lobby), or the members of `room` online with its
 * `operators` marked; the viewer marked.
 */
export function renderWho(users: unknown, view: View, room?: string, operators?: unknown): string {
  const list = Array.isArray(users) ? users : [];
  const ops = new Set((Array.isArray(operators) ? operators : []).map((o) => nameKey(safe(o))));
  const names = list.map((u) => {
    const name = safe((u as Record<string, unknown>)?.name);
    const notes = [
      ...(nameKey(name) === nameKey(view.me) ? ["you"] : []),
      ...(ops.has(nameKey(name)) ? ["operator"] : []),
    ];
    return paintName(name, view) + (notes.length ? ` (${notes.join(", ")})` : "");
  });
  const lobby = room === undefined || room === "" || roomKey(room) === LOBBY;
  const where = lobby ? "online" : `in ${safe(room)}`;
  return `${renderInfo(`${where} (${names.length}):`, view)} ${names.join(", ")}`;
}

/**
 * The reply to `rooms`: one line per room, the current one marked `*`, with its members (online
 * for the lobby), whether the viewer is in it or operates it, unread counts, and the topic.
 */
export function renderRooms(
  rooms: unknown,
  view: View,
  unread: (room: string) => number,
): string[] {
  const list = (Array.isArray(rooms) ? rooms : []).filter((r) =>
    r !== null && typeof r === "object"
  );
  const lines = [renderInfo(`rooms (${list.length}); /join #ROOM joins or switches:`, view)];
  for (const r of list as Record<string, unknown>[]) {
    const room = safe(r.room);
    const lobby = roomKey(room) === LOBBY;
    const current = roomKey(room) === roomKey(view.room ?? LOBBY);
    const count = typeof r.members === "number" ? r.members : 0;
    const notes = [
      lobby ? `${count} online` : `${count} member${count === 1 ? "" : "s"}`,
      ...(r.inviteOnly === true ? ["invite-only"] : []),
      ...(r.member === true && !lobby ? [r.operator === true ? "joined, operator" : "joined"] : []),
      ...(unread(room) > 0 ? [`${unread(room)} unread`] : []),
    ];
    const topic = safe(r.topic);
    lines.push(
      `${current ? "*" : " "} ${paint(room, SGR.bold, view.color)} (${notes.join(", ")})` +
        (topic ? `: ${topic}` : ""),
    );
  }
  return lines;
}

/** Characters that JSON.stringify leaves raw but a terminal may act on: C1 controls, DEL, bidi. */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One frame as one JSON line, lossless but terminal-safe: JSON already escapes C0 controls
 * (ESC becomes `\u001b`); this also escapes C1 controls, DEL and bidi controls.
 */
export function toJsonLine(frame: unknown): string {
  return JSON.stringify(frame).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
