/**
 * Catch-up and read markers over real sockets, in both dialects: a device that was away asks
 * for what came after the last message id it saw (the lobby, a room, its private messages) and
 * gets exactly that, paged, with no gaps and no repeats; read markers move on one connection and
 * reach the account's others.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

type Frame = Record<string, unknown>;

const FAST = ["--msg-rate", "0", "--who-rate", "0"];

/** A JSON client named `name`, registered with `name`-password. */
async function registered(port: number, name: string): Promise<JsonClient> {
  const c = await JsonClient.connect(port, { name });
  strictEqual((await c.request({ type: "register", password: `${name}-password` })).type, "ok");
  return c;
}

/** A JSON client logged in as `name`. */
async function loggedIn(port: number, name: string): Promise<JsonClient> {
  const c = await JsonClient.connect(port, { name, password: `${name}-password` });
  strictEqual(c.welcome.account ?? c.welcome.name, name);
  return c;
}

/** Says `text` (in `room`, if given) and returns its message id once acknowledged. */
async function say(c: JsonClient, text: string, room?: string): Promise<number> {
  const reply = await c.request(room ? { type: "say", text, room } : { type: "say", text });
  strictEqual(reply.type, "ok", JSON.stringify(reply));
  return reply.msgId as number;
}

/** Every page of a catch-up from `after`, `limit` at a time, and the replies. */
async function catchUpAll(c: JsonClient, target: string, after: number, limit: number) {
  const pages: Frame[] = [];
  for (;;) {
    const reply = await c.request({ type: "catchup", target, after, limit });
    strictEqual(reply.type, "ok", JSON.stringify(reply));
    pages.push(reply);
    if (!reply.more) return pages;
    after = reply.last as number;
  }
}

function texts(pages: Frame[]): string[] {
  return pages.flatMap((p) => (p.messages as Frame[]).map((m) => m.text as string));
}

Deno.test("catch-up (JSON): exactly what was missed, paged, per target, no gaps or repeats", async (t) => {
  await using server = await startServer(FAST);
  using bob = await registered(server.port, "bob");
  let alice: JsonClient | undefined = await registered(server.port, "alice");
  strictEqual((await alice.request({ type: "join", room: "#dev" })).type, "ok");
  strictEqual((await bob.request({ type: "join", room: "#dev" })).type, "ok");
  const seen = await say(bob, "before the drop");
  alice.close(); // alice's device goes away; her account stays a member of #dev
  alice = undefined;

  const lobby: number[] = [];
  for (let i = 1; i <= 7; i++) {
    lobby.push(await say(bob, `lobby ${i}`));
    // Messages elsewhere in between: ids of other targets are gaps in the lobby's sequence.
    if (i % 3 === 0) await say(bob, `dev ${i}`, "#dev");
  }
  for (const text of ["psst 1", "psst | 2", "psst 3"]) {
    const r = await bob.request({ type: "msg", to: "alice", text });
    strictEqual(r.stored, true);
  }

  using back = await loggedIn(server.port, "alice");

  await t.step("lobby: pages of 3 after the last id seen, oldest first", async () => {
    const pages = await catchUpAll(back, "#lobby", seen, 3);
    deepStrictEqual(pages.map((p) => (p.messages as Frame[]).length), [3, 3, 1]);
    deepStrictEqual(pages.map((p) => p.more), [true, true, false]);
    deepStrictEqual(texts(pages), [1, 2, 3, 4, 5, 6, 7].map((i) => `lobby ${i}`));
    const ids = pages.flatMap((p) => (p.messages as Frame[]).map((m) => m.msgId));
    deepStrictEqual(ids, lobby);
    strictEqual(pages.at(-1)!.last, lobby.at(-1));
    const first = (pages[0].messages as Frame[])[0];
    deepStrictEqual(Object.keys(first).sort(), ["from", "fromAddr", "msgId", "text", "ts"]);
    strictEqual(first.from, "bob");
    strictEqual(pages[0].target, "#lobby");
  });

  await t.step(
    "asking again from the same id gives the same page (a retry repeats nothing new)",
    async () => {
      const a = await back.request({
        type: "catchup",
        target: "#lobby",
        after: lobby[2],
        limit: 2,
      });
      const b = await back.request({
        type: "catchup",
        target: "#lobby",
        after: lobby[2],
        limit: 2,
      });
      deepStrictEqual(a.messages, b.messages);
      deepStrictEqual((a.messages as Frame[]).map((m) => m.msgId), [lobby[3], lobby[4]]);
    },
  );

  await t.step("after the newest: nothing, more false, last is the id asked", async () => {
    const r = await back.request({ type: "catchup", target: "#lobby", after: lobby[6] });
    deepStrictEqual({ ...r, id: undefined }, {
      type: "ok",
      id: undefined,
      target: "#lobby",
      messages: [],
      more: false,
      last: lobby[6],
    });
  });

  await t.step("a room: its own messages only, with the room named", async () => {
    const pages = await catchUpAll(back, "#DEV", seen, 100);
    deepStrictEqual(texts(pages), ["dev 3", "dev 6"]);
    strictEqual(pages[0].target, "#dev");
    ok((pages[0].messages as Frame[]).every((m) => m.room === "#dev"));
  });

  await t.step("private: the account's own private messages, sent and received", async () => {
    const sent = await back.request({ type: "msg", to: "bob", text: "got them" });
    strictEqual(sent.type, "ok");
    const pages = await catchUpAll(back, "private", 0, 2);
    deepStrictEqual(
      pages.flatMap((p) => (p.messages as Frame[]).map((m) => `${m.from}>${m.to}:${m.text}`)),
      ["bob>alice:psst 1", "bob>alice:psst | 2", "bob>alice:psst 3", "alice>bob:got them"],
    );
    // bob's side of the same conversation.
    const bobs = await catchUpAll(bob, "private", 0, 100);
    strictEqual(texts(bobs).length, 4);
  });

  await t.step("only what the asker may read", async () => {
    using guest = await JsonClient.connect(server.port, { name: "guest" });
    const priv = await guest.request({ type: "catchup", target: "private", after: 0 });
    strictEqual(priv.code, "not_logged_in");
    const room = await guest.request({ type: "catchup", target: "#dev", after: 0 });
    strictEqual(room.code, "not_in_room");
    const lobbyToo = await guest.request({ type: "catchup", target: "#lobby", after: 0 });
    strictEqual(texts([lobbyToo]).length, 8); // the lobby is everyone's
  });

  await t.step("bad requests: one clear error each", async () => {
    const cases: [Frame, string][] = [
      [{ type: "catchup", target: "#lobby" }, "after must be a message id (0: from the start)"],
      [
        { type: "catchup", target: "#lobby", after: -1 },
        "after must be a message id (0: from the start)",
      ],
      [
        { type: "catchup", target: "bob", after: 0 },
        'target must be "#lobby", a room or "private"',
      ],
      [
        { type: "catchup", target: "#lobby", after: 0, limit: 0 },
        "limit must be a positive whole number",
      ],
      [{ type: "mark", target: "#lobby", msgId: "x" }, "msgId must be a message id"],
    ];
    for (const [frame, message] of cases) {
      const r = await back.request(frame);
      deepStrictEqual([r.code, r.message], ["bad_request", message]);
    }
  });
});

