/**
 * Builds a cluster node's backend from the configuration (`--redis`, `--cluster`): the replica,
 * its gateway and gate, and the node's Redis links; resolves once the node has caught up with
 * the log, so it serves nobody a half-built chat.
 *
 * @module
 */

import type { Logger } from "../shared/log.ts";
import type { Backend } from "../server/listener.ts";
import { type BackendConfig } from "../server/backend.ts";
import type { Gate } from "../server/chat_gateway.ts";
import { ClusterGate } from "./gate.ts";
import type { ChatCore } from "../core/chat.ts";
import { ClusterGateway } from "./gateway.ts";
import { ClusterNode } from "./node.ts";
import { Replica } from "./replica.ts";

export { RedisStartError } from "./node.ts";

/** A cluster node's backend. */
export interface ClusterBackend extends Backend {
  core: ChatCore;
  chat: ClusterGateway;
  gate: Gate;
  node: ClusterNode;
  /** Leaves the cluster (its users logged gone) and closes the Redis links. */
  close(): Promise<void>;
}

/**
 * Joins the cluster `cluster` on the Redis at `url`.
 *
 * @example
 * ```ts
 * import { openClusterBackend } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "../server/config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const backend = await openClusterBackend(
 *   { ...SERVER_DEFAULTS, redisUrl: "redis://127.0.0.1:6379" },
 *   new Logger("info"),
 * );
 * ```
 */
export async function openClusterBackend(
  config: BackendConfig & { redisUrl: string; cluster: string },
  log: Logger,
): Promise<ClusterBackend> {
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  const replica = new Replica(id, config, log, (cid) => chat.local(cid));
  // The gateway appends only once the node is open (connections come after).
  const chat: ClusterGateway = new ClusterGateway(replica, log, {
    id,
    append: (c) => node.append(c),
  });
  const node = await ClusterNode.open(
    id,
    config.redisUrl,
    config.cluster,
    log,
    (c, ts) => {
      const applied = replica.apply(c, ts);
      if (c.node === id) chat.applied(c, applied);
    },
    () => replica.nodes(),
  );
  const gate = new ClusterGate(replica.dispatcher.bans, config.conns, {
    count: (key) => node.countConns(key),
    add: (key, delta) => node.addConns(key, delta),
  });
  log.info("cluster node", { node: id, cluster: config.cluster });
  const unavailable = () => node.up ? undefined : "unavailable: this node cannot reach Redis";
  return { core: replica.core, chat, gate, node, unavailable, close: () => node.close() };
}
