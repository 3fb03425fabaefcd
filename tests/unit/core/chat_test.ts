import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { ChatCore } from "../../../lib/core/chat.ts";
import type { ChatEvent } from "../../../lib/protocol/events.ts";
import type { Peer, User } from "../../../lib/core/user.ts";

/** A Peer that records every event it is handed. */
class FakePeer implements Peer {
  readonly events: ChatEvent[] = [];
  readonly kicks: string[] = [];
  deliver(event: ChatEvent): void {
    this.events.push(event);
  }
  kick(code: string, text: string): void {
    this.kicks.push(`${code}: ${text}`);
  }
  /** Takes (and forgets) what arrived so far. */
  take(): ChatEvent[] {
    return this.events.splice(0);
  }
}

function setup(n: number, clock = () => 1_000) {
  const core = new ChatCore({ clock });
  const peers: FakePeer[] = [];
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const peer = new FakePeer();
    peers.push(peer);
    users.push(core.join(peer, `127.0.0.1:${5000 + i}`));
  }
  for (const p of peers) p.take();
  return { core, peers, users };
}

function assertOk<T extends { ok: boolean }>(r: T): T & { ok: true } {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as T & { ok: true };
}

Deno.test("ChatCore.join: two connections from one IP:PORT get distinct names", () => {
  // The system reuses a local port towards another destination: a WebSocket (to the HTTP port)
  // and a TCP client (to the chat port) can both be 127.0.0.1:5000.
  const core = new ChatCore({ clock: () => 42 });
  const [a, b, c] = [new FakePeer(), new FakePeer(), new FakePeer()];
  const first = core.join(a, "127.0.0.1:5000");
  const second = core.join(b, "127.0.0.1:5000");
  const third = core.join(c, "127.0.0.1:5000");
  deepStrictEqual([first.name, second.name, third.name], [
    "127.0.0.1:5000",
    "127.0.0.1:5000-2",
    "127.0.0.1:5000-3",
  ]);
  strictEqual(second.addr, "127.0.0.1:5000");
  deepStrictEqual(core.who().map((u) => u.name), [first.name, second.name, third.name]);
  for (const p of [a, b, c]) p.take();
  // A private message to the address reaches the one connection named so.
  assertOk(core.whisper(third, "127.0.0.1:5000", "just you"));
  deepStrictEqual([a.take().length, b.take().length], [1, 0]);
  // A given name, numbered or not, is no name to register.
  for (const u of [first, second]) strictEqual(core.claimable(u).ok, false);
});

Deno.test("ChatCore.join names the user after its address and announces it to everyone", () => {
  const core = new ChatCore({ clock: () => 42 });
  const a = new FakePeer();
  const alice = core.join(a, "127.0.0.1:5000");
  strictEqual(alice.name, "127.0.0.1:5000");
  strictEqual(alice.addr, "127.0.0.1:5000");
  deepStrictEqual(a.take().map((e) => [e.kind, (e as { event?: string }).event]), [
    ["presence", "online"],
  ]);
  const b = new FakePeer();
  core.join(b, "127.0.0.1:5001");
  const [toA] = a.take();
  const [toB] = b.take();
  // One event object for everyone, so it is encoded once per dialect.
  strictEqual(toA, toB);
  deepStrictEqual({ ...toA, wire: undefined }, {
    kind: "presence",
    msgId: 2,
    ts: 42,
    event: "online",
    name: "127.0.0.1:5001",
    addr: "127.0.0.1:5001",
    wire: undefined,
  });
  strictEqual(core.size, 2);
});

Deno.test("ChatCore.join strips control characters from the address it names the user after", () => {
  const core = new ChatCore();
  const u = core.join(new FakePeer(), "1.2.3.4:5\x1b[2J");
  strictEqual(u.name, "1.2.3.4:5");
});

