import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { renderEvent } from "../../../../lib/server/irc/irc_render.ts";
import { formatIrcLine } from "../../../../lib/protocol/irc_message.ts";
import type { ChatEvent } from "../../../../lib/protocol/events.ts";

const me = (caps: string[] = []) => ({
  name: "bob",
  addr: "127.0.0.1:2",
  nick: "bob",
  caps: new Set(caps),
});
const lines = (e: ChatEvent, caps: string[] = []) => renderEvent(e, me(caps)).map(formatIrcLine);

Deno.test("public messages are PRIVMSG to #lobby or the room; tags with the caps", () => {
  const e: ChatEvent = {
    kind: "public",
    msgId: 7,
    ts: 0,
    from: "jo.ann",
    fromAddr: "10.0.0.1:1",
    text: "hi",
    wire: [],
  };
  assertEquals(lines(e), [":jo|ann!fastim@10.0.0.1 PRIVMSG #lobby :hi"]);
  assertEquals(lines({ ...e, room: "#dev" }, ["server-time", "message-tags"]), [
    "@time=1970-01-01T00:00:00.000Z;msgid=7 :jo|ann!fastim@10.0.0.1 PRIVMSG #dev :hi",
  ]);
});

Deno.test("one's own public message comes back only with echo-message", () => {
  const e: ChatEvent = {
    kind: "public",
    msgId: 7,
    ts: 0,
    from: "bob",
    fromAddr: "127.0.0.1:2",
    text: "hi",
    wire: [],
  };
  assertEquals(lines(e), []);
  assertEquals(lines(e, ["echo-message"]).length, 1);
});

Deno.test("presence is JOIN #lobby, QUIT and NICK; private messages are PRIVMSG to me", () => {
  const p = { kind: "presence" as const, msgId: 1, ts: 0, addr: "10.0.0.1:1", wire: [] as [] };
  assertEquals(lines({ ...p, event: "online", name: "al" }), [":al!fastim@10.0.0.1 JOIN #lobby"]);
  assertEquals(lines({ ...p, event: "online", name: "bob" }), []);
  assertEquals(lines({ ...p, event: "offline", name: "al" }), [
    ":al!fastim@10.0.0.1 QUIT :left the chat",
  ]);
  assertEquals(lines({ ...p, event: "renamed", name: "a.l", old: "al" }), [
    ":al!fastim@10.0.0.1 NICK a|l",
  ]);
  assertEquals(
    lines({
      kind: "private",
      msgId: 2,
      ts: 0,
      from: "al",
      fromAddr: "",
      to: "bob",
      text: "psst",
      wire: [],
    }),
    [":al!fastim@fastim PRIVMSG bob :psst"],
  );
});

Deno.test("room events are JOIN, PART, TOPIC, KICK, MODE and INVITE", () => {
  const r = { kind: "room" as const, msgId: 1, ts: 0, room: "#dev", wire: [] as [] };
  assertEquals(lines({ ...r, event: "kicked", name: "bob", by: "al", text: "bye" }), [
    ":al!fastim@fastim KICK #dev bob :bye",
  ]);
  assertEquals(lines({ ...r, event: "mode", name: "al", inviteOnly: true }), [
    ":al!fastim@fastim MODE #dev :+i",
  ]);
  assertEquals(lines({ ...r, event: "op", name: "bob", by: "al" }), [
    ":al!fastim@fastim MODE #dev +o :bob",
  ]);
  assertEquals(lines({ ...r, event: "invited", name: "bob", by: "al" }), [
    ":al!fastim@fastim INVITE bob :#dev",
  ]);
  assertEquals(lines({ ...r, event: "topic", name: "al", text: "t" }), [
    ":al!fastim@fastim TOPIC #dev :t",
  ]);
});

Deno.test("a bot's public message carries the bot tag only for clients with message-tags", () => {
  const e: ChatEvent = {
    kind: "public",
    msgId: 9,
    ts: 0,
    from: "relay",
    fromAddr: "10.0.0.1:1",
    text: "deployed",
    bot: true,
    wire: [],
  };
  assertEquals(lines(e), [":relay!fastim@10.0.0.1 PRIVMSG #lobby :deployed"]);
  assertEquals(lines(e, ["message-tags"]), [
    "@msgid=9;bot :relay!fastim@10.0.0.1 PRIVMSG #lobby :deployed",
  ]);
});
