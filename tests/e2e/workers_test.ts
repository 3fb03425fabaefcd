/**
 * `--workers N`: the hub in the main thread and edge threads sharing the port. The real server,
 * real sockets; which edge took a connection is read from the server's `connect` log lines.
 * (`FASTIM_TEST_WORKERS=2 deno task test` runs the whole suite this way too.)
 *
 * @module
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient, LineClient, readLines, waitUntil } from "../helpers/lines.ts";
import { runServerToExit, startServer, type TestServer } from "../helpers/server.ts";

const OPEN = ["--msg-rate", "0", "--byte-rate", "0", "--rename-rate", "0", "--who-rate", "0"];

/** The edge each client's connection was logged on, by the client's local address. */
async function edgesOf(
  server: TestServer,
  clients: LineClient[],
): Promise<Map<LineClient, string>> {
  const edges = new Map<LineClient, string>();
  await waitUntil(() => {
    for (const c of clients) {
      const m = server.stderr().match(
        new RegExp(`INFO connect addr=${c.addr} tls=false edge=(\\d)`),
      );
      if (m) edges.set(c, m[1]);
    }
    return edges.size === clients.length;
  }, "a connect line for every client");
  return edges;
}

Deno.test("workers: connections on different edges chat in public and in private", async () => {
  await using server = await startServer(["--workers", "2", ...OPEN]);
  const clients: LineClient[] = [];
  try {
    for (let i = 0; i < 16; i++) clients.push(await connectText(server.port));
    const edges = await edgesOf(server, clients);
    // The kernel spreads connections by a hash: all 16 on one edge has odds of 1 in 32,768.
    deepStrictEqual(new Set(edges.values()), new Set(["0", "1"]), "both edges serve");
    for (const [i, c] of clients.entries()) {
      await c.send(`rename|u${i}`);
      await c.readUntil((l) => l === `You renamed to u${i}`);
    }
    const a = clients.find((c) => edges.get(c) === "0")!;
    const b = clients.find((c) => edges.get(c) === "1")!;
    await a.send("hello across threads");
    const name = `u${clients.indexOf(a)}`;
    for (const c of clients) {
      await c.readUntil((l) => l === `[${a.addr}], ${name}:hello across threads`);
    }
    await a.send(`to|u${clients.indexOf(b)}|psst`);
    strictEqual(await b.readLine(), `${name} sent you a message: psst`);
    await b.send("who");
    const who = await readLines(b, 16);
    deepStrictEqual(
      who.map((l) => l.match(/\],(u\d+):online$/)?.[1]).sort(),
      clients.map((_, i) => `u${i}`).sort(),
    );
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("workers: accounts, takeover and offline messages go through the one hub", async () => {
  await using server = await startServer(["--workers", "2", ...OPEN]);
  const a = await JsonClient.connect(server.port, { name: "alice" });
  strictEqual((await a.request({ type: "register", password: "alice password" })).type, "ok");
  a.close();
  const bob = await JsonClient.connect(server.port, { name: "bob" });
  const stored = await bob.request({ type: "msg", to: "alice", text: "while you were out" });
  strictEqual(stored.stored, true);
  // Log in on as many connections as it takes to use both edges: each joins the others, and
  // gets the inbox while it is not acknowledged.
  const sessions: JsonClient[] = [];
  const used = new Set<string>();
  for (let i = 0; i < 16 && used.size < 2; i++) {
    const s = await JsonClient.connect(server.port, { name: "alice", password: "alice password" });
    strictEqual(s.welcome.account, "alice");
    const offline = await s.readUntil((f) => f.type === "private");
    strictEqual(offline.text, "while you were out");
    strictEqual(offline.offline, true);
    sessions.push(s);
    for (const edge of (await edgesOf(server, [s.lines])).values()) used.add(edge);
  }
  // A private message reaches every connection, on both edges; who lists alice once.
  strictEqual((await bob.request({ type: "msg", to: "alice", text: "to all of you" })).type, "ok");
  for (const s of sessions) {
    strictEqual((await s.readUntil((f) => f.type === "private")).text, "to all of you");
  }
  const who = await bob.request({ type: "who" });
  strictEqual((who.users as { name: string }[]).filter((u) => u.name === "alice").length, 1);
  // A takeover ends all the others, wherever they are.
  const taker = await JsonClient.connect(server.port, {
    name: "alice",
    password: "alice password",
    takeover: true,
  });
  for (const s of sessions) {
    strictEqual((await s.readUntil((f) => f.type === "notice")).code, "replaced");
  }
  sessions.push(taker);
  deepStrictEqual(used, new Set(["0", "1"]), "the logins joined the account across both edges");
  strictEqual((await sessions.at(-1)!.request({ type: "ack", msgIds: [stored.msgId] })).type, "ok");
  sessions.at(-1)!.close();
  const last = await JsonClient.connect(server.port, {
    name: "alice",
    password: "alice password",
  });
  strictEqual(await last.read(500).catch(() => "nothing"), "nothing", "acknowledged: not again");
  for (const c of [...sessions, last, bob]) c.close();
});

Deno.test("workers: the connection limits count every edge's connections", async () => {
  await using server = await startServer(["--workers", "2", "--max-conns-per-ip", "16"]);
  const clients: LineClient[] = [];
  try {
    for (let i = 0; i < 16; i++) clients.push(await connectText(server.port));
    // All 16 on one edge has odds of 1 in 32,768; then no edge alone reaches the limit.
    const edges = await edgesOf(server, clients);
    deepStrictEqual(new Set(edges.values()), new Set(["0", "1"]), "both edges hold some");
    for (let i = 0; i < 3; i++) {
      const c = await LineClient.connect(server.port);
      deepStrictEqual(await c.readToEnd(), [
        "too many connections from your address: at most 16 at once",
      ]);
      c.close();
    }
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("workers: shutdown tells every client and exits 0", async () => {
  const server = await startServer(["--workers", "3"]);
  const clients: LineClient[] = [];
  for (let i = 0; i < 6; i++) clients.push(await connectText(server.port));
  const stopped = server.stop("SIGTERM");
  for (const c of clients) {
    const rest = await c.readToEnd();
    strictEqual(rest.at(-1), "server is shutting down");
    ok(!rest.some((l) => l.endsWith(":offline")), "leaving at shutdown is not announced");
    c.close();
  }
  strictEqual((await stopped).code, 0);
});

Deno.test("workers: a port in use and a bad count are one-line errors", async () => {
  await using other = await startServer();
  const busy = await runServerToExit(["--workers", "2", "--port", String(other.port)]);
  strictEqual(busy.code, 1);
  match(busy.stderr.trim(), /^server: port \d+ on 0\.0\.0\.0 is already in use: .*--port$/);
  for (const bad of ["0", "65", "two"]) {
    const r = await runServerToExit(["--workers", bad]);
    strictEqual(r.code, 2, bad);
    strictEqual(r.stderr.trim().split("\n").length, 1);
    match(r.stderr, /--workers/);
  }
});
