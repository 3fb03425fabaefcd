import { strictEqual } from "node:assert/strict";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

Deno.test("a rate_limited error says how long to wait, in retryAfterMs", async () => {
  await using server = await startServer(["--msg-rate", "1", "--msg-burst", "1"]);
  const c = await JsonClient.connect(server.port);
  strictEqual(c.welcome.limits && (c.welcome.limits as { msgRate: number }).msgRate, 1);
  strictEqual((await c.request({ type: "ping" })).type, "ok");
  const refused = await c.request({ type: "ping" });
  strictEqual(refused.code, "rate_limited");
  const wait = refused.retryAfterMs as number;
  if (!(wait > 0 && wait <= 1000)) throw new Error(`retryAfterMs ${wait} not in (0, 1000]`);
  c.close();
});