Deno.test("ChatCore.leave announces offline to those left, once", async (t) => {
  await t.step("announced", () => {
    const { core, peers, users } = setup(3);
    core.leave(users[1]);
    strictEqual(peers[1].events.length, 0);
    for (const p of [peers[0], peers[2]]) {
      const [e] = p.take();
      deepStrictEqual([e.kind, (e as { event: string }).event, (e as { name: string }).name], [
        "presence",
        "offline",
        "127.0.0.1:5001",
      ]);
    }
    strictEqual(core.size, 2);
    deepStrictEqual(core.who().map((u) => u.name), ["127.0.0.1:5000", "127.0.0.1:5002"]);
  });
  await t.step("idempotent", () => {
    const { core, peers, users } = setup(2);
    core.leave(users[1]);
    core.leave(users[1]);
    strictEqual(peers[0].take().length, 1);
  });
  await t.step("silent", () => {
    const { core, peers, users } = setup(2);
    core.leave(users[1], true);
    strictEqual(peers[0].take().length, 0);
    strictEqual(core.size, 1);
  });
  await t.step("frees the name", () => {
    const { core, users } = setup(2);
    assertOk(core.rename(users[0], "alice"));
    core.leave(users[0]);
    assertOk(core.rename(users[1], "Alice"));
  });
});

Deno.test("ChatCore.who lists online users in join order", () => {
  const { core, users } = setup(3);
  assertOk(core.rename(users[2], "carol"));
  deepStrictEqual(core.who().map((u) => [u.name, u.addr]), [
    ["127.0.0.1:5000", "127.0.0.1:5000"],
    ["127.0.0.1:5001", "127.0.0.1:5001"],
    ["carol", "127.0.0.1:5002"],
  ]);
});

Deno.test("ChatCore.say delivers one public event to everyone, the sender included", () => {
  const { core, peers, users } = setup(3, () => 777);
  assertOk(core.rename(users[0], "alice"));
  for (const p of peers) p.take();
  const sent = assertOk(core.say(users[0], "hello | world"));
  strictEqual(sent.ts, 777);
  const got = peers.map((p) => p.take());
  for (const g of got) strictEqual(g.length, 1);
  strictEqual(got[0][0], got[1][0]);
  strictEqual(got[0][0], got[2][0]);
  deepStrictEqual({ ...got[0][0], wire: undefined }, {
    kind: "public",
    msgId: sent.msgId,
    ts: 777,
    from: "alice",
    fromAddr: "127.0.0.1:5000",
    text: "hello | world",
    wire: undefined,
  });
});

Deno.test("ChatCore.say sanitises text and refuses empty text", async (t) => {
  const { core, peers, users } = setup(2);
  await t.step("escape sequences, C1 and bidi controls are removed, tab kept", () => {
    assertOk(core.say(users[0], "a\x1b[2Jb\x1b]0;title\x07c\u009b31md\u202ee\tf"));
    const [e] = peers[1].take();
    strictEqual((e as { text: string }).text, "abcde\tf");
    peers[0].take();
  });
  for (const text of ["", "   ", "\x1b[31m", "\u202e"]) {
    await t.step(`refuses ${JSON.stringify(text)}`, () => {
      deepStrictEqual(core.say(users[0], text), {
        ok: false,
        code: "empty_text",
        message: "Please input valid content",
      });
      strictEqual(peers[1].events.length, 0);
    });
  }
});

Deno.test("ChatCore.whisper delivers to the receiver only", async (t) => {
  const { core, peers, users } = setup(3, () => 5);
  assertOk(core.rename(users[0], "alice"));
  assertOk(core.rename(users[1], "Bob"));
  for (const p of peers) p.take();
  await t.step("by exact name", () => {
    const sent = assertOk(core.whisper(users[0], "Bob", "psst | hi"));
    deepStrictEqual(peers[1].take().map((e) => ({ ...e, wire: undefined })), [{
      kind: "private",
      msgId: sent.msgId,
      ts: 5,
      from: "alice",
      fromAddr: "127.0.0.1:5000",
      to: "Bob",
      text: "psst | hi",
      wire: undefined,
    }]);
    strictEqual(peers[0].events.length, 0);
    strictEqual(peers[2].events.length, 0);
  });
  await t.step("case-insensitively", () => {
    assertOk(core.whisper(users[0], "bOB", "x"));
    strictEqual(peers[1].take().length, 1);
  });
  await t.step("to an unrenamed user by address", () => {
    assertOk(core.whisper(users[0], "127.0.0.1:5002", "x"));
    strictEqual(peers[2].take().length, 1);
  });
  await t.step("to oneself", () => {
    assertOk(core.whisper(users[0], "alice", "note"));
    strictEqual(peers[0].take().length, 1);
  });
});

