import assert from "node:assert/strict";
import {
  formatTime,
  type Frame,
  nameColor,
  paint,
  renderError,
  renderFrame,
  renderRooms,
  renderSentPrivate,
  renderWho,
  toJsonLine,
} from "../../../lib/client/render.ts";

const TS = new Date(2026, 0, 2, 9, 5, 59).getTime(); // local 09:05
const PLAIN = { me: "alice", color: false };
const COLOR = { me: "alice", color: true };

// deno-lint-ignore no-control-regex -- asserting that no control character gets through
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

// deno-lint-ignore no-control-regex -- removing the renderer's own colour codes
const stripSgr = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

const frame = (f: Record<string, unknown>) => f as Frame;

Deno.test("client render: HH:MM timestamps in local time", () => {
  assert.equal(formatTime(TS), "09:05");
  assert.equal(formatTime(new Date(2026, 0, 2, 23, 0).getTime()), "23:00");
});

Deno.test("client render: events without colour", async (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["public", { type: "public", ts: TS, from: "bob", text: "hi all" }, "09:05 <bob> hi all"],
    ["own public", { type: "public", ts: TS, from: "alice", text: "me" }, "09:05 <alice> me"],
    [
      "private",
      { type: "private", ts: TS, from: "bob", to: "alice", text: "psst" },
      "09:05 [bob -> you] psst",
    ],
    [
      "online with address",
      { type: "presence", ts: TS, event: "online", name: "bob", addr: "1.2.3.4:5" },
      "09:05 * bob (1.2.3.4:5) is online",
    ],
    [
      "online named by address",
      { type: "presence", ts: TS, event: "online", name: "1.2.3.4:5", addr: "1.2.3.4:5" },
      "09:05 * 1.2.3.4:5 is online",
    ],
    [
      "offline",
      { type: "presence", ts: TS, event: "offline", name: "bob", addr: "x" },
      "09:05 * bob is offline",
    ],
    [
      "renamed",
      { type: "presence", ts: TS, event: "renamed", name: "robert", old: "bob", addr: "x" },
      "09:05 * bob is now known as robert",
    ],
    [
      "notice",
      { type: "notice", ts: TS, code: "shutdown", text: "server is shutting down" },
      "09:05 ! server is shutting down",
    ],
  ];
  for (const [name, f, want] of cases) {
    await t.step(name, () => assert.equal(renderFrame(frame(f), PLAIN), want));
  }
  await t.step("replies and unknown types are not events", () => {
    assert.equal(renderFrame(frame({ type: "ok", id: 1 }), PLAIN), null);
    assert.equal(renderFrame(frame({ type: "mystery" }), PLAIN), null);
  });
  await t.step("a missing ts uses now", () => {
    assert.equal(
      renderFrame(frame({ type: "public", from: "b", text: "x" }), PLAIN, TS),
      "09:05 <b> x",
    );
  });
});

Deno.test("client render: history and offline messages are marked", () => {
  const history = frame({ type: "public", ts: TS, from: "bob", text: "old", history: true });
  assert.equal(renderFrame(history, PLAIN), "09:05 <bob> old");
  assert.equal(renderFrame(history, COLOR), "\x1b[2m09:05 <bob> old\x1b[0m", "all grey");
  const away = frame({ type: "private", ts: TS, from: "bob", text: "hi", offline: true });
  assert.equal(renderFrame(away, PLAIN), "09:05 [bob -> you] hi (sent while you were away)");
  assert.equal(
    renderSentPrivate("bob", "hi", TS, PLAIN, true),
    "09:05 [you -> bob] hi (stored: bob gets it at next login)",
  );
});

Deno.test("client render: sent private messages and who", () => {
  assert.equal(renderSentPrivate("bob", "hey", TS, PLAIN), "09:05 [you -> bob] hey");
  assert.equal(
    renderWho([{ name: "bob", addr: "x" }, { name: "Alice", addr: "y" }], PLAIN),
    "online (2): bob, Alice (you)",
  );
  assert.equal(renderWho("garbage", PLAIN), "online (0): ");
  assert.equal(renderError("nope", PLAIN), "! nope");
});

