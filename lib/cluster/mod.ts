/**
 * FastIM servers joined into one chat through Redis (`--redis URL`, docs/SCALING.md). Every node
 * appends what its users ask to one Redis Stream, the cluster's log (`log.ts`), and applies the
 * whole log, in its one order, to a replica of the chat (`replica.ts`): the same `ChatCore` and
 * `Dispatcher` as a single server, holding every node's users (the others' as ghosts that receive
 * nothing here). Its connections reach it through `ClusterGateway` (`gateway.ts`), the same seam
 * as the one-process and `--workers` servers; `node.ts` holds the Redis connections, the node's
 * lease and the detection of dead nodes; `backend.ts` builds it all from the configuration.
 *
 * @imports cluster, server, core, protocol, shared, store
 * @module
 */
export {};
