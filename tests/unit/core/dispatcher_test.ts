import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Requester } from "../../../lib/core/dispatcher.ts";
import type { Peer } from "../../../lib/core/user.ts";
import type { ChatEvent } from "../../../lib/protocol/events.ts";
import type { Reply } from "../../../lib/protocol/requests.ts";
import { memoryChat, type MemoryChatOptions } from "../../helpers/memory_chat.ts";

/** A peer that records what the core hands it. */
class FakePeer implements Peer {
  readonly events: ChatEvent[] = [];
  readonly kicks: string[] = [];
  deliver(event: ChatEvent): void {
    this.events.push(event);
  }
  kick(code: string, text: string): void {
    this.kicks.push(`${code}: ${text}`);
  }
}

/** A dispatcher on in-memory storage, and a way to connect requesters to it. */
function setup(options: MemoryChatOptions = {}) {
  const { store, core, dispatcher, lines } = memoryChat({ now: () => 1_000, ...options });
  let port = 5000;
  const connect = (name?: string) => {
    const peer = new FakePeer();
    const requester: Requester & { closing: boolean } = {
      user: core.join(peer, `127.0.0.1:${port++}`),
      ip: "127.0.0.1",
      sendsAcks: true,
      closing: false,
    };
    if (name) ok(core.rename(requester.user, name).ok);
    return { requester, peer };
  };
  return { store, core, dispatcher, connect, lines };
}

function expectError(reply: Reply, code: string, message?: string | RegExp): void {
  ok(!reply.ok, `expected ${code}, got ${JSON.stringify(reply)}`);
  strictEqual(reply.code, code);
  if (typeof message === "string") strictEqual(reply.message, message);
  else if (message) ok(message.test(reply.message), reply.message);
}

Deno.test("Dispatcher: say stores the message, and history returns it", async () => {
  const { dispatcher, connect, store } = setup();
  const { requester } = connect("tom");
  const said = dispatcher.execute(requester, { type: "say", text: "hello" }) as Reply;
  ok(said.ok && said.msgId !== undefined);
  await new Promise<void>((r) => store.afterCommit(() => r()));
  const history = dispatcher.execute(requester, { type: "history" }) as Reply;
  ok(history.ok);
  deepStrictEqual(history.messages?.map((m) => [m.msgId, m.from, m.text]), [
    [said.msgId, "tom", "hello"],
  ]);
  deepStrictEqual(dispatcher.joinHistory().map((e) => [e.kind, e.text, e.history]), [
    ["public", "hello", true],
  ]);
});

Deno.test("Dispatcher: history keeps the newest messages that fit the reply budget", () => {
  // Each message counts 3 bytes per character plus 160: three 100-character ones need 1380.
  const { dispatcher, connect } = setup({ budget: 1_000 });
  const { requester } = connect("tom");
  for (const c of "abc") dispatcher.execute(requester, { type: "say", text: c.repeat(100) });
  const reply = dispatcher.execute(requester, { type: "history", limit: 10 }) as Reply;
  ok(reply.ok);
  deepStrictEqual(reply.messages?.map((m) => m.text[0]), ["b", "c"]);
});

Deno.test("Dispatcher: register, then log in from another connection alongside, then with takeover", async () => {
  const { dispatcher, connect, store } = setup();
  const first = connect("tom");
  const registered = await dispatcher.execute(first.requester, {
    type: "register",
    password: "correct horse",
  });
  deepStrictEqual(registered, { ok: true, name: "tom" });
  strictEqual(first.requester.user.account, "tom");
  strictEqual(store.account("tom")?.name, "tom");

  const second = connect();
  const wrong = await dispatcher.execute(second.requester, {
    type: "login",
    name: "tom",
    password: "wrong horse",
  });
  expectError(wrong, "login_failed", "wrong name or password");
  const right = await dispatcher.execute(second.requester, {
    type: "login",
    name: "TOM",
    password: "correct horse",
  });
  ok(right.ok);
  strictEqual(second.requester.user.name, "tom");
  deepStrictEqual(first.peer.kicks, [], "a plain login joins the account's other connection");
  const third = connect();
  const taking = await dispatcher.execute(third.requester, {
    type: "login",
    name: "tom",
    password: "correct horse",
    takeover: true,
  });
  ok(taking.ok);
  deepStrictEqual(first.peer.kicks, ["replaced: you logged in from another connection"]);
  deepStrictEqual(second.peer.kicks, ["replaced: you logged in from another connection"]);
});

Deno.test("Dispatcher: a private message to an offline account waits in its inbox until acked", async () => {
  const { dispatcher, connect } = setup();
  const owner = connect("jane");
  ok((await dispatcher.execute(owner.requester, { type: "register", password: "long enough" })).ok);
  ok(dispatcher.execute(owner.requester, { type: "rename", name: "jane2" }) as Reply);
  const tom = connect("tom");
  const sent = dispatcher.execute(tom.requester, {
    type: "msg",
    to: " jane ",
    text: "hi",
  }) as Reply;
  ok(sent.ok);
  deepStrictEqual([sent.stored, sent.to], [true, "jane"]);
  const waiting = dispatcher.inbox("jane");
  deepStrictEqual(waiting.map((e) => [e.from, e.text, e.offline]), [["tom", "hi", true]]);
  // An ack from someone else's requester touches nothing of jane's.
  dispatcher.execute(tom.requester, { type: "ack", msgIds: [waiting[0].msgId] });
  strictEqual(dispatcher.inbox("jane").length, 1);
  owner.requester.user.account = "jane";
  dispatcher.execute(owner.requester, { type: "ack", msgIds: [waiting[0].msgId] });
  strictEqual(dispatcher.inbox("jane").length, 0);
});