Deno.test("ChatCore.whisper errors", async (t) => {
  const { core, peers, users } = setup(2);
  assertOk(core.rename(users[1], "bob"));
  peers[0].take();
  const cases: [string, string, string, string][] = [
    ["nobody", "hi", "not_online", "the receiver is not online"],
    ["", "hi", "receiver_empty", "Please input valid receiver name"],
    ["  ", "hi", "receiver_empty", "Please input valid receiver name"],
    ["bob", "", "empty_text", "Please input valid content"],
    ["bob", "\x1b[0m", "empty_text", "Please input valid content"],
    ["", "", "receiver_empty", "Please input valid receiver name"],
  ];
  for (const [to, text, code, message] of cases) {
    await t.step(`${JSON.stringify(to)} ${JSON.stringify(text)} → ${code}`, () => {
      deepStrictEqual(core.whisper(users[0], to, text), { ok: false, code, message });
      strictEqual(peers[1].events.length, 0);
    });
  }
});

Deno.test("ChatCore.rename", async (t) => {
  await t.step("announces renamed with the old name to everyone but the renamer", () => {
    const { core, peers, users } = setup(3);
    deepStrictEqual(core.rename(users[0], "alice"), { ok: true, name: "alice" });
    strictEqual(users[0].name, "alice");
    strictEqual(peers[0].events.length, 0);
    for (const p of [peers[1], peers[2]]) {
      const [e] = p.take();
      deepStrictEqual({ ...e, msgId: 0, ts: 0, wire: undefined }, {
        kind: "presence",
        msgId: 0,
        ts: 0,
        event: "renamed",
        name: "alice",
        addr: "127.0.0.1:5000",
        old: "127.0.0.1:5000",
        wire: undefined,
      });
    }
  });
  await t.step("returns the NFC-normalised, trimmed name", () => {
    const { core, users } = setup(1);
    deepStrictEqual(core.rename(users[0], "  Zoe\u0308 "), { ok: true, name: "Zo\u00eb" });
  });
  await t.step("strips escapes from the name first", () => {
    const { core, users } = setup(1);
    deepStrictEqual(core.rename(users[0], "\x1b[31mevil\x1b[0m\u202e"), { ok: true, name: "evil" });
  });
  await t.step("refuses a name taken case-insensitively", () => {
    const { core, peers, users } = setup(2);
    assertOk(core.rename(users[0], "Alice"));
    for (const p of peers) p.take();
    for (const name of ["Alice", "alice", "ALICE", "aLiCe"]) {
      deepStrictEqual(core.rename(users[1], name), {
        ok: false,
        code: "name_taken",
        message: "this name is already used",
      });
    }
    strictEqual(users[1].name, "127.0.0.1:5001");
    strictEqual(peers[0].events.length, 0);
  });
  await t.step("refuses a name equal to someone's address name", () => {
    const { core, users } = setup(2);
    strictEqual(core.rename(users[0], "127.0.0.1:5001").ok, false);
  });
  await t.step("renaming to one's own name in another case is allowed", () => {
    const { core, peers, users } = setup(2);
    assertOk(core.rename(users[0], "alice"));
    peers[1].take();
    deepStrictEqual(core.rename(users[0], "ALICE"), { ok: true, name: "ALICE" });
    strictEqual(peers[1].take().length, 1);
  });
  await t.step("renaming to the same name again announces nothing", () => {
    const { core, peers, users } = setup(2);
    assertOk(core.rename(users[0], "alice"));
    peers[1].take();
    deepStrictEqual(core.rename(users[0], "alice"), { ok: true, name: "alice" });
    strictEqual(peers[1].events.length, 0);
  });
  await t.step("frees the old name", () => {
    const { core, users } = setup(2);
    assertOk(core.rename(users[0], "alice"));
    assertOk(core.rename(users[0], "alicia"));
    assertOk(core.rename(users[1], "alice"));
    strictEqual(core.whisper(users[1], "alicia", "hi").ok, true);
  });
  const invalid: [string, string, string][] = [
    ["", "name_empty", "name may not be empty."],
    ["   ", "name_empty", "name may not be empty."],
    ["\x1b[2J", "name_empty", "name may not be empty."],
    ["a b", "name_invalid_char", "name may not contain a space: use letters, digits, _ - ."],
    ["a|b", "name_invalid_char", 'name may not contain "|": use letters, digits, _ - .'],
    ["x".repeat(33), "name_too_long", "name may be at most 32 characters long."],
  ];
  for (const [name, code, message] of invalid) {
    await t.step(`refuses ${JSON.stringify(name)} with ${code}`, () => {
      const { core, peers, users } = setup(2);
      deepStrictEqual(core.rename(users[0], name), { ok: false, code, message });
      strictEqual(users[0].name, "127.0.0.1:5000");
      strictEqual(peers[1].events.length, 0);
    });
  }
});

