/**
 * The cluster's log: what every node appends to the Redis Stream `fastim:{CLUSTER}:log` and
 * applies, in the stream's one order. An entry is one command from one node about one of its
 * connections (`cid`); `seq` numbers the node's commands that await a reply. Everything is plain
 * JSON in the entry's field `c`.
 *
 * Passwords never enter the log: the node that holds the connection checks or hashes them, and
 * logs only the outcome (`signin`, or the new salt and hash).
 *
 * @module
 */

import type { Request } from "../protocol/requests.ts";

/** One command of the log. */
export type LogCommand =
  /** A connection joined on `node`. */
  | { op: "join"; node: string; cid: number; addr: string; ip: string }
  /** A request, carried out by every node (`hello`: the origin answers with a welcome). */
  | { op: "req"; node: string; cid: number; seq: number; request: Request; hello?: boolean }
  /** A login whose password `node` has checked. */
  | {
    op: "signin";
    node: string;
    cid: number;
    seq: number;
    key: string;
    takeover: boolean;
    hello?: boolean;
  }
  /** `register` or `passwd` with the salt and hash `node` computed (base64). */
  | {
    op: "account";
    node: string;
    cid: number;
    seq: number;
    kind: "register" | "passwd";
    salt: string;
    hash: string;
    hello?: undefined;
  }
  /** Offline messages a text client was given: forget them. */
  | { op: "delivered"; node: string; key: string; msgIds: number[] }
  /** The connection left. */
  | { op: "leave"; node: string; cid: number; silent: boolean }
  /** `node` stopped renewing its lease (or shut down): its users are offline. */
  | { op: "down"; node: string };

/** The Redis keys of the cluster `name`; the braces keep them in one Redis Cluster slot. */
export function clusterKeys(
  name: string,
): { log: string; lease: (node: string) => string; conns: (node: string) => string } {
  return {
    log: `fastim:{${name}}:log`,
    lease: (node) => `fastim:{${name}}:node:${node}`,
    conns: (node) => `fastim:{${name}}:conns:${node}`,
  };
}

/** The field of a log entry that holds its command. */
export const FIELD = "c";

/**
 * Reads one entry's command, or `undefined` for one this node does not understand (written by a
 * newer version, or by hand): it is skipped, the same way on every node.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./log.ts";
 *
 * parseCommand(["c", '{"op":"down","node":"n1"}']); // { op: "down", node: "n1" }
 * ```
 */
export function parseCommand(fields: string[]): LogCommand | undefined {
  const i = fields.indexOf(FIELD);
  if (i < 0 || i % 2 !== 0) return undefined;
  try {
    const c = JSON.parse(fields[i + 1]);
    return typeof c?.op === "string" && typeof c?.node === "string" ? c as LogCommand : undefined;
  } catch {
    return undefined;
  }
}

/** The time of an entry, from its stream id (`MS-SEQ`): the same on every node. */
export function entryTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
