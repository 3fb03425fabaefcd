import assert from "node:assert/strict";
import {
  type ConnectionStatus,
  type Frame,
  ServerError,
  ServerLink,
} from "../../../lib/client/connection.ts";
import { type FakeConn, fakeServer } from "../../helpers/client.ts";

const welcome = (name: string, extra: Record<string, unknown> = {}) => ({
  type: "welcome",
  version: 1,
  name,
  addr: "127.0.0.1:1",
  limits: { maxLine: 8192, idleTimeoutMs: 0 },
  online: [],
  ...extra,
});

async function hello(c: FakeConn): Promise<Record<string, unknown>> {
  return JSON.parse((await c.readLine())!);
}

/**
 * The next request that is not a `ping`, answering pings on the way (the client pings after the
 * welcome to find where its backlog ends); `null` when the client hangs up.
 */
async function nextRequest(c: FakeConn): Promise<Record<string, unknown> | null> {
  while (true) {
    const line = await c.readLine();
    if (line === null) return null;
    const req = JSON.parse(line);
    if (req.type !== "ping") return req;
    await c.send({ type: "ok", id: req.id });
  }
}

Deno.test("client connection: skips text lines before the welcome; replies match by id", async () => {
  await using fake = fakeServer(async (c) => {
    await c.write("[127.0.0.1:1], 127.0.0.1:1:online\nnot json\n[1,2]\n");
    const h = await hello(c);
    assert.deepEqual([h.type, h.version, h.name], ["hello", 1, "ann"]);
    await c.send(welcome("ann"));
    const a = (await nextRequest(c))!;
    const b = (await nextRequest(c))!;
    // Answer out of order, with an event in between.
    await c.send({ type: "ok", id: b.id, users: [] });
    await c.send({ type: "public", msgId: 1, ts: 0, from: "x", text: "between" });
    await c.send({
      type: "error",
      id: a.id,
      code: "not_online",
      message: "the receiver is not online",
    });
    await c.readLine();
  });
  const events: Frame[] = [];
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    name: "ann",
    reconnect: false,
    onFrame: (f) => events.push(f),
  });
  link.start();
  try {
    assert.equal(link.name, "ann");
    const first = link.request({ type: "msg", to: "x", text: "y" });
    const second = link.request({ type: "who" });
    assert.deepEqual((await second).users, []);
    await assert.rejects(first, (e: Error) => {
      assert.ok(e instanceof ServerError);
      assert.equal(e.code, "not_online");
      assert.equal(e.message, "the receiver is not online");
      return true;
    });
    assert.deepEqual(events.map((e) => e.text), ["between"]);
  } finally {
    link.close();
  }
});

Deno.test("client connection: reconnects with backoff and asks for the chosen name again", async () => {
  const hellos: Record<string, unknown>[] = [];
  await using fake = fakeServer(async (c, i) => {
    const h = await hello(c);
    hellos.push(h);
    await c.send(welcome(typeof h.name === "string" ? h.name : `127.0.0.1:${i}`));
    if (i > 0) return void await c.readLine();
    const rename = JSON.parse((await c.readLine())!);
    await c.send({ type: "ok", id: rename.id, name: "Zed" });
    await c.send({ type: "notice", code: "shutdown", text: "server is shutting down" });
    c.close();
  });
  const statuses: ConnectionStatus[] = [];
  let back!: () => void;
  const isBack = new Promise<void>((r) => back = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 20,
    onStatus: (s) => {
      statuses.push(s);
      if (s.kind === "back") back();
    },
  });
  try {
    assert.equal(hellos[0].name, undefined);
    await link.request({ type: "rename", name: "zed" });
    assert.equal(link.name, "Zed");
    await isBack;
    assert.equal(hellos[1].name, "Zed");
    assert.deepEqual(statuses, [
      { kind: "lost", reason: "server is shutting down", retryInMs: 20 },
      { kind: "back", name: "Zed", nameError: undefined },
    ]);
    assert.equal(link.online, true);
  } finally {
    link.close();
  }
});