Deno.test("ChatCore message ids increase across every kind of event", () => {
  let now = 100;
  const { core, peers, users } = setup(2, () => now++);
  core.rename(users[0], "alice");
  core.say(users[0], "one");
  core.whisper(users[0], "127.0.0.1:5001", "two");
  core.join(new FakePeer(), "127.0.0.1:6000");
  core.leave(users[0]);
  const ids = peers[1].events.map((e) => (e as { msgId: number }).msgId);
  strictEqual(ids.length, 5);
  for (let i = 1; i < ids.length; i++) ok(ids[i] > ids[i - 1], `ids ${ids} increase`);
  const stamps = peers[1].events.map((e) => (e as { ts: number }).ts);
  for (let i = 1; i < stamps.length; i++) ok(stamps[i] >= stamps[i - 1]);
});

Deno.test("ChatCore handles many users without cross-talk", () => {
  const { core, peers, users } = setup(200);
  for (let i = 0; i < users.length; i++) assertOk(core.rename(users[i], `u${i}`));
  for (const p of peers) p.take();
  assertOk(core.whisper(users[3], "U150", "hi"));
  for (let i = 0; i < peers.length; i++) strictEqual(peers[i].take().length, i === 150 ? 1 : 0);
  assertOk(core.say(users[7], "all"));
  for (const p of peers) strictEqual(p.take().length, 1);
});

/** A core with `alice` registered, and `n` users joined. */
function withAccount(n: number) {
  const registered = new Map([["alice", "alice"]]);
  const core = new ChatCore({
    clock: () => 1_000,
    registeredName: (key) => registered.get(key),
    registeredLookalike: (skeletons) =>
      skeletons.includes("alice") ? { key: "alice", name: "alice" } : undefined,
  });
  const peers: FakePeer[] = [];
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const peer = new FakePeer();
    peers.push(peer);
    users.push(core.join(peer, `127.0.0.1:${5000 + i}`));
  }
  for (const p of peers) p.take();
  return { core, peers, users };
}