Deno.test("catch-up (text): catchup|TARGET|AFTER|N lines with ids, then more or end", async () => {
  await using server = await startServer(FAST);
  using bob = await registered(server.port, "bob");
  using tom = await connectText(server.port);
  const first = await say(bob, "one");
  await say(bob, "two | with a bar");
  await say(bob, "three");
  await tom.readUntil((l) => l.endsWith("bob:three"));
  const bobAddr = bob.lines.addr;

  await tom.send(`catchup|#lobby|${first}|1`);
  const page1 = [await tom.readLine(), await tom.readLine()];
  ok(/^catchup\|\d+\|\d{4}-\d\d-\d\dT[\d:.]+Z\|/.test(page1[0]!), page1[0]!);
  strictEqual(page1[0]!.split("|").slice(3).join("|"), `[${bobAddr}], bob:two | with a bar`);
  const id = Number(page1[0]!.split("|")[1]);
  strictEqual(page1[1], `catchup|more|${id}`);

  await tom.send(`catchup|#lobby|${id}`);
  const page2 = [await tom.readLine(), await tom.readLine()];
  strictEqual(page2[0]!.split("|").slice(3).join("|"), `[${bobAddr}], bob:three`);
  strictEqual(page2[1], `catchup|end|${page2[0]!.split("|")[1]}`);

  await tom.send("catchup|private|0");
  strictEqual(
    await tom.readLine(),
    "private history is kept only for registered names: log in with login|NAME|PASSWORD",
  );
  await tom.send("catchup|#lobby|x");
  strictEqual(
    await tom.readLine(),
    "Invalid catchup format. Use: catchup|TARGET|AFTER_MSGID|COUNT",
  );
  // A line that only starts like a command is the public message it always was.
  await tom.send("catchup|on the news");
  strictEqual(await tom.readLine(), `[${tom.addr}], ${tom.addr}:catchup|on the news`);

  // Private messages read the same whichever side asks.
  await tom.send("rename|tom");
  await tom.readUntil((l) => l === "You renamed to tom");
  await tom.send("register|tom-password");
  await tom.readUntil((l) => l === "You registered tom");
  strictEqual((await bob.request({ type: "msg", to: "tom", text: "hi tom" })).type, "ok");
  await tom.readUntil((l) => l === "bob sent you a message: hi tom");
  await tom.send("catchup|private|0");
  const line = await tom.readLine();
  strictEqual(line!.split("|").slice(3).join("|"), "bob -> tom: hi tom");
  strictEqual(await tom.readLine(), `catchup|end|${line!.split("|")[1]}`);
});