Deno.test("client connection: the backoff doubles up to its maximum", async () => {
  const fake = fakeServer(async (c) => {
    await hello(c);
    await c.send(welcome("a"));
  });
  const statuses: ConnectionStatus[] = [];
  let enough!: () => void;
  const waited = new Promise<void>((r) => enough = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 10,
    reconnectMaxMs: 40,
    onStatus: (s) => {
      statuses.push(s);
      if (statuses.length === 5) enough();
    },
  });
  fake.close(); // the first connection ends and nothing listens any more
  await waited;
  link.close();
  await fake[Symbol.asyncDispose]();
  assert.deepEqual(statuses.map((s) => "retryInMs" in s ? s.retryInMs : s.kind), [
    10,
    20,
    40,
    40,
    40,
  ]);
  assert.equal(statuses[0].kind, "lost");
  assert.ok(statuses.slice(1).every((s) => s.kind === "retry_failed"));
});

Deno.test("client connection: pings when idle so the idle timeout spares a reading user", async () => {
  let pinged!: () => void;
  const ping = new Promise<void>((r) => pinged = r);
  await using fake = fakeServer(async (c) => {
    await hello(c);
    await c.send(welcome("a", { limits: { idleTimeoutMs: 300 } }));
    while (true) {
      const line = await c.readLine();
      if (line === null) return;
      const req = JSON.parse(line);
      await c.send({ type: "ok", id: req.id });
      if (req.type === "ping") pinged();
    }
  });
  const link = await ServerLink.open({ host: "127.0.0.1", port: fake.port, reconnect: false });
  try {
    const started = Date.now();
    await ping;
    assert.ok(Date.now() - started < 1000);
  } finally {
    link.close();
  }
});

Deno.test("client connection: events that come with the welcome wait for start(); replays are dropped", async () => {
  const history = { type: "public", msgId: 5, ts: 50, from: "bob", text: "old", history: true };
  const away = {
    type: "private",
    msgId: 6,
    ts: 60,
    from: "bob",
    to: "a",
    text: "hi",
    offline: true,
  };
  const acks: unknown[] = [];
  let second!: () => void;
  const reconnected = new Promise<void>((r) => second = r);
  await using fake = fakeServer(async (c, i) => {
    const h = await hello(c);
    assert.equal(h.password, "pw", "logs in, and again after a reconnect");
    await c.send(welcome("a", { account: "a" }));
    await c.send(history);
    await c.send(away);
    if (i === 1) {
      await c.send({ ...history, msgId: 7, ts: 70, text: "missed while away" });
      second();
    }
    while (true) {
      const line = await c.readLine();
      if (line === null) return;
      const req = JSON.parse(line);
      if (req.type === "ack") acks.push(req.msgIds);
      await c.send({ type: "ok", id: req.id });
      if (i === 0 && req.type === "ack") return c.close(); // drop: the client reconnects
    }
  });
  const texts: unknown[] = [];
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    name: "a",
    password: "pw",
    reconnectMinMs: 10,
    onFrame: (f) => texts.push(f.text),
  });
  try {
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(texts, [], "held until start()");
    await link.start();
    assert.deepEqual(texts, ["old", "hi"]);
    await reconnected;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(texts, ["old", "hi", "missed while away"]);
    assert.deepEqual(acks[0], [6]);
  } finally {
    link.close();
  }
});

Deno.test("client connection: no reconnect after being kicked, banned or replaced", async (t) => {
  for (const code of ["kicked", "banned", "replaced"]) {
    await t.step(code, async () => {
      let connections = 0;
      await using fake = fakeServer(async (c) => {
        connections++;
        await hello(c);
        await c.send(welcome("a"));
        await c.send({ type: "notice", code, text: `you were ${code}` });
      });
      const statuses: ConnectionStatus[] = [];
      const link = await ServerLink.open({
        host: "127.0.0.1",
        port: fake.port,
        reconnectMinMs: 10,
        onStatus: (s) => statuses.push(s),
      });
      link.start();
      await link.done;
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(statuses, [{ kind: "closed", reason: `you were ${code}` }]);
      assert.equal(connections, 1);
    });
  }
});

