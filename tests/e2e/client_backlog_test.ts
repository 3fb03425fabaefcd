/**
 * The backlog after a reconnect, through the real client against a scripted server: line mode
 * prints the messages it missed (and not the first backlog), `--json` prints no frame twice.
 */

import assert from "node:assert/strict";
import { ClientProcess, type FakeConn, fakeServer } from "../helpers/client.ts";

const welcome = {
  type: "welcome",
  version: 1,
  name: "watcher",
  addr: "127.0.0.1:1",
  limits: { maxLine: 8192, idleTimeoutMs: 0 },
  online: [],
};
const pub = (msgId: number, text: string, history = false) => ({
  type: "public",
  msgId,
  ts: 1000 * msgId,
  from: "bob",
  text,
  ...(history ? { history: true } : {}),
});
const away = {
  type: "private",
  msgId: 2,
  ts: 2000,
  from: "bob",
  to: "watcher",
  text: "waited",
  offline: true,
};

/**
 * First connection: the backlog (1), a waiting private message (2), a live message (3), then a drop.
 * Second connection: the backlog again with 3 and, sent while the client was away, 4; 2 once more.
 */
async function dropThenBacklog(c: FakeConn, i: number): Promise<void> {
  await c.readLine(); // hello
  await c.send(welcome);
  await c.send(pub(1, "old", true));
  await c.send(away);
  if (i === 0) {
    await c.send(pub(3, "live"));
    await new Promise((r) => setTimeout(r, 200));
    return c.close(); // the client reconnects
  }
  for (const f of [pub(1, "old", true), pub(3, "live", true), pub(4, "missed", true)]) {
    await c.send(f);
  }
  while (true) {
    const line = await c.readLine();
    if (line === null) return;
    const req = JSON.parse(line);
    await c.send({ type: "ok", id: req.id });
    if (req.type === "quit") return;
  }
}

Deno.test("client backlog: line mode prints what it missed while reconnecting, once", async () => {
  await using fake = fakeServer(dropThenBacklog);
  await using client = ClientProcess.spawn(["-port", String(fake.port), "--no-color"]);
  await client.waitForStderr("reconnected to", 10_000);
  await client.waitForStdout("missed");
  await client.closeStdin();
  const r = await client.finish();
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n").map((l) => l.replace(/^\d\d:\d\d /, ""));
  assert.deepEqual(lines, [
    "[bob -> you] waited (sent while you were away)",
    "<bob> live",
    "<bob> missed",
  ]);
});

Deno.test("client backlog: --json prints history and waiting messages once across a reconnect", async () => {
  await using fake = fakeServer(dropThenBacklog);
  await using client = ClientProcess.spawn(["-port", String(fake.port), "--json"]);
  await client.waitForStderr("reconnected to", 10_000);
  await client.waitForStdout('"missed"');
  await client.closeStdin();
  const r = await client.finish();
  assert.equal(r.code, 0, r.stderr);
  const frames = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  const shown = frames
    .filter((f) => f.type !== "ok")
    .map((f) => f.type === "welcome" ? "welcome" : `${f.type} ${f.msgId}`);
  assert.deepEqual(shown, [
    "welcome",
    "public 1",
    "private 2",
    "public 3",
    "welcome",
    "public 4",
  ]);
});