Deno.test("client render: colours", async (t) => {
  await t.step("a name keeps its colour, whatever its case", () => {
    assert.equal(nameColor("Bob"), nameColor("bob"));
    assert.equal(nameColor("bob"), nameColor("bob"));
    const colours = new Set(["a", "b", "c", "d", "e", "f", "g", "h"].map(nameColor));
    assert.ok(colours.size > 3, "names spread over several colours");
  });
  await t.step("a name is painted in its colour", () => {
    const line = renderFrame(frame({ type: "public", ts: TS, from: "bob", text: "x" }), COLOR)!;
    assert.ok(line.includes(`\x1b[${nameColor("bob")}mbob\x1b[0m`), JSON.stringify(line));
  });
  await t.step("own messages are bold", () => {
    const line = renderFrame(frame({ type: "public", ts: TS, from: "alice", text: "x" }), COLOR)!;
    assert.ok(line.includes(`\x1b[1;${nameColor("alice")}malice`), JSON.stringify(line));
    assert.ok(line.includes("\x1b[1mx\x1b[0m"));
  });
  await t.step("private messages are magenta", () => {
    const line = renderFrame(frame({ type: "private", ts: TS, from: "bob", text: "x" }), COLOR)!;
    assert.ok(line.includes("\x1b[35mx\x1b[0m"));
  });
  await t.step("without colour there is no escape at all", () => {
    assert.equal(paint("x", "31", false), "x");
    const line = renderFrame(frame({ type: "private", ts: TS, from: "bob", text: "x" }), PLAIN)!;
    assert.ok(!line.includes("\x1b"));
  });
});

Deno.test("client render: hostile names and texts reach the terminal without controls", async (t) => {
  const evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u009b1m\u202eabc\r\nline\x07\x00";
  const frames: Record<string, unknown>[] = [
    { type: "public", ts: TS, from: evil, text: evil },
    { type: "private", ts: TS, from: evil, to: evil, text: evil },
    { type: "presence", ts: TS, event: "online", name: evil, addr: evil },
    { type: "presence", ts: TS, event: "renamed", name: evil, old: evil, addr: evil },
    { type: "presence", ts: TS, event: evil, name: evil },
    { type: "notice", ts: TS, code: evil, text: evil },
    { type: "public", ts: "soon", from: { a: evil }, text: [evil] },
    { type: "public", ts: TS, from: null, text: 42 },
  ];
  for (const f of frames) {
    await t.step(String(f.type), () => {
      const plain = renderFrame(frame(f), { me: evil, color: false })!;
      assert.doesNotMatch(plain, CONTROL, JSON.stringify(plain));
      // With colour, the only escapes are the SGR codes the renderer adds around the same text.
      const colored = renderFrame(frame(f), { me: evil, color: true })!;
      assert.equal(stripSgr(colored), plain);
    });
  }
  await t.step("errors and who lists too", () => {
    assert.doesNotMatch(renderError(evil, PLAIN), CONTROL);
    assert.doesNotMatch(renderWho([{ name: evil }], PLAIN), CONTROL);
    assert.doesNotMatch(renderSentPrivate(evil, evil, TS, PLAIN), CONTROL);
  });
});

Deno.test("client render: JSON lines escape every terminal control but stay lossless", () => {
  const f = { type: "public", from: "b", text: "\x1b[2J\u009b\u202e\x7f\u2028ok" };
  const line = toJsonLine(f);
  assert.doesNotMatch(line, CONTROL);
  assert.doesNotMatch(line, /[\u2028\u2029]/);
  assert.deepEqual(JSON.parse(line), f);
});