Deno.test("client connection: a request made while reconnecting waits and is sent once back", async () => {
  const got: string[] = [];
  await using fake = fakeServer(async (c, i) => {
    await hello(c);
    await c.send(welcome("ann"));
    if (i === 0) {
      await c.send({ type: "notice", code: "shutdown", text: "server is shutting down" });
      return c.close();
    }
    const req = (await nextRequest(c))!;
    got.push(`${i}:${req.type}:${req.text}`);
    await c.send({ type: "ok", id: req.id, msgId: 1, ts: 0 });
    await c.readLine();
  });
  let lost!: () => void;
  const dropped = new Promise<void>((r) => lost = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    name: "ann",
    reconnectMinMs: 100,
    onStatus: (s) => s.kind === "lost" && lost(),
  });
  link.start();
  try {
    await dropped;
    assert.equal(link.online, false);
    const ok = await link.request({ type: "say", text: "during the drop" });
    assert.equal(ok.type, "ok");
    assert.deepEqual(got, ["1:say:during the drop"]);
  } finally {
    link.close();
  }
});

Deno.test("client connection: waiting for a reconnect is bounded by the request timeout", async () => {
  await using fake = fakeServer(async (c, i) => {
    if (i > 0) return c.close(); // never welcome again
    await hello(c);
    await c.send(welcome("ann"));
    c.close();
  });
  let lost!: () => void;
  const dropped = new Promise<void>((r) => lost = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 50,
    reconnectMaxMs: 50,
    requestTimeoutMs: 300,
    onStatus: (s) => s.kind === "lost" && lost(),
  });
  link.start();
  try {
    await dropped;
    const started = Date.now();
    await assert.rejects(link.request({ type: "say", text: "x" }), /still reconnecting/);
    assert.ok(Date.now() - started >= 250);
  } finally {
    link.close();
  }
});

Deno.test("client connection: a server that stops answering fails the request and is reconnected to", async () => {
  let connections = 0;
  await using fake = fakeServer(async (c) => {
    connections++;
    await hello(c);
    await c.send(welcome("ann"));
    // Mute: answers the ping that marks the end of the backlog, then nothing.
    while (await nextRequest(c) !== null) { /* never answers */ }
  });
  const statuses: ConnectionStatus[] = [];
  let back!: () => void;
  const reconnected = new Promise<void>((r) => back = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 50,
    requestTimeoutMs: 300,
    onStatus: (s) => {
      statuses.push(s);
      if (s.kind === "back") back();
    },
  });
  await link.start();
  try {
    const started = Date.now();
    await assert.rejects(link.request({ type: "say", text: "hello?" }), /no reply .* 0\.3 s/);
    assert.ok(Date.now() - started < 2000);
    await reconnected;
    assert.equal(statuses[0].kind, "lost");
    assert.match((statuses[0] as { reason: string }).reason, /no reply/);
    assert.equal(connections, 2);
  } finally {
    link.close();
  }
});

Deno.test("client connection: an unanswered keepalive ping drops the connection too", async () => {
  await using fake = fakeServer(async (c) => {
    await hello(c);
    await c.send(welcome("ann", { limits: { maxLine: 8192, idleTimeoutMs: 900 } }));
    while (await c.readLine() !== null) { /* mute */ }
  });
  let lostWhy!: (reason: string) => void;
  const lost = new Promise<string>((r) => lostWhy = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 5000,
    requestTimeoutMs: 300,
    onStatus: (s) => s.kind === "lost" && lostWhy(s.reason),
  });
  link.start();
  try {
    assert.match(await lost, /no reply from the server/);
  } finally {
    link.close();
  }
});

