/**
 * Search over real sockets, in both dialects: only what the asker may read (the lobby, its rooms,
 * its own private messages), Unicode folded as SQLite's FTS5 does, paged newest first, and a
 * query is words, never query syntax.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

type Frame = Record<string, unknown>;

const FAST = ["--msg-rate", "0", "--who-rate", "0"];

async function registered(port: number, name: string): Promise<JsonClient> {
  const c = await JsonClient.connect(port, { name });
  strictEqual((await c.request({ type: "register", password: `${name}-password` })).type, "ok");
  return c;
}

async function say(c: JsonClient, text: string, room?: string): Promise<number> {
  const reply = await c.request(room ? { type: "say", text, room } : { type: "say", text });
  strictEqual(reply.type, "ok", JSON.stringify(reply));
  return reply.msgId as number;
}

async function found(c: JsonClient, query: string): Promise<string[]> {
  const r = await c.request({ type: "search", query });
  strictEqual(r.type, "ok", JSON.stringify(r));
  return (r.messages as Frame[]).map((m) => m.text as string);
}

Deno.test("search (JSON): only what the asker may read, newest first", async (t) => {
  await using server = await startServer(FAST);
  using alice = await registered(server.port, "alice");
  using carol = await registered(server.port, "carol");
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  strictEqual((await alice.request({ type: "join", room: "#Secret" })).type, "ok");
  strictEqual(
    (await alice.request({ type: "mode", room: "#secret", inviteOnly: true })).type,
    "ok",
  );
  await say(alice, "the plan is public");
  await say(alice, "the plan is secret", "#secret");
  strictEqual(
    (await alice.request({ type: "msg", to: "carol", text: "the plan, privately" })).type,
    "ok",
  );
  await say(bob, "my own plan");

  await t.step("a member sees the lobby, its room and its private messages", async () => {
    const r = await alice.request({ type: "search", query: "plan" });
    deepStrictEqual((r.messages as Frame[]).map((m) => [m.text, m.room, m.to]), [
      ["my own plan", undefined, undefined],
      ["the plan, privately", undefined, "carol"],
      ["the plan is secret", "#Secret", undefined],
      ["the plan is public", undefined, undefined],
    ]);
    strictEqual(r.more, false);
    strictEqual(r.query, "plan");
  });

  await t.step("another account sees its private messages, not the room", async () => {
    deepStrictEqual(await found(carol, "plan"), [
      "my own plan",
      "the plan, privately",
      "the plan is public",
    ]);
  });

  await t.step("a guest sees the lobby only", async () => {
    deepStrictEqual(await found(bob, "plan"), ["my own plan", "the plan is public"]);
  });

  await t.step("every word must be there; word* is a prefix", async () => {
    deepStrictEqual(await found(alice, "plan secret"), ["the plan is secret"]);
    deepStrictEqual(await found(alice, "priv*"), ["the plan, privately"]);
    deepStrictEqual(await found(alice, "pla"), []);
  });
});

Deno.test("search: Unicode is folded (case, accents, scripts), query syntax is only words", async () => {
  await using server = await startServer(FAST);
  using zoe = await JsonClient.connect(server.port, { name: "zoe" });
  for (
    const text of [
      "Un café à Zürich",
      "Привет, Мир",
      "Καλημέρα κόσμε",
      "日本語 テキスト",
      "naïve résumé",
      'AND OR NOT: -minus "quoted" NEAR(x y)',
      "emoji 🎉 party",
    ]
  ) await say(zoe, text);
  deepStrictEqual(await found(zoe, "CAFE"), ["Un café à Zürich"]);
  deepStrictEqual(await found(zoe, "zurich"), ["Un café à Zürich"]);
  deepStrictEqual(await found(zoe, "привет"), ["Привет, Мир"]);
  deepStrictEqual(await found(zoe, "МИР"), ["Привет, Мир"]);
  deepStrictEqual(await found(zoe, "καλημερα"), ["Καλημέρα κόσμε"]);
  deepStrictEqual(await found(zoe, "日本語"), ["日本語 テキスト"]);
  deepStrictEqual(await found(zoe, "naive resume"), ["naïve résumé"]);
  deepStrictEqual(await found(zoe, "party"), ["emoji 🎉 party"]);
  // FTS5 operators typed by a user are words to look for, never syntax (and never an error).
  deepStrictEqual(await found(zoe, 'NOT -minus "quoted'), [
    'AND OR NOT: -minus "quoted" NEAR(x y)',
  ]);
  deepStrictEqual(await found(zoe, "NEAR(x"), ['AND OR NOT: -minus "quoted" NEAR(x y)']);
  const none = await zoe.request({ type: "search", query: "🎉 !!" });
  deepStrictEqual([none.code, none.message], [
    "bad_request",
    "search needs a word to look for (letters or digits)",
  ]);
  const long = await zoe.request({ type: "search", query: "x".repeat(201) });
  strictEqual(long.code, "bad_request");
});

Deno.test("search: paged newest first, in both dialects", async (t) => {
  await using server = await startServer(FAST);
  using ann = await JsonClient.connect(server.port, { name: "ann" });
  using tom = await connectText(server.port);
  const ids: number[] = [];
  for (let i = 1; i <= 25; i++) {
    ids.push(await say(ann, `deploy number ${i}`));
    if (i % 5 === 0) await say(ann, "something else");
  }
  const newestFirst = ids.toReversed();
  await tom.readUntil((l) => l.endsWith("ann:deploy number 25"));
  await tom.readUntil((l) => l.endsWith("ann:something else"));

  await t.step("JSON: pages of 10 by before", async () => {
    const seen: number[] = [];
    let before: number | undefined;
    const sizes: number[] = [];
    for (;;) {
      const r = await ann.request({ type: "search", query: "deploy", limit: 10, before });
      const page = (r.messages as Frame[]).map((m) => m.msgId as number);
      sizes.push(page.length);
      seen.push(...page);
      if (!r.more) break;
      before = r.last as number;
    }
    deepStrictEqual(sizes, [10, 10, 5]);
    deepStrictEqual(seen, newestFirst);
  });

  await t.step("text: search|WORDS, then search|WORDS|BEFORE from the more line", async () => {
    await tom.send("search|deploy");
    const first: string[] = [];
    for (let i = 0; i < 21; i++) first.push((await tom.readLine())!);
    ok(/^search\|\d+\|\d{4}-[\d-]+T[\d:.]+Z\|\[/.test(first[0]), first[0]);
    strictEqual(
      first[0].split("|").slice(3).join("|"),
      `[${ann.lines.addr}], ann:deploy number 25`,
    );
    deepStrictEqual(
      first.slice(0, 20).map((l) => Number(l.split("|")[1])),
      newestFirst.slice(0, 20),
    );
    strictEqual(first[20], `search|more|${newestFirst[19]}`);
    await tom.send(`search|deploy|${newestFirst[19]}`);
    const rest: string[] = [];
    for (let i = 0; i < 6; i++) rest.push((await tom.readLine())!);
    deepStrictEqual(rest.slice(0, 5).map((l) => Number(l.split("|")[1])), newestFirst.slice(20));
    strictEqual(rest[5], "search|end|5");
    await tom.send("search|nothing like this");
    strictEqual(await tom.readLine(), "search|end|0");
    await tom.send("search|   ");
    strictEqual(
      await tom.readLine(),
      "Invalid search format. Use: search|WORDS (at most 200 characters)|BEFORE_MSGID",
    );
  });
});
