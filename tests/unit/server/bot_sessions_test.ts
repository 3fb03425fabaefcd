/**
 * The bots' sessions (lib/server/bot_sessions.ts) over a chat in memory: a token signs its bot in
 * once however many requests use it; a removed bot's session ends at the next sweep, its streams
 * with it; an unused session with no stream leaves after the idle time (time passed in).
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { newBotToken } from "../../../lib/core/bot_tokens.ts";
import type { ChatEvent } from "../../../lib/protocol/events.ts";
import type { MatterbridgeMessage } from "../../../lib/protocol/matterbridge.ts";
import { wireChat } from "../../../lib/server/backend.ts";
import { BOT_SESSION_IDLE_MS, BotSessions } from "../../../lib/server/bot_sessions.ts";
import { SERVER_DEFAULTS } from "../../../lib/server/config.ts";
import { Logger } from "../../../lib/shared/log.ts";
import { MemoryStorage } from "../../../lib/store/memory.ts";

const WHERE = { addr: "127.0.0.1:4000", ip: "127.0.0.1" };

function setup() {
  const store = new MemoryStorage();
  const { token, digest } = newBotToken();
  store.addBot("relay", "relay", digest, 0);
  const wired = wireChat(store, {
    historyOnJoin: 0,
    replyBudgetBytes: 64 * 1024,
    admins: [],
    conns: SERVER_DEFAULTS.conns,
  }, new Logger("error"));
  const bots = new BotSessions(wired.chat, SERVER_DEFAULTS.flood, new Logger("error"));
  const events: ChatEvent[] = [];
  const person = wired.core.join({ deliver: (e) => events.push(e), kick() {} }, "127.0.0.1:1");
  wired.core.rename(person, "tom");
  const sink = () => {
    const got: MatterbridgeMessage[] = [];
    let closed = false;
    return {
      got,
      get closed() {
        return closed;
      },
      push: (m: MatterbridgeMessage) => void got.push(m),
      close: () => void (closed = true),
    };
  };
  return { store, token, wired, bots, person, events, sink };
}

Deno.test("one token, one presence: concurrent requests sign the bot in once", async () => {
  const t = setup();
  const [a, b] = await Promise.all([
    t.bots.authorize(t.token, WHERE),
    t.bots.authorize(t.token, WHERE),
  ]);
  deepStrictEqual(a, { ok: true, key: "relay", name: "relay" });
  deepStrictEqual(b, a);
  strictEqual(t.wired.core.findAll("relay").length, 1);
  t.bots.close();
});

Deno.test("a removed bot's session ends at the next sweep, and its stream with it", async () => {
  const t = setup();
  strictEqual((await t.bots.authorize(t.token, WHERE)).ok, true);
  const stream = t.sink();
  const subscription = await t.bots.subscribe("relay", undefined, stream);
  deepStrictEqual(subscription?.replay, []);
  t.wired.core.say(t.person, "hello relay");
  deepStrictEqual(stream.got.map((m) => m.text), ["hello relay"]);

  await t.bots.sweep(Date.now());
  strictEqual(stream.closed, false, "a bot still there keeps its session");
  t.store.removeBot("relay");
  strictEqual((await t.bots.authorize(t.token, WHERE)).ok, false);
  await t.bots.sweep(Date.now());
  strictEqual(stream.closed, true);
  strictEqual(t.wired.core.findAll("relay").length, 0);
  t.bots.close();
});

Deno.test("an unused session with no stream leaves after the idle time; one with a stream stays", async () => {
  const t = setup();
  strictEqual((await t.bots.authorize(t.token, WHERE)).ok, true);
  const stream = t.sink();
  const subscription = await t.bots.subscribe("relay", undefined, stream);
  const later = Date.now() + BOT_SESSION_IDLE_MS + 1;
  await t.bots.sweep(later);
  strictEqual(t.wired.core.findAll("relay").length, 1, "an open stream keeps it");
  subscription!.unsubscribe();
  await t.bots.sweep(Date.now() + 1000);
  strictEqual(t.wired.core.findAll("relay").length, 1, "not idle yet");
  await t.bots.sweep(Date.now() + BOT_SESSION_IDLE_MS + 1000);
  strictEqual(t.wired.core.findAll("relay").length, 0);
  strictEqual(
    t.events.some((e) => e.kind === "presence" && e.event === "offline" && e.name === "relay"),
    true,
  );
  // The next request signs it in again.
  strictEqual((await t.bots.authorize(t.token, WHERE)).ok, true);
  strictEqual(t.wired.core.findAll("relay").length, 1);
  t.bots.close();
});
