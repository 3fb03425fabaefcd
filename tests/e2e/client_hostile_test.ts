/**
 * The client against a hostile server: a fake that answers the hello with a welcome and then
 * sends frames full of escape sequences, control characters and wrong types. Nothing it sends
 * may reach the client's stdout or stderr as a control character.
 */

import assert from "node:assert/strict";
import {
  clientArgv,
  ClientProcess,
  type FakeConn,
  fakeServer,
  runClient,
} from "../helpers/client.ts";

/** Every escape sequence family a terminal acts on, plus C0/C1 controls, DEL and bidi overrides. */
const EVIL = [
  "\x1b[2J\x1b[H", // clear screen, home
  "\x1b]0;owned\x07", // set window title (OSC, BEL-terminated)
  "\x1b]52;c;ZXZpbA==\x1b\\", // write the clipboard (OSC, ST-terminated)
  "\x1bP+q544e\x1b\\", // DCS
  "\u009b31m\u009d0;c1\u009c", // C1 CSI and OSC
  "\x1b[31mred\x1b[0m",
  "\r\noverwrite\x08\x08\x7f",
  "\u202egnp.exe\u202c\u2066iso\u2069",
  "\x00\x05\x07\x0b\x0c\x0e\x1a",
].join("");

// deno-lint-ignore no-control-regex -- this is the set that must never be printed
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

function assertClean(where: string, text: string): void {
  const m = FORBIDDEN.exec(text);
  assert.equal(
    m,
    null,
    `${where} has U+${m?.[0].charCodeAt(0).toString(16).padStart(4, "0")} at ${m?.index}:\n${
      JSON.stringify(text)
    }`,
  );
}

const welcome = (extra: Record<string, unknown> = {}) => ({
  type: "welcome",
  version: 1,
  server: EVIL,
  name: `evil${EVIL}`,
  addr: EVIL,
  limits: { maxLine: 8192, idleTimeoutMs: 0 },
  online: [{ name: EVIL, addr: EVIL }],
  ...extra,
});

const EVENTS: Record<string, unknown>[] = [
  { type: "public", msgId: 1, ts: 0, from: EVIL, text: EVIL },
  { type: "private", msgId: 2, ts: 0, from: EVIL, to: EVIL, text: EVIL },
  { type: "presence", msgId: 3, ts: 0, event: "online", name: EVIL, addr: EVIL },
  { type: "presence", msgId: 4, ts: 0, event: "renamed", name: EVIL, old: EVIL, addr: EVIL },
  { type: "presence", msgId: 5, ts: 0, event: EVIL, name: EVIL },
  { type: "public", msgId: 6, ts: EVIL, from: { nested: EVIL }, text: [EVIL, 1] },
  { type: "public", msgId: 7, ts: 1, from: null, text: 42 },
  { type: EVIL, text: EVIL },
  { type: "error", code: EVIL, message: EVIL },
  { type: "ok", id: 999, users: EVIL },
];

/** Plays a hostile server for one client: junk first, an evil welcome, evil events and replies. */
async function hostile(c: FakeConn, welcomeExtra: Record<string, unknown> = {}): Promise<void> {
  await c.write(`[1.2.3.4:5], ${EVIL}:online\n${EVIL}\n`);
  const hello = JSON.parse((await c.readLine())!);
  assert.equal(hello.type, "hello");
  await c.send(welcome(welcomeExtra));
  for (const e of EVENTS) await c.send(e);
  await c.write(`not json ${EVIL}\n`);
  while (true) {
    const line = await c.readLine();
    if (line === null) return;
    const req = JSON.parse(line);
    switch (req.type) {
      case "who":
        await c.send({ type: "ok", id: req.id, users: [{ name: EVIL, addr: EVIL }, { name: 7 }] });
        break;
      case "msg":
        await c.send({ type: "error", id: req.id, code: EVIL, message: EVIL });
        break;
      case "rename":
        await c.send({ type: "ok", id: req.id, name: EVIL });
        break;
      case "quit":
        await c.send({ type: "ok", id: req.id });
        return;
      default:
        await c.send({ type: "ok", id: req.id, msgId: 8, ts: 0 });
        await c.send({ type: "notice", code: EVIL, text: EVIL });
    }
  }
}

Deno.test("client hostile server: no control character reaches stdout or stderr", async (t) => {
  await using fake = fakeServer((c) => hostile(c));
  const at = ["-ip", "127.0.0.1", "-port", String(fake.port)];
  await t.step("line mode", async () => {
    const r = await runClient(at, { stdin: "/who\nhello\n/msg x y\n/nick z\nafter\n" });
    assertClean("stdout", r.stdout);
    assertClean("stderr", r.stderr);
    assert.match(r.stdout, /^\d\d:\d\d <[^>]*red[^>]*> /m, "events were printed, defanged");
    assert.match(r.stdout, /online \(2\)/);
    assert.match(r.stderr, /could not send to x: /);
    assert.equal(r.code, 1, "the refused /msg makes the status 1");
  });
  await t.step("--json", async () => {
    const r = await runClient([...at, "--json"], { stdin: "/who\n" });
    assertClean("stdout", r.stdout);
    assertClean("stderr", r.stderr);
    const frames = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.ok(frames.some((f) => f.type === "public" && f.text === EVIL), "lossless JSON");
  });
  await t.step("menu", async () => {
    const r = await runClient([...at, "--menu"], {
      stdin: "1\nhi\nexit\n2\nx\ny\nexit\nexit\n0\n",
    });
    assertClean("stdout", r.stdout);
    assertClean("stderr", r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1\. public chat/);
  });
  await t.step("--send", async () => {
    const r = await runClient([...at, "--to", "x", "--send", "y"]);
    assertClean("stdout", r.stdout);
    assertClean("stderr", r.stderr);
    assert.equal(r.code, 1);
  });
  await fake.handlers();
});

