/**
 * How chat events look to an IRC client: pure functions from a {@link ChatEvent} and who is
 * receiving it to IRC messages. The lobby is the channel `#lobby`, rooms are channels of their
 * own name, names are nicks (irc_names.ts). What a client sees depends on its capabilities
 * (`server-time`, `message-tags`, `echo-message`), so lines are made per recipient.
 *
 * @module
 */

import type { ChatEvent, RoomEvent } from "../../protocol/events.ts";
import type { IrcMessage } from "../../protocol/irc_message.ts";
import { LOBBY } from "../../core/rooms.ts";
import { hostOf, nickOf } from "./irc_names.ts";

/** The server's name in IRC lines (the source of numerics). */
export const SERVER_NAME = "fastim";
/** The user part of every `nick!user@host`: FastIM has no separate user names. */
const USER_PART = "fastim";

/** Who an event is rendered for. */
export interface Recipient {
  /** The FastIM name and address of the recipient's user. */
  name: string;
  addr: string;
  /** The nick the client knows itself by. */
  nick: string;
  /** The capabilities it enabled. */
  caps: ReadonlySet<string>;
}

/** `nick!user@host` of the FastIM user `name` at `addr`. */
export function sourceOf(name: string, addr?: string): string {
  return `${nickOf(name)}!${USER_PART}@${hostOf(addr)}`;
}

/** The tags a message gets for `me`: `time` with server-time, `msgid` with message-tags. */
export function tagsFor(me: Recipient, ts?: number, msgId?: number): Record<string, string> {
  const tags: Record<string, string> = {};
  if (ts !== undefined && me.caps.has("server-time")) tags.time = new Date(ts).toISOString();
  if (msgId !== undefined && me.caps.has("message-tags")) tags.msgid = String(msgId);
  return tags;
}

/** The IRC channel of a room's display name (undefined: the lobby). */
export function channelOf(room: string | undefined): string {
  return room ?? LOBBY;
}

/**
 * The IRC lines `event` becomes for `me` (none when IRC has nothing to show, such as its own
 * message without echo-message).
 *
 * @example
 * ```ts
 * import { renderEvent } from "./irc_render.ts";
 *
 * const me = { name: "bob", addr: "127.0.0.1:2", nick: "bob", caps: new Set<string>() };
 * renderEvent({
 *   kind: "public", msgId: 7, ts: 0, from: "jo.ann", fromAddr: "127.0.0.1:1", text: "hi", wire: [],
 * }, me); // [{ tags: {}, source: "jo|ann!fastim@127.0.0.1", command: "PRIVMSG", params: ["#lobby", "hi"] }]
 * ```
 */
export function renderEvent(event: ChatEvent, me: Recipient): IrcMessage[] {
  switch (event.kind) {
    case "public": {
      const own = event.from === me.name && event.fromAddr === me.addr;
      if (own && !event.history && !me.caps.has("echo-message")) return [];
      const tags = tagsFor(me, event.ts, event.msgId);
      // IRCv3 bot mode: the `bot` tag marks a bot's message for clients that take tags.
      if (event.bot && me.caps.has("message-tags")) tags.bot = "";
      return [{
        tags,
        source: sourceOf(event.from, event.fromAddr),
        command: "PRIVMSG",
        params: [channelOf(event.room), event.text],
      }];
    }
    case "private":
      return [{
        tags: tagsFor(me, event.ts, event.msgId),
        source: sourceOf(event.from, event.fromAddr || undefined),
        command: "PRIVMSG",
        // The copy for an account's other connections is the sender's own message.
        params: [event.echo ? nickOf(event.to) : me.nick, event.text],
      }];
    case "presence": {
      const tags = tagsFor(me, event.ts);
      if (event.event === "online") {
        if (event.name === me.name) return [];
        return [{
          tags,
          source: sourceOf(event.name, event.addr),
          command: "JOIN",
          params: [LOBBY],
        }];
      }
      if (event.event === "offline") {
        return [{
          tags,
          source: sourceOf(event.name, event.addr),
          command: "QUIT",
          params: ["left the chat"],
        }];
      }
      return [{
        tags,
        source: sourceOf(event.old ?? "", event.addr),
        command: "NICK",
        params: [nickOf(event.name)],
      }];
    }
    case "room":
      return renderRoomEvent(event, me);
    case "notice":
      return [{ tags: {}, command: "ERROR", params: [event.text] }];
    case "marker":
      // Read markers (lib/core/history.ts) are moved by text and JSON clients; IRC has no line
      // for them here.
      return [];
  }
}

function renderRoomEvent(event: RoomEvent, me: Recipient): IrcMessage[] {
  const tags = tagsFor(me, event.ts);
  const channel = event.room;
  const from = (name: string, addr?: string) => sourceOf(name, addr);
  switch (event.event) {
    case "joined":
      return [{ tags, source: from(event.name, event.addr), command: "JOIN", params: [channel] }];
    case "left":
      return [{ tags, source: from(event.name, event.addr), command: "PART", params: [channel] }];
    case "topic":
      return [{
        tags,
        source: from(event.name),
        command: "TOPIC",
        params: [channel, event.text ?? ""],
      }];
    case "kicked":
      return [{
        tags,
        source: from(event.by ?? SERVER_NAME),
        command: "KICK",
        params: [channel, nickOf(event.name), event.text || "kicked"],
      }];
    case "mode":
      return [{
        tags,
        source: from(event.name),
        command: "MODE",
        params: [channel, event.inviteOnly ? "+i" : "-i"],
      }];
    case "op":
      return [{
        tags,
        source: from(event.by ?? SERVER_NAME),
        command: "MODE",
        params: [channel, "+o", nickOf(event.name)],
      }];
    case "invited":
      return [{
        tags,
        source: from(event.by ?? SERVER_NAME),
        command: "INVITE",
        params: [me.nick, channel],
      }];
    case "closed":
      return [{
        tags,
        source: from(me.name, me.addr),
        command: "PART",
        params: [channel, `the room was closed by ${nickOf(event.name)}`],
      }];
    case "unread":
      return [{
        tags,
        source: SERVER_NAME,
        command: "NOTICE",
        params: [channel, `${event.more ?? 0} older unread messages are not shown`],
      }];
  }
}
