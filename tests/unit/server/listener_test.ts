import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { SERVER_DEFAULTS, type ServerConfig } from "../../../lib/server/config.ts";
import { ChatServer, StartupError } from "../../../lib/server/listener.ts";
import type { ConnectionLimits } from "../../../lib/server/rate_limit.ts";
import { LineClient, presenceLine } from "../../helpers/lines.ts";
import { memoryChat } from "../../helpers/memory_chat.ts";

/** A listening ChatServer on an ephemeral port, on a chat in memory. */
function listen(conns: Partial<ConnectionLimits> = {}, config: Partial<ServerConfig> = {}) {
  const memory = memoryChat({ conns: { ...SERVER_DEFAULTS.conns, ...conns } });
  const server = ChatServer.listen(
    { ...SERVER_DEFAULTS, host: "127.0.0.1", port: 0, ...config },
    memory.log,
    { chat: memory.chat, gate: memory.gate },
  );
  return {
    ...memory,
    server,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("ChatServer serves each connection on the one chat", async () => {
  await using s = listen();
  using a = await LineClient.connect(s.server.addr.port);
  strictEqual(await a.readLine(), presenceLine(a.addr, "online"));
  using b = await LineClient.connect(s.server.addr.port);
  strictEqual(await a.readLine(), presenceLine(b.addr, "online"));
  strictEqual(s.server.connections.size, 2);
  strictEqual(s.core.size, 2);
});

Deno.test("ChatServer refuses past the per-address limit with one line, and frees the slot on close", async () => {
  await using s = listen({ maxConnsPerIp: 1 });
  const a = await LineClient.connect(s.server.addr.port);
  await a.readLine();
  using refused = await LineClient.connect(s.server.addr.port);
  deepStrictEqual(await refused.readToEnd(), [
    "too many connections from your address: at most 1 at once",
  ]);
  strictEqual(s.core.size, 1, "a refused connection never joins the chat");
  a.close();
  // Once the first has gone, the address may connect again.
  while (s.server.connections.size > 0) await new Promise((r) => setTimeout(r, 5));
  using again = await LineClient.connect(s.server.addr.port);
  strictEqual(await again.readLine(), presenceLine(again.addr, "online"));
});

Deno.test("ChatServer refuses a banned address", async () => {
  await using s = listen();
  s.bans.add({ kind: "ip", target: "127.0.0.1", until: null, reason: "" });
  using c = await LineClient.connect(s.server.addr.port);
  deepStrictEqual(await c.readToEnd(), ["you are banned from this server"]);
});

Deno.test("ChatServer.shutdown tells every client, closes them, and finishes", async () => {
  const s = listen();
  using a = await LineClient.connect(s.server.addr.port);
  await a.readLine();
  using b = await LineClient.connect(s.server.addr.port);
  await b.readLine();
  await a.readLine(); // b's presence
  await s.server.shutdown();
  await s.server.finished;
  deepStrictEqual(await a.readToEnd(), ["server is shutting down"]);
  deepStrictEqual(await b.readToEnd(), ["server is shutting down"]);
  strictEqual(s.server.connections.size, 0);
  await rejects(LineClient.connect(s.server.addr.port));
  // Shutting down twice is harmless.
  await s.server.shutdown();
});

Deno.test("ChatServer.listen on a port in use fails with one line naming the flag", async () => {
  await using s = listen();
  throws(
    () => listen({}, { port: s.server.addr.port }),
    (e: Error) => {
      ok(e instanceof StartupError);
      strictEqual(
        e.message,
        `port ${s.server.addr.port} on 127.0.0.1 is already in use: stop the other server or choose another --port`,
      );
      return true;
    },
  );
});
