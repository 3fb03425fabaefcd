/**
 * The entrypoint of an edge thread (`--workers N`): listens on the shared ports with
 * `SO_REUSEPORT` and serves its connections through an {@link EdgeGateway} to the hub. Started by
 * lib/server/workers/worker_server.ts; `deno compile` must `--include` this file.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { EdgeControl, HubControl, HubMessage } from "./bus.ts";
import { ChatServer } from "../listener.ts";
import { EdgeGateway } from "./edge.ts";
import { Logger } from "../../shared/log.ts";

let chat: EdgeGateway | undefined;
let server: ChatServer | undefined;

function control(message: EdgeControl): void {
  self.postMessage(message);
}

function start({ index, config }: Extract<HubControl, { kind: "start" }>): void {
  const log = new Logger(config.logLevel, undefined, config.logFormat).with({ edge: index });
  chat = new EdgeGateway((items) => self.postMessage(items));
  try {
    server = ChatServer.listen(config, log, { chat, gate: chat.gate, bots: chat.bots }, {
      reusePort: true,
    });
  } catch (e) {
    return control({ kind: "failed", message: (e as Error)?.message ?? String(e) });
  }
  control({ kind: "listening" });
  server.finished.then(() => control({ kind: "finished" }));
}

self.onmessage = (e: MessageEvent<HubMessage[] | HubControl>) => {
  const message = e.data;
  if (Array.isArray(message)) return chat?.receive(message);
  if (message.kind === "start") start(message);
  else if (message.kind === "shutdown") {
    if (server) void server.shutdown();
    else control({ kind: "finished" });
  }
};
