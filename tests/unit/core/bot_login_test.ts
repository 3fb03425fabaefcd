/**
 * Bots in the core and the dispatcher: a bot's name is only the bot's (rename and register refuse
 * it), `bot_login` signs a session in with a token the store knows (and not with one it does not),
 * and the bot's public messages, in the lobby and in rooms, carry the bot mark.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { newBotToken } from "../../../lib/core/bot_tokens.ts";
import type { Peer } from "../../../lib/core/user.ts";
import type { ChatEvent, PublicEvent } from "../../../lib/protocol/events.ts";
import type { Reply } from "../../../lib/protocol/requests.ts";
import { wireChat } from "../../../lib/server/backend.ts";
import { SERVER_DEFAULTS } from "../../../lib/server/config.ts";
import { Logger } from "../../../lib/shared/log.ts";
import { MemoryStorage } from "../../../lib/store/memory.ts";

function chat() {
  const store = new MemoryStorage();
  const { token, digest } = newBotToken();
  strictEqual(store.addBot("relay", "Relay", digest, 0), "ok");
  const wired = wireChat(store, {
    historyOnJoin: 0,
    replyBudgetBytes: 64 * 1024,
    admins: [],
    conns: SERVER_DEFAULTS.conns,
  }, new Logger("error"));
  const join = (addr: string) => {
    const events: ChatEvent[] = [];
    const kicks: string[] = [];
    const peer: Peer = { deliver: (e) => events.push(e), kick: (code) => kicks.push(code) };
    const user = wired.core.join(peer, addr);
    const requester = { user, ip: "127.0.0.1", sendsAcks: false, closing: false };
    return { user, requester, events, kicks };
  };
  const run = async (requester: ReturnType<typeof join>["requester"], request: unknown) =>
    await wired.dispatcher.execute(requester, request as never) as Reply;
  return { ...wired, store, token, join, run };
}

Deno.test("a bot's name is refused to everyone else: rename and register", async () => {
  const c = chat();
  const guest = c.join("127.0.0.1:1");
  const renamed = await c.run(guest.requester, { type: "rename", name: "RELAY" });
  strictEqual(renamed.ok, false);
  strictEqual(!renamed.ok && renamed.code, "name_registered");
  strictEqual(!renamed.ok && renamed.message, "RELAY is a bot's name: choose another name");
  strictEqual(c.core.claimable({ ...guest.user, name: "relay", addr: "x" } as never).ok, false);
});

Deno.test("bot_login signs in with a known token only, and marks the bot's messages", async () => {
  const c = chat();
  const bot = c.join("127.0.0.1:2");
  const other = c.join("127.0.0.1:3");
  const wrong = await c.run(bot.requester, { type: "bot_login", token: newBotToken().token });
  strictEqual(!wrong.ok && wrong.code, "login_failed");
  const garbage = await c.run(bot.requester, { type: "bot_login", token: "nope" });
  strictEqual(!garbage.ok && garbage.code, "login_failed");
  strictEqual(bot.user.bot, false);

  const signed = await c.run(bot.requester, { type: "bot_login", token: c.token });
  deepStrictEqual(signed, { ok: true, name: "Relay" });
  strictEqual(bot.user.bot, true);
  strictEqual(bot.user.account, undefined);

  await c.run(bot.requester, { type: "say", text: "deployed" });
  const lobby = other.events.find((e) => e.kind === "public") as PublicEvent;
  strictEqual(lobby.bot, true);
  strictEqual(lobby.from, "Relay");
  other.events.length = 0;
  await c.run(bot.requester, { type: "join", room: "#dev" });
  await c.run(other.requester, { type: "join", room: "#dev" });
  await c.run(bot.requester, { type: "say", room: "#dev", text: "in the room" });
  const room = other.events.find((e) => e.kind === "public") as PublicEvent;
  strictEqual(room.room, "#dev");
  strictEqual(room.bot, true);
  // A person's message is not marked.
  await c.run(other.requester, { type: "say", text: "thanks" });
  const mine = bot.events.filter((e) => e.kind === "public").at(-1) as PublicEvent;
  strictEqual(mine.text, "thanks");
  strictEqual(mine.bot, undefined);
});

Deno.test("bot_login kicks a guest who held the name before the bot was made; a bot's sessions share it", async () => {
  const c = chat();
  const guest = c.join("127.0.0.1:5");
  strictEqual((await c.run(guest.requester, { type: "rename", name: "ghost" })).ok, true);
  const { token, digest } = newBotToken();
  strictEqual(c.store.addBot("ghost", "Ghost", digest, 0), "ok");
  const bot = c.join("127.0.0.1:6");
  deepStrictEqual(await c.run(bot.requester, { type: "bot_login", token }), {
    ok: true,
    name: "Ghost",
  });
  deepStrictEqual(guest.kicks, ["replaced"]);
  // A second session of the same bot (another thread's) shares the name instead of kicking.
  const twin = c.join("127.0.0.1:7");
  strictEqual((await c.run(twin.requester, { type: "bot_login", token })).ok, true);
  deepStrictEqual(bot.kicks, []);
  strictEqual(c.core.findAll("ghost").length, 2);
});
