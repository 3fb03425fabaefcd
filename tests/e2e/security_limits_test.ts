/**
 * Connection limits, flood control and the slowloris deadline against the real server.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

/** Connects and waits for the client's own `online` line, so the server has admitted it. */
async function joined(port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  await c.readUntil((l) => l === `[${c.addr}], ${c.addr}:online`);
  return c;
}

/** Connects a client the server is expected to refuse; returns everything it was sent. */
async function refused(port: number): Promise<string[]> {
  const c = await LineClient.connect(port);
  try {
    return await c.readToEnd();
  } finally {
    c.close();
  }
}

Deno.test("connections per address are limited, with a line saying so", async () => {
  await using server = await startServer(["--max-conns-per-ip", "3"]);
  const clients = [await joined(server.port), await joined(server.port), await joined(server.port)];
  try {
    deepStrictEqual(await refused(server.port), [
      "too many connections from your address: at most 3 at once",
    ]);
    clients.pop()!.close();
    // The slot is free once the server has seen the close.
    const deadline = Date.now() + 3000;
    let again: LineClient | undefined;
    while (!again && Date.now() < deadline) {
      const c = await LineClient.connect(server.port);
      const first = await c.readLine();
      if (first?.endsWith(":online")) again = c;
      else c.close();
    }
    ok(again, "a freed slot is given to the next connection");
    clients.push(again);
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("the whole-server cap refuses politely: server is full, try again later", async () => {
  await using server = await startServer(["--max-conns", "2"]);
  using a = await joined(server.port);
  using _b = await joined(server.port);
  deepStrictEqual(await refused(server.port), ["server is full, try again later"]);
  deepStrictEqual(await refused(server.port), ["server is full, try again later"]);
  await a.send("still here");
  await a.readUntil((l) => l === `[${a.addr}], ${a.addr}:still here`);
});

Deno.test("new connections per minute per address are limited", async () => {
  await using server = await startServer(["--conn-rate", "3"]);
  for (let i = 0; i < 3; i++) (await joined(server.port)).close();
  const [line, ...rest] = await refused(server.port);
  ok(
    /^too many new connections from your address: at most 3 per minute; try again in \d+\.\d s$/
      .test(line),
    line,
  );
  deepStrictEqual(rest, []);
});

Deno.test("text: a burst over the message limit is delayed, not refused: every line arrives", async () => {
  // Issue 10 item 7: the excess waits for the rate ("fakelag") instead of "slow down".
  await using server = await startServer(["--msg-rate", "5", "--msg-burst", "5"]);
  using a = await joined(server.port);
  await a.writeRaw(new TextEncoder().encode(
    Array.from({ length: 8 }, (_, i) => `m${i}\n`).join(""),
  ));
  const lines = [];
  for (let i = 0; i < 8; i++) lines.push(await a.readLine());
  deepStrictEqual(lines, [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `[${a.addr}], ${a.addr}:m${i}`));
});

Deno.test("JSON: over the limit is an error frame with code rate_limited and the id", async () => {
  await using server = await startServer(["--msg-rate", "1", "--msg-burst", "2"]);
  const c = await JsonClient.connect(server.port);
  try {
    for (let i = 1; i <= 3; i++) await c.send({ type: "ping", id: i });
    const replies = [];
    for (let i = 0; i < 3; i++) {
      replies.push(await c.readUntil((f) => f.type === "ok" || f.type === "error"));
    }
    deepStrictEqual(replies.slice(0, 2), [{ type: "ok", id: 1 }, { type: "ok", id: 2 }]);
    strictEqual(replies[2].type, "error");
    strictEqual(replies[2].id, 3);
    strictEqual(replies[2].code, "rate_limited");
    ok(String(replies[2].message).startsWith("slow down: at most 1 messages per second;"));
  } finally {
    c.close();
  }
});

Deno.test("renames are limited on their own", async () => {
  await using server = await startServer(["--rename-rate", "2"]);
  using a = await joined(server.port);
  await a.send("rename|one");
  strictEqual(await a.readLine(), "You renamed to one");
  await a.send("rename|two");
  strictEqual(await a.readLine(), "You renamed to two");
  await a.send("rename|three");
  ok(
    /^slow down: at most 2 renames per minute; try again in \d+\.\d s$/.test((await a.readLine())!),
  );
  await a.send("but I can still talk");
  strictEqual(await a.readLine(), `[${a.addr}], two:but I can still talk`);
});

Deno.test("a flood is disconnected once its backlog passes --flood-backlog", async () => {
  await using server = await startServer(["--msg-burst", "5", "--flood-backlog", "40"]);
  using watcher = await joined(server.port);
  const flooder = await LineClient.connect(server.port);
  try {
    await flooder.writeRaw(new TextEncoder().encode("spam\n".repeat(200)));
    const got = await flooder.readToEnd(5000);
    ok(got.filter((l) => l.endsWith(":spam")).length <= 10, `${got}`);
    ok(/^more than 40 lines waiting .*; closing the connection$/.test(got.at(-1)!), got.at(-1));
    await watcher.readUntil((l) => l === `[${flooder.addr}], ${flooder.addr}:offline`);
    for (let i = 0; i < 50 && !server.stderr().includes("reason=rate_limited"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    ok(server.stderr().includes("reason=rate_limited"), "the log says why");
  } finally {
    flooder.close();
  }
});

Deno.test("slowloris: a line trickled byte by byte is closed at the line timeout", async () => {
  await using server = await startServer(["--line-timeout", "600ms"]);
  using c = await joined(server.port);
  const started = Date.now();
  let closed = false;
  const reading = c.readToEnd(5000).then((lines) => {
    closed = true;
    return lines;
  });
  for (const byte of new TextEncoder().encode("hello there, this never ends")) {
    if (closed) break;
    await c.writeRaw(new Uint8Array([byte])).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
  }
  deepStrictEqual(await reading, ["no complete line within 0.6 s; closing the connection"]);
  const took = Date.now() - started;
  ok(took >= 550 && took < 3000, `closed after ${took} ms`);
});

Deno.test("nothing useful: bytes but no line within the line timeout closes", async () => {
  await using server = await startServer(["--line-timeout", "500ms"]);
  using c = await joined(server.port);
  await c.send("");
  await c.send("\r");
  deepStrictEqual(await c.readToEnd(3000), [
    "no complete line within 0.5 s; closing the connection",
  ]);
});

Deno.test("a silent reader (nc) is not closed by the line timeout", async () => {
  await using server = await startServer(["--line-timeout", "300ms"]);
  using reader = await joined(server.port);
  using talker = await joined(server.port);
  await reader.readUntil((l) => l.endsWith(`${talker.addr}:online`));
  await new Promise((r) => setTimeout(r, 1000));
  await talker.send("are you there?");
  strictEqual(await reader.readLine(), `[${talker.addr}], ${talker.addr}:are you there?`);
});