Deno.test("client render: lines about another room than the current one carry its name", async (t) => {
  const inDev = { ...PLAIN, room: "#dev" };
  const cases: [string, Record<string, unknown>, typeof PLAIN & { room?: string }, string][] = [
    [
      "a room message in it",
      { type: "public", ts: TS, from: "bob", text: "hi", room: "#Dev" },
      inDev,
      "09:05 <bob> hi",
    ],
    [
      "a room message elsewhere",
      { type: "public", ts: TS, from: "bob", text: "hi", room: "#ops" },
      inDev,
      "09:05 [#ops] <bob> hi",
    ],
    [
      "a lobby message from a room",
      { type: "public", ts: TS, from: "bob", text: "hi" },
      inDev,
      "09:05 [#lobby] <bob> hi",
    ],
    [
      "a lobby message in the lobby (as before rooms)",
      { type: "public", ts: TS, from: "bob", text: "hi" },
      PLAIN,
      "09:05 <bob> hi",
    ],
    [
      "a room's backlog",
      { type: "public", ts: TS, from: "bob", text: "hi", room: "#ops", history: true },
      PLAIN,
      "09:05 [#ops] <bob> hi",
    ],
    [
      "joined",
      { type: "room", ts: TS, room: "#dev", event: "joined", name: "bob" },
      inDev,
      "09:05 * bob joined #dev",
    ],
    [
      "you joined",
      { type: "room", ts: TS, room: "#dev", event: "joined", name: "alice" },
      PLAIN,
      "09:05 [#dev] * you joined #dev",
    ],
    [
      "left",
      { type: "room", ts: TS, room: "#dev", event: "left", name: "bob" },
      inDev,
      "09:05 * bob left #dev",
    ],
    [
      "topic",
      { type: "room", ts: TS, room: "#dev", event: "topic", name: "bob", text: "ship it" },
      inDev,
      "09:05 * bob set the topic: ship it",
    ],
    [
      "topic cleared",
      { type: "room", ts: TS, room: "#dev", event: "topic", name: "bob" },
      inDev,
      "09:05 * bob cleared the topic",
    ],
    [
      "kicked",
      {
        type: "room",
        ts: TS,
        room: "#dev",
        event: "kicked",
        name: "alice",
        by: "bob",
        text: "spam",
      },
      inDev,
      "09:05 * bob kicked you from #dev: spam",
    ],
    [
      "mode",
      { type: "room", ts: TS, room: "#dev", event: "mode", name: "bob", inviteOnly: true },
      inDev,
      "09:05 * bob made the room invite-only",
    ],
    [
      "mode off",
      { type: "room", ts: TS, room: "#dev", event: "mode", name: "bob", inviteOnly: false },
      inDev,
      "09:05 * bob opened the room to everyone",
    ],
    [
      "op",
      { type: "room", ts: TS, room: "#dev", event: "op", name: "carol", by: "bob" },
      inDev,
      "09:05 * bob made carol an operator",
    ],
    [
      "invited",
      { type: "room", ts: TS, room: "#ops", event: "invited", name: "alice", by: "bob" },
      PLAIN,
      "09:05 [#ops] * bob invited you to #ops: /join #ops",
    ],
    [
      "closed",
      { type: "room", ts: TS, room: "#dev", event: "closed", name: "root" },
      inDev,
      "09:05 * root closed #dev; you are no longer in it",
    ],
    [
      "unread",
      { type: "room", ts: TS, room: "#dev", event: "unread", more: 7, before: 3 },
      PLAIN,
      "09:05 [#dev] * 7 older unread in #dev: /history there pages back",
    ],
  ];
  for (const [what, f, view, line] of cases) {
    await t.step(what, () => assert.equal(renderFrame(frame(f), view), line));
  }
  await t.step("a hostile room name reaches the terminal without controls", () => {
    const line = renderFrame(
      frame({ type: "public", ts: TS, from: "b", text: "x", room: "#a\x1b[2J\u202e" }),
      COLOR,
    )!;
    assert.ok(!CONTROL.test(stripSgr(line)), JSON.stringify(line));
  });
});

Deno.test("client render: who in a room marks operators; rooms lists the current one", () => {
  assert.equal(
    renderWho([{ name: "alice" }, { name: "bob" }], PLAIN, "#dev", ["bob", "Alice"]),
    "in #dev (2): alice (you, operator), bob (operator)",
  );
  assert.equal(renderWho([{ name: "bob" }], PLAIN, "#lobby"), "online (1): bob");
  const list = [
    { room: "#lobby", topic: "", members: 3, member: true },
    { room: "#dev", topic: "ship | it", members: 2, member: true, operator: true },
    { room: "#ops", topic: "", members: 1, inviteOnly: true, member: true },
    { room: "#misc", topic: "", members: 1, member: false },
    null,
  ];
  assert.deepEqual(renderRooms(list, { ...PLAIN, room: "#dev" }, (r) => r === "#ops" ? 4 : 0), [
    "rooms (4); /join #ROOM joins or switches:",
    "  #lobby (3 online)",
    "* #dev (2 members, joined, operator): ship | it",
    "  #ops (1 member, invite-only, joined, 4 unread)",
    "  #misc (1 member)",
  ]);
});

Deno.test("client render: a message naming you stands out (colour only; plain text unchanged)", () => {
  const f = frame({ type: "public", ts: TS, from: "bob", text: "alice: look", mention: true });
  assert.equal(renderFrame(f, PLAIN), "09:05 <bob> alice: look");
  const colored = renderFrame(f, COLOR)!;
  assert.ok(colored.includes(paint("alice: look", "1;7;33", true)), colored);
  const plain = renderFrame({ ...f, mention: undefined }, COLOR)!;
  assert.ok(!plain.includes("\x1b[1;7;33m"), plain);
});