Deno.test("client hostile server: a refused --name with an evil reason is one clean line", async () => {
  await using fake = fakeServer((c) => hostile(c, { nameError: { code: EVIL, message: EVIL } }));
  const r = await runClient(["-port", String(fake.port), "--name", "alice"]);
  assert.equal(r.code, 1);
  assertClean("stderr", r.stderr);
  assert.match(r.stderr, /^client: cannot use the name "alice": .*\n$/);
});

Deno.test("client hostile server: an endless line is cut off at 1 MiB with a clear error", async (t) => {
  const flood = async (c: FakeConn) => {
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 17; i++) await c.write(chunk).catch(() => {});
    // Stay open: closing with the hello unread would reset the connection, discarding the flood.
    while (await c.readLine() !== null) { /* drain */ }
  };
  await t.step("before the welcome", async () => {
    await using fake = fakeServer(flood);
    const r = await runClient(["-port", String(fake.port)], { stdin: "" });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "client: the server sent a line longer than 1 MiB\n");
  });
  await t.step("after the welcome", async () => {
    await using fake = fakeServer(async (c) => {
      await c.readLine();
      await c.send(welcome({ name: "me", online: [] }));
      await flood(c);
    });
    await using client = ClientProcess.spawn(["-port", String(fake.port), "--no-reconnect"]);
    const r = await client.finish();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^! connection closed: the server sent a line longer than 1 MiB; disconnected$/m,
    );
    assertClean("stdout", r.stdout);
  });
});

Deno.test("client hostile server: a server that never welcomes is given up on", async () => {
  await using fake = fakeServer(async (c) => {
    while (await c.readLine() !== null) { /* say nothing */ }
  });
  const r = await runClient(["-port", String(fake.port), "--send", "x"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^client: no welcome from the server within 5000 ms \(is it a FastIM server\?\)\n$/,
  );
});

Deno.test("client: --send with a login does not acknowledge offline messages it never showed", async () => {
  const received: string[] = [];
  await using fake = fakeServer(async (c) => {
    await c.readLine(); // hello
    await c.send({
      type: "welcome",
      version: 1,
      name: "alice",
      account: "alice",
      addr: "127.0.0.1:1",
      limits: { maxLine: 8192, idleTimeoutMs: 0 },
      online: [],
    });
    await c.send({
      type: "private",
      msgId: 5,
      ts: 1000,
      from: "bob",
      to: "alice",
      text: "waited",
      offline: true,
    });
    while (true) {
      const line = await c.readLine();
      if (line === null) return;
      const f = JSON.parse(line);
      received.push(f.type);
      await c.send({ type: "ok", id: f.id, msgId: 6, ts: 2000 });
      if (f.type === "quit") return;
    }
  });
  const r = await runClient(["-port", String(fake.port), "--name", "alice", "--send", "hi"], {
    env: { FASTIM_PASSWORD: "secret password" },
  });
  assert.equal(r.code, 0, r.stderr);
  await fake.handlers();
  assert.ok(received.includes("say"), received.join());
  assert.ok(!received.includes("ack"), `no ack expected: ${received.join()}`);
});

Deno.test("client: when stdout is closed (--json | head -1) the client exits instead of reconnecting", async () => {
  let connections = 0;
  await using fake = fakeServer(async (c) => {
    connections++;
    await c.readLine();
    await c.send({
      type: "welcome",
      version: 1,
      name: "watcher",
      addr: "127.0.0.1:1",
      limits: { maxLine: 8192, idleTimeoutMs: 0 },
      online: [],
    });
    for (let i = 1; i <= 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        await c.send({ type: "public", msgId: i, ts: 1000, from: "bob", text: `n${i}` });
      } catch {
        return; // the client hung up
      }
    }
  });
  const proc = new Deno.Command(Deno.execPath(), {
    args: clientArgv(["-port", String(fake.port), "--json"]),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Read the first chunk (the welcome), then close the pipe like `head -1`.
  const reader = proc.stdout.getReader();
  await reader.read();
  await reader.cancel();
  const timer = setTimeout(() => proc.kill("SIGKILL"), 8000);
  const [status, err] = await Promise.all([
    proc.status,
    new Response(proc.stderr).text(),
  ]);
  clearTimeout(timer);
  await proc.stdin.close().catch(() => {});
  assert.equal(status.code, 0, err);
  assert.doesNotMatch(err, /connection lost|reconnect/);
  assert.equal(connections, 1);
});