Deno.test("Dispatcher: a connection that closes during a password check gets connection_closed and changes nothing", async (t) => {
  await t.step("register", async () => {
    const { dispatcher, connect, store } = setup();
    const { requester } = connect("tom");
    const pending = dispatcher.execute(requester, { type: "register", password: "long enough" });
    requester.closing = true;
    expectError(await pending, "connection_closed");
    strictEqual(store.account("tom"), undefined);
    strictEqual(requester.user.account, undefined);
  });
  await t.step("login", async () => {
    const { dispatcher, connect } = setup();
    const owner = connect("tom");
    ok(
      (await dispatcher.execute(owner.requester, { type: "register", password: "long enough" })).ok,
    );
    const other = connect();
    const pending = dispatcher.execute(other.requester, {
      type: "login",
      name: "tom",
      password: "long enough",
    });
    other.requester.closing = true;
    expectError(await pending, "connection_closed");
    strictEqual(other.requester.user.account, undefined);
    deepStrictEqual(owner.peer.kicks, []);
  });
});

Deno.test("Dispatcher: failed logins from one address are throttled", async () => {
  const { dispatcher, connect } = setup();
  const { requester } = connect();
  for (let i = 0; i < 5; i++) {
    const r = await dispatcher.execute(requester, {
      type: "login",
      name: "x",
      password: "guessing",
    });
    expectError(r, "login_failed");
  }
  const r = await dispatcher.execute(requester, { type: "login", name: "x", password: "guessing" });
  expectError(r, "rate_limited", "too many failed logins: try again in 60 s");
  ok(!r.ok && r.retryAfterMs === 60_000);
});

Deno.test("Dispatcher: passwd needs a login", async () => {
  const { dispatcher, connect } = setup();
  const { requester } = connect("tom");
  expectError(
    await dispatcher.execute(requester, { type: "passwd", old: "x", new: "long enough" }),
    "not_logged_in",
    "log in first",
  );
});

Deno.test("Dispatcher: kick and ban are for logged-in operators", async (t) => {
  const { dispatcher, connect, core } = setup({ admins: ["op"] });
  const op = connect("op");
  const tom = connect("tom");
  await t.step("not an operator", () => {
    expectError(
      dispatcher.execute(tom.requester, { type: "kick", name: "op" }) as Reply,
      "not_admin",
    );
    expectError(
      dispatcher.execute(op.requester, { type: "kick", name: "tom" }) as Reply,
      "not_admin",
      "only operators (--admin, logged in) may do that",
    );
  });
  ok((await dispatcher.execute(op.requester, { type: "register", password: "long enough" })).ok);
  await t.step("a kick names who is not online", () => {
    expectError(
      dispatcher.execute(op.requester, { type: "kick", name: "nobody" }) as Reply,
      "not_online",
      "nobody is not online",
    );
  });
  await t.step("a kick ends the target's connection with the reason", () => {
    const r = dispatcher.execute(op.requester, { type: "kick", name: "TOM", reason: "spam" });
    deepStrictEqual(r, { ok: true, name: "tom" });
    deepStrictEqual(tom.peer.kicks, ["kicked: you were kicked by op: spam"]);
  });
  await t.step("a bad ban duration is refused without flag wording", () => {
    expectError(
      dispatcher.execute(op.requester, { type: "ban", target: "tom", duration: "soon" }) as Reply,
      "bad_request",
      'ban duration: expected a duration like 60, 500ms, 2m; got "soon"',
    );
  });
  await t.step("a name ban kicks the holder, refuses the name, and unban lifts it", () => {
    const r = dispatcher.execute(op.requester, { type: "ban", target: "Tom", duration: "2m" });
    deepStrictEqual(r, { ok: true, name: "tom" });
    deepStrictEqual(tom.peer.kicks.at(-1), "banned: you are banned from this server");
    core.leave(tom.requester.user); // as the transport does once the kicked connection closes
    const other = connect();
    expectError(
      dispatcher.execute(other.requester, { type: "rename", name: "tom" }) as Reply,
      "name_banned",
      "this name is banned from this server",
    );
    deepStrictEqual(dispatcher.execute(op.requester, { type: "unban", target: "tom" }), {
      ok: true,
      name: "tom",
    });
    ok((dispatcher.execute(other.requester, { type: "rename", name: "tom" }) as Reply).ok);
    expectError(
      dispatcher.execute(op.requester, { type: "unban", target: "tom" }) as Reply,
      "bad_request",
      "tom is not banned",
    );
  });
});

Deno.test("Dispatcher: who lists everyone online; invalid passes its parse error through", () => {
  const { dispatcher, connect } = setup();
  const { requester } = connect("tom");
  connect("jane");
  const who = dispatcher.execute(requester, { type: "who" }) as Reply;
  ok(who.ok);
  deepStrictEqual(who.users?.map((u) => u.name), ["tom", "jane"]);
  deepStrictEqual(
    dispatcher.execute(requester, { type: "invalid", code: "bad_json", message: "not JSON" }),
    { ok: false, code: "bad_json", message: "not JSON" },
  );
});
