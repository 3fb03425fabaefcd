/**
 * History across a cluster (`--redis`): private catch-up, private history and search, and mention
 * marks, for users on different nodes, the same as on one server.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { JsonClient } from "../helpers/lines.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { hasRedis, startRedis } from "../helpers/redis.ts";

const ignore = !hasRedis() && !Deno.env.get("CI");
const QUIET = ["--msg-rate", "0", "--who-rate", "0", "--workers", "1"];

Deno.test({
  name: "cluster: private catch-up, search and mentions across two nodes",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers: TestServer[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        servers.push(await startServer(["--redis", redis.url, "--cluster", "h", ...QUIET]));
      }
      const [a, b] = servers;
      using ann = await JsonClient.connect(a.port, { name: "ann" });
      strictEqual(
        (await ann.request({ type: "register", password: "ann-password" }, 5000)).type,
        "ok",
      );
      using bob = await JsonClient.connect(b.port, { name: "bob" });
      await ann.readUntil((f) => f.type === "presence" && f.name === "bob", 5000);
      strictEqual(
        (await bob.request({ type: "msg", to: "ann", text: "café at noon?" }, 5000)).type,
        "ok",
      );
      await ann.readUntil((f) => f.type === "private", 5000);
      strictEqual((await bob.request({ type: "say", text: "ann: ping" }, 5000)).type, "ok");
      const mention = await ann.readUntil(
        (f) => f.type === "public" && f.text === "ann: ping",
        5000,
      );
      strictEqual(mention.mention, true);

      const caught = await ann.request({ type: "catchup", target: "private", after: 0 }, 5000);
      deepStrictEqual(
        (caught.messages as Record<string, unknown>[]).map((m) => [m.from, m.to, m.text]),
        [
          ["bob", "ann", "café at noon?"],
        ],
      );
      // Newest first, from a connection on the other node (the page after a reload).
      using annOnB = await JsonClient.connect(b.port, { name: "ann", password: "ann-password" });
      const latest = await annOnB.request({ type: "history", room: "private", limit: 5 }, 5000);
      deepStrictEqual(
        (latest.messages as Record<string, unknown>[]).map((m) => [m.from, m.to, m.text]),
        [["bob", "ann", "café at noon?"]],
      );
      const found = await ann.request({ type: "search", query: "CAFE" }, 5000);
      deepStrictEqual((found.messages as Record<string, unknown>[]).map((m) => m.text), [
        "café at noon?",
      ]);
    } finally {
      await Promise.all(servers.map((s) => s.stop().catch(() => {})));
    }
  },
});