Deno.test("read markers: kept per account, moved forward only, told to its other connections", async (t) => {
  await using server = await startServer(FAST);
  using bob = await registered(server.port, "bob");
  using phone = await registered(server.port, "amy");
  using laptop = await connectText(server.port);
  await laptop.send("login|amy|amy-password");
  await laptop.readUntil((l) => l === "You logged in as amy");
  const ids: number[] = [];
  for (let i = 1; i <= 4; i++) ids.push(await say(bob, `news ${i}`));
  await laptop.readUntil((l) => l.endsWith("bob:news 4"));

  await t.step("mark on one connection: ok with the unread count; the other is told", async () => {
    const r = await phone.request({ type: "mark", target: "#lobby", msgId: ids[1] });
    deepStrictEqual([r.target, r.msgId, r.unread], ["#lobby", ids[1], 2]);
    strictEqual(await laptop.readLine(), `marker|#lobby|${ids[1]}|2`);
  });

  await t.step("a marker never moves back, and nobody is told when it does not move", async () => {
    await laptop.send(`mark|#lobby|${ids[0]}`);
    strictEqual(await laptop.readLine(), `marker|#lobby|${ids[1]}|2`);
    await laptop.send(`mark|#lobby|${ids[3]}`);
    strictEqual(await laptop.readLine(), `marker|#lobby|${ids[3]}|0`);
    // The phone hears of the move forward only (nothing was sent for the one back).
    const f = await phone.readUntil((f) => f.type === "marker");
    deepStrictEqual(f, { type: "marker", target: "#lobby", msgId: ids[3], unread: 0 });
  });

  await t.step("markers lists them with unread counts, on a new connection too", async () => {
    await say(bob, "news 5");
    using tablet = await loggedIn(server.port, "amy");
    const r = await tablet.request({ type: "markers" });
    deepStrictEqual(r.markers, [{ target: "#lobby", msgId: ids[3], unread: 1 }]);
    await laptop.send("markers");
    strictEqual(
      await laptop.readUntil((l) => l.startsWith("marker|")),
      `marker|#lobby|${ids[3]}|1`,
    );
    strictEqual(await laptop.readLine(), "markers|end|1");
  });

  await t.step(
    "guests have no markers; a line like mark|... that names no target is a message",
    async () => {
      using guest = await connectText(server.port);
      await guest.send("mark|#lobby|5");
      strictEqual(
        await guest.readLine(),
        "read markers are kept only for registered names: log in with login|NAME|PASSWORD",
      );
      await guest.send("mark|my words");
      strictEqual(await guest.readLine(), `[${guest.addr}], ${guest.addr}:mark|my words`);
    },
  );
});

Deno.test("catch-up survives a restart: private messages and markers are on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-catchup-" });
  const db = `${dir}/fastim.db`;
  let sent: number;
  {
    await using server = await startServer([...FAST, "--db", db]);
    using bob = await registered(server.port, "bob");
    using cat = await registered(server.port, "cat");
    sent = (await bob.request({ type: "msg", to: "cat", text: "remember me" })).msgId as number;
    strictEqual((await cat.request({ type: "mark", target: "private", msgId: sent })).type, "ok");
    await server.stop();
  }
  await using server = await startServer([...FAST, "--db", db]);
  using cat = await loggedIn(server.port, "cat");
  const r = await cat.request({ type: "catchup", target: "private", after: 0 });
  deepStrictEqual((r.messages as Frame[]).map((m) => [m.msgId, m.from, m.to, m.text]), [
    [sent, "bob", "cat", "remember me"],
  ]);
  deepStrictEqual((await cat.request({ type: "markers" })).markers, [
    { target: "private", msgId: sent, unread: 0 },
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("history of private: an account's newest private messages, paging back", async () => {
  await using server = await startServer(FAST);
  using ann = await registered(server.port, "ann");
  using ben = await registered(server.port, "ben");
  using guest = await JsonClient.connect(server.port, { name: "gus" });
  const ids: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const [from, to] = i % 2 ? [ann, "ben"] : [ben, "ann"];
    ids.push((await from.request({ type: "msg", to, text: `pm ${i}` })).msgId as number);
  }
  // Someone else's private message and a public one are not ann's private history.
  await guest.request({ type: "msg", to: "ben", text: "not for ann" });
  await say(ann, "in the lobby");
  using again = await loggedIn(server.port, "ann");
  const newest = await again.request({ type: "history", room: "private", limit: 3 });
  strictEqual(newest.type, "ok", JSON.stringify(newest));
  deepStrictEqual((newest.messages as Frame[]).map((m) => [m.msgId, m.from, m.to, m.text]), [
    [ids[2], "ann", "ben", "pm 3"],
    [ids[3], "ben", "ann", "pm 4"],
    [ids[4], "ann", "ben", "pm 5"],
  ]);
  const older = await again.request({
    type: "history",
    room: "private",
    limit: 3,
    before: ids[2],
  });
  deepStrictEqual((older.messages as Frame[]).map((m) => m.text), ["pm 1", "pm 2"]);
  // A guest has no private history.
  const refused = await guest.request({ type: "history", room: "private" });
  deepStrictEqual([refused.type, refused.code], ["error", "not_logged_in"]);
});