Deno.test("client connection: a waiting message delivered again is acknowledged again, shown once", async () => {
  const acks: unknown[] = [];
  const waiting = {
    type: "private",
    msgId: 5,
    ts: 1000,
    from: "bob",
    to: "ann",
    text: "waited",
    offline: true,
  };
  await using fake = fakeServer(async (c, i) => {
    await hello(c);
    await c.send(welcome("ann"));
    await c.send(waiting);
    const ack = (await nextRequest(c))!;
    if (i === 0) return c.close(); // the first ack is lost with the connection
    acks.push(ack.msgIds);
    await c.send({ type: "ok", id: ack.id });
    await c.readLine();
  });
  const shown: Frame[] = [];
  let back!: () => void;
  const reconnected = new Promise<void>((r) => back = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 50,
    onFrame: (f) => shown.push(f),
    onStatus: (s) => s.kind === "back" && back(),
  });
  link.start();
  try {
    await reconnected;
    const deadline = Date.now() + 3000;
    while (acks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(acks, [[5]]);
    assert.equal(shown.filter((f) => f.type === "private").length, 1);
  } finally {
    link.close();
  }
});

Deno.test("client connection: firstBacklog false leaves out only the first backlog; onWire skips replays", async () => {
  const old = { type: "public", msgId: 5, ts: 50, from: "bob", text: "old", history: true };
  const missed = { ...old, msgId: 7, ts: 70, text: "missed" };
  let back!: () => void;
  const reconnected = new Promise<void>((r) => back = r);
  await using fake = fakeServer(async (c, i) => {
    await hello(c);
    await c.send(welcome("a"));
    await c.send(old);
    if (i === 0) return c.close();
    await c.send(missed);
    back();
    while (await c.readLine() !== null) { /* until the client leaves */ }
  });
  const shown: unknown[] = [];
  const wire: unknown[] = [];
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnectMinMs: 10,
    firstBacklog: false,
    onFrame: (f) => shown.push(f.text),
    onWire: (f) => wire.push(f.text ?? f.type),
  });
  try {
    link.start();
    await reconnected;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(shown, ["missed"]);
    assert.deepEqual(wire, ["welcome", "old", "welcome", "missed"]);
  } finally {
    link.close();
  }
});

Deno.test("client connection: start() resolves once the whole backlog was delivered, however late", async () => {
  const old = (n: number) => ({
    type: "public",
    msgId: n,
    ts: n,
    from: "bob",
    text: `old ${n}`,
    history: true,
  });
  await using fake = fakeServer(async (c) => {
    await hello(c);
    await c.send(welcome("a"));
    await c.send(old(1));
    const ping = JSON.parse((await c.readLine())!);
    assert.equal(ping.type, "ping");
    // The rest of the backlog comes in later writes, but before the reply to the ping.
    for (const n of [2, 3]) {
      await new Promise((r) => setTimeout(r, 20));
      await c.send(old(n));
    }
    await c.send({ type: "ok", id: ping.id });
    await c.send({ type: "public", msgId: 9, ts: 9, from: "bob", text: "live" });
    await c.readLine();
  });
  const shown: unknown[] = [];
  let live!: () => void;
  const gotLive = new Promise<void>((r) => live = r);
  const link = await ServerLink.open({
    host: "127.0.0.1",
    port: fake.port,
    reconnect: false,
    onFrame: (f) => (shown.push(f.text), f.text === "live" && live()),
    onBacklogEnd: () => shown.push("(end)"),
  });
  try {
    await link.start();
    assert.deepEqual(shown.slice(0, 4), ["old 1", "old 2", "old 3", "(end)"]);
    await gotLive;
    assert.deepEqual(shown, ["old 1", "old 2", "old 3", "(end)", "live"]);
  } finally {
    link.close();
  }
});
