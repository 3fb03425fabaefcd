import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { SERVER_DEFAULTS, type ServerConfig } from "../../../lib/server/config.ts";
import { ClientConnection, type ServerContext } from "../../../lib/server/connection.ts";
import { LineClient, presenceLine } from "../../helpers/lines.ts";
import { memoryChat } from "../../helpers/memory_chat.ts";

/**
 * Connections on real sockets to a listener of the test's own, each served by a
 * {@link ClientConnection} on a chat in memory; the server context is a small object, not a ChatServer.
 */
function harness(config: Partial<ServerConfig> = {}) {
  const memory = memoryChat();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed: ClientConnection[] = [];
  const ctx: ServerContext = {
    chat: memory.chat,
    config: { ...SERVER_DEFAULTS, host: "127.0.0.1", port: 0, ...config },
    log: memory.log,
    shuttingDown: false,
    onClosed: (c) => closed.push(c as ClientConnection),
  };
  const runs: Promise<void>[] = [];
  /** Connects a client and returns it with the server's side of the connection. */
  const connect = async () => {
    const client = await LineClient.connect(listener.addr.port);
    const connection = new ClientConnection(await listener.accept(), ctx);
    const run = connection.run();
    runs.push(run);
    return { client, connection, run };
  };
  return {
    ...memory,
    closed,
    connect,
    async [Symbol.asyncDispose]() {
      listener.close();
      // Tests close their clients; every connection then ends on its own.
      await Promise.all(runs);
    },
  };
}

Deno.test("ClientConnection: a text client is announced, renames and chats", async () => {
  await using h = harness();
  const a = await h.connect();
  using ca = a.client;
  strictEqual(await ca.readLine(), presenceLine(ca.addr, "online"));
  await ca.send("rename|tom");
  strictEqual(await ca.readLine(), "You renamed to tom");
  const b = await h.connect();
  using cb = b.client;
  strictEqual(await ca.readLine(), presenceLine(cb.addr, "online"));
  await cb.send("hello all");
  strictEqual(await ca.readLine(), `[${cb.addr}], ${cb.addr}:hello all`);
  strictEqual(a.connection.user.name, "tom");
});

Deno.test("ClientConnection: a JSON hello is welcomed first; replies leave in request order", async () => {
  await using h = harness();
  const { client } = await h.connect();
  using c = client;
  await c.readLine(); // its own presence, sent before the dialect is known
  await c.send(JSON.stringify({ type: "hello", version: 1, name: "tom" }));
  const welcome = JSON.parse((await c.readLine())!);
  deepStrictEqual([welcome.type, welcome.name], ["welcome", "tom"]);
  // Three requests in one write: a write, a read, a write.
  await c.writeRaw(new TextEncoder().encode(
    [
      { type: "say", id: 1, text: "one" },
      { type: "who", id: 2 },
      { type: "say", id: 3, text: "two" },
    ].map((f) => JSON.stringify(f) + "\n").join(""),
  ));
  const replies: number[] = [];
  while (replies.length < 3) {
    const frame = JSON.parse((await c.readLine())!);
    if (frame.type !== "ok") continue;
    replies.push(frame.id);
    // By the time a reply arrives, what it acknowledges is committed.
    strictEqual(h.store.pending, false);
  }
  deepStrictEqual(replies, [1, 2, 3]);
  deepStrictEqual(h.store.recentPublic(10).map((m) => m.text), ["one", "two"]);
});

