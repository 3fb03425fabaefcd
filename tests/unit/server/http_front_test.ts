/**
 * The HTTP front in-process, on a real socket, in front of a stand-in chat server: what it answers
 * while the server shuts down.
 *
 * @module
 */

import { strictEqual } from "node:assert/strict";
import { HttpFront, type HttpHost } from "../../../lib/server/http/http_server.ts";
import { SERVER_DEFAULTS } from "../../../lib/server/config.ts";
import { Logger } from "../../../lib/shared/log.ts";
import { LocalGate } from "../../../lib/server/chat_gateway.ts";
import { Bans } from "../../../lib/core/bans.ts";
import { Store } from "../../../lib/store/sqlite.ts";

Deno.test("/healthz says 503 and /ws refuses once shutdown began", async () => {
  const store = Store.open(":memory:");
  const host: HttpHost & { shuttingDown: boolean } = {
    shuttingDown: false,
    gate: new LocalGate(new Bans(store), SERVER_DEFAULTS.conns),
    serveTransport: () => {
      throw new Error("no WebSocket is expected");
    },
    gauges: () => ({ connections: {}, usersOnline: 0 }),
  };
  const config = {
    ...SERVER_DEFAULTS,
    host: "127.0.0.1",
    http: { port: 0, allowedOrigins: [], metricsAllow: [] },
  };
  const front = HttpFront.listen(config, new Logger("error"), host);
  try {
    const url = `http://127.0.0.1:${front.addr!.port}`;
    const health = async () => {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      return res.status;
    };
    strictEqual(await health(), 200);
    host.shuttingDown = true;
    strictEqual(await health(), 503);
    const ws = await fetch(`${url}/ws`, { headers: { upgrade: "websocket" } });
    await ws.body?.cancel();
    strictEqual(ws.status, 503);
  } finally {
    await front.shutdown();
    store.close();
  }
});