Deno.test("ChatCore: an account online from several connections", async (t) => {
  const { core, peers, users } = withAccount(4);
  const [laptop, phone, bob, guest] = users;
  assertOk(core.signIn(laptop, "alice", "alice"));
  assertOk(core.rename(bob, "bob"));
  for (const p of peers) p.take();

  await t.step("a second login joins the first: no kick, no second online", () => {
    assertOk(core.signIn(phone, "alice", "alice"));
    deepStrictEqual(peers[0].kicks, []);
    const seen = peers[2].take();
    deepStrictEqual(
      seen.map((e) => e.kind === "presence" && [e.event, e.name]),
      [["offline", "127.0.0.1:5001"]],
    );
    peers[0].take();
    peers[1].take();
    peers[3].take();
  });
  await t.step("who lists the name once; findAll has both", () => {
    deepStrictEqual(core.who().map((u) => u.name).filter((n) => n === "alice"), ["alice"]);
    deepStrictEqual(core.findAll("ALICE"), [laptop, phone]);
    strictEqual(core.connections().length, 4);
  });
  await t.step("a private message reaches every connection", () => {
    assertOk(core.whisper(bob, "alice", "hi"));
    for (const p of [peers[0], peers[1]]) {
      deepStrictEqual(p.take().map((e) => e.kind === "private" && [e.text, e.echo]), [[
        "hi",
        undefined,
      ]]);
    }
  });
  await t.step("what one connection sends, the others see as an echo", () => {
    assertOk(core.whisper(phone, "bob", "from the phone"));
    deepStrictEqual(peers[0].take().map((e) => e.kind === "private" && [e.to, e.echo]), [[
      "bob",
      true,
    ]]);
    deepStrictEqual(peers[1].take(), [], "the sender gets its reply, not an event");
    strictEqual(peers[2].take().length, 1);
  });
  await t.step("a guest's name still has one connection", () => {
    const r = core.rename(guest, "bob");
    deepStrictEqual(r.ok ? r : r.code, "name_taken");
    const g = core.rename(guest, "alice");
    deepStrictEqual(g.ok ? g : g.code, "name_registered");
  });
  await t.step("the name goes offline only with its last connection", () => {
    core.leave(laptop);
    deepStrictEqual(peers[2].take(), []);
    strictEqual(core.find("alice"), phone);
    core.leave(phone);
    deepStrictEqual(
      peers[2].take().map((e) => e.kind === "presence" && [e.event, e.name]),
      [["offline", "alice"]],
    );
    strictEqual(core.find("alice"), undefined);
  });
});

Deno.test("ChatCore.signIn with takeover ends the account's other connections", () => {
  const { core, peers, users } = withAccount(3);
  assertOk(core.signIn(users[0], "alice", "alice"));
  assertOk(core.signIn(users[1], "alice", "alice"));
  assertOk(core.signIn(users[2], "alice", "alice", true));
  deepStrictEqual(peers[0].kicks, ["replaced: you logged in from another connection"]);
  deepStrictEqual(peers[1].kicks, ["replaced: you logged in from another connection"]);
  deepStrictEqual(core.findAll("alice"), [users[2]]);
  deepStrictEqual(peers[2].kicks, []);
});

Deno.test("ChatCore.rename refuses names that look like one online or registered", async (t) => {
  const { core, users } = withAccount(3);
  assertOk(core.rename(users[0], "bob"));
  const impostors = ["\u0430lice", "al\u0456ce", "\uff41\uff4c\uff49\uff43\uff45", "aIice"];
  for (const name of impostors) {
    await t.step(`registered: ${name}`, () => {
      const r = core.rename(users[1], name);
      deepStrictEqual(r.ok ? r : [r.code, r.message], [
        "name_lookalike",
        `${name.normalize("NFC")} looks too much like alice: choose another name`,
      ]);
    });
  }
  for (const name of ["b0b", "\u0432ob".replace("\u0432", "\u0184"), "BOB".replace("O", "0")]) {
    await t.step(`online: ${name}`, () => {
      const r = core.rename(users[1], name);
      strictEqual(r.ok ? "ok" : r.code, "name_lookalike", name);
    });
  }
  await t.step("the name itself and other names are fine", () => {
    assertOk(core.rename(users[1], "carol"));
    assertOk(core.rename(users[0], "Bob"));
  });
  await t.step("a look-alike is free once its holder leaves", () => {
    core.leave(users[0]);
    assertOk(core.rename(users[2], "b0b"));
  });
});