Deno.test("ClientConnection: lines behind one that waits (a password check) are carried out after it, in order; later lines at once", async () => {
  await using h = harness();
  const a = await h.connect();
  using ca = a.client;
  const b = await h.connect();
  using cb = b.client;
  await ca.readLine(); // its own presence
  strictEqual(await ca.readLine(), presenceLine(cb.addr, "online"));
  // One write: the register is hashed (about 100 ms, async), and the lines behind it wait for it.
  await cb.writeRaw(
    new TextEncoder().encode("rename|tom\nregister|correct horse\nafter one\nafter two\n"),
  );
  // What ca hears of tom's chat (it also hears the rename).
  const said = async () => {
    for (let line; (line = await ca.readLine()) != null;) {
      if (line.startsWith(`[${cb.addr}], tom:`)) return line;
    }
  };
  strictEqual(await said(), `[${cb.addr}], tom:after one`);
  // The register was carried out before the line behind it.
  strictEqual(b.connection.user.account, "tom");
  strictEqual(await said(), `[${cb.addr}], tom:after two`);
  // tom's own lines: its replies in order (the register's after its commit, so possibly after
  // the echo of what followed it, as every reply comes after the group commit).
  const own: string[] = [];
  while (own.length < 2) {
    const line = await cb.readLine();
    if (line === null || line === undefined) break;
    if (line.startsWith("You ")) own.push(line);
  }
  deepStrictEqual(own, ["You renamed to tom", "You registered tom"]);
  // Nothing waits now: a line is carried out as it is read.
  await cb.send("later");
  strictEqual(await said(), `[${cb.addr}], tom:later`);
});

Deno.test("ClientConnection: input that ends during a wait is still carried out to the last line, across two waits", async () => {
  await using h = harness();
  const { client } = await h.connect();
  using c = client;
  await c.readLine(); // its own presence
  // Two lines that wait (a register, then a passwd: each hashes), a line after them, then the end.
  await c.writeRaw(new TextEncoder().encode(
    "rename|tom\nregister|correct horse\npasswd|correct horse|battery staple\nsaid last\n",
  ));
  await c.closeWrite();
  const lines = await c.readToEnd(5000);
  // Replies in request order (each after its commit, so the echo of a later line may come first).
  deepStrictEqual(lines.filter((l) => l.startsWith("You")), [
    "You renamed to tom",
    "You registered tom",
    "Your password was changed",
  ]);
  ok(lines.includes(`[${c.addr}], tom:said last`), lines.join("\n"));
});

Deno.test("ClientConnection: an over-long line gets the notice, and the connection leaves the chat", async () => {
  await using h = harness({ maxLineBytes: 64 });
  const { client, connection, run } = await h.connect();
  using c = client;
  await c.readLine(); // its own presence
  await c.send("x".repeat(100));
  deepStrictEqual(await c.readToEnd(), [
    "line too long: the limit is 64 bytes; closing the connection",
  ]);
  await run;
  deepStrictEqual(h.closed, [connection]);
  strictEqual(h.core.size, 0);
});

Deno.test("ClientConnection: with --flood-backlog 0, requests over the flood limit are refused with the wait", async () => {
  const flood = { ...SERVER_DEFAULTS.flood, msgRate: 1, msgBurst: 2, backlog: 0 };
  await using h = harness({ flood });
  const { client } = await h.connect();
  using c = client;
  await c.readLine();
  await c.writeRaw(new TextEncoder().encode("one\ntwo\nthree\n"));
  const lines = [await c.readLine(), await c.readLine(), await c.readLine()];
  strictEqual(lines[0], `[${c.addr}], ${c.addr}:one`);
  strictEqual(lines[1], `[${c.addr}], ${c.addr}:two`);
  ok(
    /^slow down: at most 1 messages per second; try again in \d\.\d s$/.test(lines[2]!),
    lines[2]!,
  );
  deepStrictEqual(h.store.recentPublic(10).map((m) => m.text), ["one", "two"]);
});

Deno.test("ClientConnection: quit is answered and closes; the others see the user leave", async () => {
  await using h = harness();
  const a = await h.connect();
  using ca = a.client;
  await ca.readLine();
  const b = await h.connect();
  using cb = b.client;
  await ca.readLine();
  await cb.readLine();
  await cb.send(JSON.stringify({ type: "hello", version: 1 }));
  await cb.readLine(); // welcome
  await cb.send(JSON.stringify({ type: "quit", id: "q" }));
  deepStrictEqual((await cb.readToEnd()).map((l) => JSON.parse(l).type), ["ok"]);
  strictEqual(await ca.readLine(), presenceLine(cb.addr, "offline"));
});
