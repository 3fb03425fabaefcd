/**
 * The JSON dialect end to end: the real server, real sockets, frames as a bot would send them,
 * and a text user and a JSON user chatting with each other.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  connectText,
  coreServerArgs,
  JsonClient,
  LineClient,
  presenceLine,
} from "../helpers/lines.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { VERSION } from "../../lib/shared/version.ts";

type Frame = Record<string, unknown>;

/** Starts the server with the core protocol alone (see {@link coreServerArgs}). */
async function start(args: string[] = []): Promise<TestServer> {
  return startServer([...await coreServerArgs(), ...args]);
}

/** The error codes docs/PROTOCOL.md documents for the JSON dialect (its error table). */
async function documentedErrorCodes(): Promise<Set<string>> {
  const doc = await Deno.readTextFile(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const table = doc.slice(doc.indexOf("### Errors"));
  const codes = new Set<string>();
  for (const row of table.split("\n").filter((l) => l.startsWith("| `"))) {
    const first = row.split("|")[1];
    for (const m of first.matchAll(/`([a-z_]+)`/g)) codes.add(m[1]);
  }
  return codes;
}

/** Reads frames until the `ok`/`error` for `id`, returning it and the frames before it. */
async function replyTo(c: JsonClient, id: unknown): Promise<{ reply: Frame; before: Frame[] }> {
  const before: Frame[] = [];
  while (true) {
    const f = await c.read();
    if ((f.type === "ok" || f.type === "error") && f.id === id) return { reply: f, before };
    before.push(f);
  }
}

/** Sends `line` raw and returns the next frame. */
async function rawRequest(c: JsonClient, line: string): Promise<Frame> {
  await c.lines.send(line);
  return await c.read();
}

Deno.test("json: hello is answered by welcome with version, server, name, addr, limits, online", async () => {
  await using server = await start(["--max-line", "4KiB", "--idle-timeout", "30s"]);
  using tom = await connectText(server.port);
  await tom.send("rename|tom");
  strictEqual(await tom.readLine(), "You renamed to tom");

  using raw = await LineClient.connect(server.port);
  strictEqual(await raw.readLine(), presenceLine(raw.addr, "online"), "text lines come first");
  await raw.send(JSON.stringify({ type: "hello", version: 1, client: "test-suite/1.0" }));
  const welcome = JSON.parse((await raw.readLine())!);
  deepStrictEqual(welcome, {
    type: "welcome",
    version: 1,
    server: `fastim ${VERSION}`,
    name: raw.addr,
    addr: raw.addr,
    limits: { maxLine: 4096, idleTimeoutMs: 30_000, msgRate: 0, msgBurst: 20 },
    online: [{ name: "tom", addr: tom.addr }, { name: raw.addr, addr: raw.addr }],
    historyNotice: "messages are stored on this server and can be searched by those who may " +
      "read them; kept until deleted by the operator",
  });
  strictEqual(await raw.quietFor(100), null, "nothing follows the welcome unasked");
  ok(/hello .*client=test-suite\/1\.0/.test(server.stderr()), "the client is logged");
});

Deno.test("json: hello with a name renames right away", async () => {
  await using server = await start();
  using tom = await connectText(server.port);
  using jane = await JsonClient.connect(server.port, { name: "jane" });
  const addr = jane.lines.addr;
  strictEqual(jane.welcome.name, "jane");
  strictEqual(jane.welcome.nameError, undefined);
  deepStrictEqual(jane.welcome.online, [
    { name: tom.addr, addr: tom.addr },
    { name: "jane", addr },
  ]);
  strictEqual(await tom.readLine(), presenceLine(addr, "online"));
  strictEqual(await tom.readLine(), `[${addr}], ${addr}:renamed to jane`);
});

Deno.test("json: version negotiation", async (t) => {
  await using server = await start();
  for (const version of [1, 2, 5, 1000]) {
    await t.step(`version ${version} → welcome version 1`, async () => {
      using c = await JsonClient.connect(server.port, { version });
      strictEqual(c.welcome.version, 1);
      deepStrictEqual(await c.request({ type: "ping", id: 1 }), { type: "ok", id: 1 });
    });
  }
  for (const version of [0, -1]) {
    await t.step(
      `version ${version} → error version_unsupported, then the connection closes`,
      async () => {
        using c = await LineClient.connect(server.port);
        await c.send(JSON.stringify({ type: "hello", version }));
        const lines = await c.readToEnd();
        const frames = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
        strictEqual(frames.length, 1, `one frame: ${lines}`);
        strictEqual(frames[0].type, "error");
        strictEqual(frames[0].code, "version_unsupported");
        strictEqual(typeof frames[0].message, "string");
        strictEqual(frames[0].id, undefined);
      },
    );
  }
});

Deno.test("json: hello with a refused name still gets welcome, with nameError", async (t) => {
  await using server = await start();
  using _alice = await JsonClient.connect(server.port, { name: "alice" });
  const cases: [string, string, string | RegExp][] = [
    ["alice", "name_taken", "this name is already used"],
    ["ALICE", "name_taken", "this name is already used"],
    ["a b", "name_invalid_char", "name may not contain a space: use letters, digits, _ - ."],
    ["a|b", "name_invalid_char", 'name may not contain "|": use letters, digits, _ - .'],
    ["x".repeat(33), "name_too_long", "name may be at most 32 characters long."],
    ["", "name_empty", "name may not be empty."],
  ];
  for (const [name, code, message] of cases) {
    await t.step(`${JSON.stringify(name)} → ${code}`, async () => {
      using c = await JsonClient.connect(server.port, { name });
      strictEqual(c.welcome.type, "welcome");
      strictEqual(c.welcome.name, c.lines.addr);
      deepStrictEqual(c.welcome.nameError, { code, message });
      deepStrictEqual(await c.request({ type: "ping", id: "p" }), { type: "ok", id: "p" });
    });
  }
});

Deno.test("json: every request type and the fields of its ok", async (t) => {
  await using server = await start();
  using alice = await JsonClient.connect(server.port, { name: "alice" });
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  const bobAddr = bob.lines.addr;
  await alice.readUntil((f) => f.type === "presence" && f.event === "renamed" && f.name === "bob");

  await t.step("say: public event to everyone, ok with its msgId and ts", async () => {
    const before = Date.now();
    await alice.send({ type: "say", id: 1, text: "hi all | x" });
    const { reply, before: frames } = await replyTo(alice, 1);
    const after = Date.now();
    deepStrictEqual(Object.keys(reply).sort(), ["id", "msgId", "ts", "type"]);
    strictEqual(reply.type, "ok");
    ok(Number.isInteger(reply.msgId));
    ok((reply.ts as number) >= before && (reply.ts as number) <= after, "ts is now, in ms");
    const expected = {
      type: "public",
      msgId: reply.msgId,
      ts: reply.ts,
      from: "alice",
      text: "hi all | x",
    };
    deepStrictEqual(frames.filter((f) => f.type === "public"), [expected], "own message too");
    deepStrictEqual(await bob.readUntil((f) => f.type === "public"), expected);
  });

  await t.step("msg: private event to the receiver, ok with its msgId and ts", async () => {
    const reply = await alice.request({ type: "msg", id: 2, to: "BOB", text: "psst | pipes" });
    deepStrictEqual(Object.keys(reply).sort(), ["id", "msgId", "ts", "type"]);
    strictEqual(reply.type, "ok");
    deepStrictEqual(await bob.read(), {
      type: "private",
      msgId: reply.msgId,
      ts: reply.ts,
      from: "alice",
      to: "bob",
      text: "psst | pipes",
    });
  });

  await t.step("who: users with name and addr, in join order", async () => {
    deepStrictEqual(await alice.request({ type: "who", id: 3 }), {
      type: "ok",
      id: 3,
      users: [{ name: "alice", addr: alice.lines.addr }, { name: "bob", addr: bobAddr }],
    });
  });

  await t.step("rename: ok carries the normalised name; others get presence renamed", async () => {
    deepStrictEqual(await bob.request({ type: "rename", id: 4, name: "  Zoe\u0308 " }), {
      type: "ok",
      id: 4,
      name: "Zo\u00eb",
    });
    const event = await alice.read();
    deepStrictEqual({ ...event, msgId: 0, ts: 0 }, {
      type: "presence",
      msgId: 0,
      ts: 0,
      event: "renamed",
      name: "Zo\u00eb",
      addr: bobAddr,
      old: "bob",
    });
  });

  await t.step("ping: ok with nothing more", async () => {
    deepStrictEqual(await alice.request({ type: "ping", id: 5 }), { type: "ok", id: 5 });
  });

  await t.step("quit: ok, then the server closes the connection", async () => {
    await bob.send({ type: "quit", id: 6 });
    const rest = (await bob.lines.readToEnd()).map((l) => JSON.parse(l));
    deepStrictEqual(rest, [{ type: "ok", id: 6 }]);
    const event = await alice.read();
    deepStrictEqual({ ...event, msgId: 0, ts: 0 }, {
      type: "presence",
      msgId: 0,
      ts: 0,
      event: "offline",
      name: "Zo\u00eb",
      addr: bobAddr,
    });
  });
});

Deno.test("json: request ids are echoed unchanged, strings and numbers", async (t) => {
  await using server = await start();
  using c = await JsonClient.connect(server.port);
  for (const id of ["abc", "", "ünï 😀", 42, 0, -7, 3.5, 1e21, "x".repeat(100)]) {
    await t.step(JSON.stringify(id).slice(0, 30), async () => {
      deepStrictEqual(await c.request({ type: "ping", id }), { type: "ok", id });
      const error = await c.request({ type: "msg", id, to: "nobody", text: "x" });
      strictEqual(error.id, id);
      strictEqual(error.type, "error");
    });
  }
  await t.step("no id: the reply has no id field", async () => {
    await c.send({ type: "ping" });
    deepStrictEqual(await c.read(), { type: "ok" });
    await c.send({ type: "msg", to: "nobody", text: "x" });
    deepStrictEqual(await c.read(), {
      type: "error",
      code: "not_online",
      message: "the receiver is not online",
    });
  });
});

Deno.test("json: errors carry a stable code and a message", async (t) => {
  await using server = await start();
  using c = await JsonClient.connect(server.port, { name: "carl" });
  using _bob = await JsonClient.connect(server.port, { name: "bob" });
  await c.readUntil((f) => f.type === "presence" && f.name === "bob");
  const documented = await documentedErrorCodes();

  const assertError = (f: Frame, code: string, id?: unknown, message?: string | RegExp) => {
    strictEqual(f.type, "error", JSON.stringify(f));
    strictEqual(f.code, code, JSON.stringify(f));
    strictEqual(f.id, id);
    strictEqual(typeof f.message, "string");
    ok((f.message as string).length > 0);
    if (typeof message === "string") strictEqual(f.message, message);
    if (message instanceof RegExp) ok(message.test(f.message as string), f.message as string);
  };

  for (const line of ["not json", "[1,2]", '{"type":"say"', '"say"', "42", "null"]) {
    await t.step(`bad_json: ${line}`, async () => {
      assertError(await rawRequest(c, line), "bad_json");
    });
  }
  const badRequests: [Frame, RegExp][] = [
    [{ type: "say", id: 1, text: 5 }, /text/],
    [{ type: "say", id: 1 }, /text/],
    [{ type: "msg", id: 2, to: 7, text: "x" }, /to/],
    [{ type: "msg", id: 2, to: "bob", text: ["x"] }, /text/],
    [{ type: "rename", id: 3, name: null }, /name/],
    [{ id: 4 }, /type/],
    [{ type: 12, id: 4 }, /type/],
  ];
  for (const [frame, message] of badRequests) {
    await t.step(`bad_request: ${JSON.stringify(frame)}`, async () => {
      assertError(await rawRequest(c, JSON.stringify(frame)), "bad_request", frame.id, message);
    });
  }
  await t.step("bad_request: an id that is neither string nor number", async () => {
    assertError(await rawRequest(c, '{"type":"ping","id":{"a":1}}'), "bad_request");
    assertError(await rawRequest(c, '{"type":"ping","id":true}'), "bad_request");
  });
  await t.step("unknown_type", async () => {
    assertError(await rawRequest(c, '{"type":"dance","id":9}'), "unknown_type", 9, /dance/);
  });
  await t.step("hello sent twice → bad_request", async () => {
    assertError(
      await rawRequest(c, JSON.stringify({ type: "hello", version: 1, id: "h" })),
      "bad_request",
      "h",
      /hello/,
    );
  });
  await t.step("not_online", async () => {
    assertError(
      await c.request({ type: "msg", id: 10, to: "nobody", text: "x" }),
      "not_online",
      10,
      "the receiver is not online",
    );
  });
  for (const text of ["", "   ", "\x1b[2J", "\u202e"]) {
    await t.step(`empty_text: say ${JSON.stringify(text)}`, async () => {
      assertError(await c.request({ type: "say", id: 11, text }), "empty_text", 11);
      assertError(await c.request({ type: "msg", id: 12, to: "bob", text }), "empty_text", 12);
    });
  }
  const names: [string, string][] = [
    ["BOB", "name_taken"],
    ["", "name_empty"],
    ["x".repeat(33), "name_too_long"],
    ["a b", "name_invalid_char"],
    ["a|b", "name_invalid_char"],
  ];
  for (const [name, code] of names) {
    await t.step(`${code}: rename ${JSON.stringify(name)}`, async () => {
      assertError(await c.request({ type: "rename", id: 13, name }), code, 13);
    });
  }
  await t.step("msg to an empty name is refused with a documented code", async () => {
    const f = await c.request({ type: "msg", id: 14, to: "", text: "x" });
    strictEqual(f.type, "error");
    ok(
      documented.has(f.code as string),
      `code ${JSON.stringify(f.code)} is not in PROTOCOL.md's error table (${[...documented]})`,
    );
  });
  await t.step("the connection survives every error", async () => {
    deepStrictEqual(await c.request({ type: "ping", id: "alive" }), { type: "ok", id: "alive" });
  });
});

Deno.test("json: a text user and a JSON user chat both ways", async (t) => {
  await using server = await start();
  using tom = await connectText(server.port);
  await tom.send("rename|tom");
  strictEqual(await tom.readLine(), "You renamed to tom");
  using jane = await JsonClient.connect(server.port, { name: "jane" });
  const janeAddr = jane.lines.addr;
  strictEqual(await tom.readLine(), presenceLine(janeAddr, "online"));
  strictEqual(await tom.readLine(), `[${janeAddr}], ${janeAddr}:renamed to jane`);

  await t.step("text public → JSON public frame", async () => {
    await tom.send("hello jane");
    strictEqual(await tom.readLine(), `[${tom.addr}], tom:hello jane`);
    const f = await jane.read();
    deepStrictEqual({ ...f, msgId: 0, ts: 0 }, {
      type: "public",
      msgId: 0,
      ts: 0,
      from: "tom",
      text: "hello jane",
      mention: true, // it names jane
    });
  });
  await t.step("JSON say → text [ADDR], NAME:TEXT", async () => {
    await jane.request({ type: "say", id: 1, text: "hi tom" });
    strictEqual(await tom.readLine(), `[${janeAddr}], jane:hi tom`);
  });
  await t.step("JSON msg → text SENDER sent you a message: TEXT", async () => {
    const r = await jane.request({ type: "msg", id: 2, to: "tom", text: "psst | x" });
    strictEqual(r.type, "ok");
    strictEqual(await tom.readLine(), "jane sent you a message: psst | x");
  });
  await t.step("text to| → JSON private frame", async () => {
    await tom.send("to|JANE|back | at you");
    const f = await jane.read();
    deepStrictEqual({ ...f, msgId: 0, ts: 0 }, {
      type: "private",
      msgId: 0,
      ts: 0,
      from: "tom",
      to: "jane",
      text: "back | at you",
    });
  });
  await t.step("text who lists the JSON user; JSON who lists the text user", async () => {
    await tom.send("who");
    strictEqual(await tom.readLine(), `[${tom.addr}],tom:online`);
    strictEqual(await tom.readLine(), `[${janeAddr}],jane:online`);
    const r = await jane.request({ type: "who", id: 3 });
    deepStrictEqual(r.users, [{ name: "tom", addr: tom.addr }, { name: "jane", addr: janeAddr }]);
  });
  await t.step("names are shared: the text user cannot take the JSON user's name", async () => {
    await tom.send("rename|Jane");
    strictEqual(await tom.readLine(), "this name is already used");
    const r = await jane.request({ type: "rename", id: 4, name: "TOM" });
    strictEqual(r.code, "name_taken");
  });
});

Deno.test("json: presence events for online, offline and renamed", async (t) => {
  await using server = await start();
  using jane = await JsonClient.connect(server.port, { name: "jane" });
  const seen: Frame[] = [];
  const next = async () => {
    const f = await jane.read();
    seen.push(f);
    return f;
  };
  const before = Date.now();
  const tom = await connectText(server.port);
  const tomAddr = tom.addr;
  try {
    await t.step("online", async () => {
      const f = await next();
      deepStrictEqual({ ...f, msgId: 0, ts: 0 }, {
        type: "presence",
        msgId: 0,
        ts: 0,
        event: "online",
        name: tomAddr,
        addr: tomAddr,
      });
    });
    await t.step("renamed, with old", async () => {
      await tom.send("rename|tom");
      const f = await next();
      deepStrictEqual({ ...f, msgId: 0, ts: 0 }, {
        type: "presence",
        msgId: 0,
        ts: 0,
        event: "renamed",
        name: "tom",
        addr: tomAddr,
        old: tomAddr,
      });
    });
    await t.step("offline, under the current name", async () => {
      tom.close();
      const f = await next();
      deepStrictEqual({ ...f, msgId: 0, ts: 0 }, {
        type: "presence",
        msgId: 0,
        ts: 0,
        event: "offline",
        name: "tom",
        addr: tomAddr,
      });
    });
  } finally {
    tom.close();
  }
  await t.step("msgId increases, ts is the time in ms", () => {
    const ids = seen.map((f) => f.msgId as number);
    for (let i = 1; i < ids.length; i++) ok(ids[i] > ids[i - 1], `${ids}`);
    for (const f of seen) ok((f.ts as number) >= before && (f.ts as number) <= Date.now());
  });
  await t.step("the renamer gets its ok, not a renamed event", async () => {
    using other = await JsonClient.connect(server.port);
    await jane.readUntil((f) => f.type === "presence" && f.event === "online");
    await jane.send({ type: "rename", id: "r", name: "janet" });
    await jane.send({ type: "ping", id: "p" });
    deepStrictEqual(await jane.read(), { type: "ok", id: "r", name: "janet" });
    deepStrictEqual(await jane.read(), { type: "ok", id: "p" });
    const f = await other.read();
    strictEqual(f.event, "renamed");
    strictEqual(f.old, "jane");
  });
});

Deno.test("json: __proto__ keys and unknown fields are harmless", async (t) => {
  await using server = await start();
  using c = await JsonClient.connect(server.port, { name: "carol" });
  await t.step("unknown fields are ignored", async () => {
    await c.lines.send('{"type":"ping","id":1,"extra":{"a":[1,2]},"v":null,"flag":true}');
    deepStrictEqual(await c.read(), { type: "ok", id: 1 });
  });
  await t.step("__proto__ does not smuggle fields in", async () => {
    await c.lines.send('{"type":"say","id":2,"text":"real","__proto__":{"text":"evil","to":"x"}}');
    const { reply, before } = await replyTo(c, 2);
    strictEqual(reply.type, "ok");
    strictEqual(before.find((f) => f.type === "public")?.text, "real");
    await c.lines.send('{"__proto__":{"type":"quit"},"type":"ping","id":3}');
    deepStrictEqual(await c.read(), { type: "ok", id: 3 });
    await c.lines.send('{"type":"say","id":4,"__proto__":{"text":"evil"}}');
    strictEqual((await c.read()).code, "bad_request");
  });
  for (const type of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
    await t.step(`type ${type} is unknown`, async () => {
      await c.lines.send(JSON.stringify({ type, id: type }));
      const f = await c.read();
      strictEqual(f.code, "unknown_type");
      strictEqual(f.id, type);
    });
  }
  await t.step("__proto__ and constructor as names and receivers", async () => {
    using d = await JsonClient.connect(server.port);
    deepStrictEqual(await d.request({ type: "rename", id: 1, name: "__proto__" }), {
      type: "ok",
      id: 1,
      name: "__proto__",
    });
    strictEqual((await c.request({ type: "msg", id: 5, to: "__proto__", text: "hi" })).type, "ok");
    strictEqual((await d.readUntil((f) => f.type === "private")).text, "hi");
    strictEqual(
      (await c.request({ type: "msg", id: 6, to: "constructor", text: "hi" })).code,
      "not_online",
    );
    strictEqual(
      (await c.request({ type: "msg", id: 7, to: "toString", text: "hi" })).code,
      "not_online",
    );
  });
  await t.step("__proto__ in hello", async () => {
    using e = await LineClient.connect(server.port);
    await e.send('{"type":"hello","version":1,"__proto__":{"name":"evil"}}');
    const w = JSON.parse(await e.readUntil((l) => l.startsWith("{")));
    strictEqual(w.type, "welcome");
    strictEqual(w.name, e.addr);
  });
  await t.step("the server still serves", async () => {
    const r = await c.request({ type: "who", id: 8 });
    strictEqual(r.type, "ok");
    ok((r.users as Frame[]).some((u) => u.name === "carol"));
  });
});
