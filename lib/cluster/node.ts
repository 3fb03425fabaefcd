/**
 * This node's links to Redis: one connection for commands (appending to the log, the lease) and
 * one that blocks reading the log; the lease that says the node is alive; and the detection of
 * nodes whose lease ran out (SIGKILLed, or cut off), whose users it then logs as gone.
 *
 * Redis going away is logged once, and its return once; meanwhile appends fail at once (no
 * offline queue: a request is refused with `unavailable`, never acknowledged unstored), the
 * client library reconnects with backoff, and the reader resumes after the last entry it applied,
 * so every entry is applied exactly once.
 *
 * @module
 */

import { createClient } from "redis";
import { TIMED_OUT, within } from "../shared/deadline.ts";
import type { Logger } from "../shared/log.ts";
import { clusterKeys, entryTime, FIELD, type LogCommand, parseCommand } from "./log.ts";

/** How long a node's lease lasts without renewal; renewed every {@link RENEW_MS}. */
export const LEASE_MS = 5_000;
export const RENEW_MS = 1_000;
/**
 * How long this node must have reached Redis before it declares others dead: after Redis itself
 * restarted, every node needs time to renew its lease.
 */
const SETTLE_MS = LEASE_MS + RENEW_MS;
/** Entries read at once. */
const READ_COUNT = 500;
/** How long one blocking read waits before it is renewed. */
const BLOCK_MS = 2_000;
/** How long a start waits for Redis. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Redis could not be reached at start. */
export class RedisStartError extends Error {
  override name = "RedisStartError";
}

/** A running node of the cluster. */
export class ClusterNode {
  readonly #keys: ReturnType<typeof clusterKeys>;
  readonly #cmd: RedisClient;
  readonly #reader: RedisClient;
  #lastId = "0";
  #up = true;
  #upSince = Date.now();
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Nodes declared down and not yet seen gone from the chat. */
  readonly #declared = new Set<string>();

  private constructor(
    /** Unique for this process: a restarted node is a new node. */
    readonly id: string,
    url: string,
    cluster: string,
    readonly log: Logger,
    /** Applies one entry (every node's, this one's too), in log order. */
    readonly apply: (c: LogCommand, ts: number) => void,
    /** The nodes with users in the chat. */
    readonly nodes: () => string[],
  ) {
    this.#keys = clusterKeys(cluster);
    const options = {
      url,
      // Fail at once while disconnected: a request is refused, not queued behind an outage.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000),
      },
    };
    this.#cmd = createClient(options);
    // The log is read with a blocking XREAD: on a connection of its own.
    this.#reader = createClient(options);
    for (const r of [this.#cmd, this.#reader]) r.on("error", (e: Error) => this.#down(e));
  }

  /**
   * Connects, takes the lease and applies the whole log so far; throws {@link RedisStartError}
   * when Redis cannot be reached.
   */
  static async open(
    id: string,
    url: string,
    cluster: string,
    log: Logger,
    apply: (c: LogCommand, ts: number) => void,
    nodes: () => string[],
  ): Promise<ClusterNode> {
    const node = new ClusterNode(id, url, cluster, log, apply, nodes);
    try {
      const connected = Promise.all([node.#cmd.connect(), node.#reader.connect()]);
      if (await within(connected, CONNECT_TIMEOUT_MS) === TIMED_OUT) {
        throw new Error(`no answer from ${redactUrl(url)} within ${CONNECT_TIMEOUT_MS / 1000} s`);
      }
      await node.#renew();
      // Catch up with the log before serving anyone.
      while (await node.#readOnce(false) > 0) { /* more */ }
    } catch (e) {
      await Promise.all([node.#cmd.disconnect(), node.#reader.disconnect()]).catch(() => {});
      throw new RedisStartError(`cannot use Redis: ${(e as Error).message}`);
    }
    node.#up = true;
    node.#upSince = Date.now();
    void node.#readLoop();
    node.#timer = setInterval(() => void node.#tick(), RENEW_MS);
    return node;
  }

  /** Appends `c` to the log; rejects when Redis does not take it. */
  async append(c: LogCommand): Promise<void> {
    try {
      await this.#cmd.sendCommand(["XADD", this.#keys.log, "*", FIELD, JSON.stringify(c)]);
    } catch (e) {
      this.#down(e as Error);
      throw e;
    }
  }

  /** Whether Redis answered the last time it was asked. */
  get up(): boolean {
    return this.#up;
  }

  /** Leaves the cluster: the node's users are logged gone, its lease dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    try {
      await this.append({ op: "down", node: this.id });
      await this.#cmd.sendCommand(["DEL", this.#keys.lease(this.id), this.#keys.conns(this.id)]);
    } catch { /* the others will see the lease run out */ }
    this.#closed = true;
    await Promise.all([this.#cmd.disconnect(), this.#reader.disconnect()]).catch(() => {});
  }

  async #readLoop(): Promise<void> {
    let wait = 100;
    while (!this.#closed) {
      try {
        await this.#readOnce(true);
        wait = 100;
      } catch (e) {
        if (this.#closed) return;
        this.#down(e as Error);
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, 2_000);
      }
    }
  }

  /** Reads and applies the next entries; returns how many. */
  async #readOnce(block: boolean): Promise<number> {
    const args = ["XREAD", "COUNT", String(READ_COUNT)];
    if (block) args.push("BLOCK", String(BLOCK_MS));
    args.push("STREAMS", this.#keys.log, this.#lastId);
    const result = await this.#reader.sendCommand(args) as [string, [string, string[]][]][] | null;
    this.#reached();
    const entries = result?.[0]?.[1] ?? [];
    for (const [id, fields] of entries) {
      this.#lastId = id;
      const c = parseCommand(fields);
      if (c) this.apply(c, entryTime(id));
    }
    return entries.length;
  }

  async #renew(): Promise<void> {
    await this.#cmd.sendCommand(["SET", this.#keys.lease(this.id), "1", "PX", String(LEASE_MS)]);
    // The connection counts live as long as the lease (a dead node's go with it).
    await this.#cmd.sendCommand(["PEXPIRE", this.#keys.conns(this.id), String(LEASE_MS)]);
  }

  /** Renews the lease, then declares down the nodes whose lease is gone. */
  async #tick(): Promise<void> {
    try {
      await this.#renew();
      this.#reached();
      if (Date.now() - this.#upSince < SETTLE_MS) return;
      const others = this.nodes().filter((n) => n !== this.id);
      for (const n of [...this.#declared]) if (!others.includes(n)) this.#declared.delete(n);
      if (others.length === 0) return;
      const alive = await this.#exists(others);
      if (alive === others.length) return;
      for (const n of others) {
        if (this.#declared.has(n)) continue;
        if (await this.#exists([n]) === 0) {
          this.log.warn("cluster node gone: its users are offline", { node: n });
          this.#declared.add(n);
          await this.append({ op: "down", node: n });
        }
      }
    } catch (e) {
      this.#down(e as Error);
    }
  }

  /** Open connections from address `key` on every live node (this one and `nodes()`). */
  async countConns(key: string): Promise<number> {
    const nodes = [this.id, ...this.nodes().filter((n) => n !== this.id)];
    const counts = await Promise.all(
      nodes.map((n) => this.#cmd.sendCommand(["HGET", this.#keys.conns(n), key])),
    ) as (string | null)[];
    return counts.reduce((sum, c) => sum + Number(c ?? 0), 0);
  }

  /** Adds `delta` to this node's open connections from address `key`. */
  async addConns(key: string, delta: number): Promise<void> {
    const hash = this.#keys.conns(this.id);
    await this.#cmd.sendCommand(["HINCRBY", hash, key, String(delta)]);
    await this.#cmd.sendCommand(["PEXPIRE", hash, String(LEASE_MS)]);
  }

  /** How many of `nodes` hold their lease. */
  async #exists(nodes: string[]): Promise<number> {
    return await this.#cmd.sendCommand(["EXISTS", ...nodes.map((n) => this.#keys.lease(n))]);
  }

  /** Redis answered: say so once after an outage. */
  #reached(): void {
    if (this.#up) return;
    this.#up = true;
    this.#upSince = Date.now();
    this.log.notice("redis reachable again: the cluster works again");
  }

  /** Redis failed: say so once per outage. */
  #down(error: Error): void {
    if (this.#closed || !this.#up) return;
    this.#up = false;
    this.log.warn(
      "redis unreachable: requests that need it are refused as unavailable until it is back",
      { error: error.message },
    );
  }
}

type RedisClient = ReturnType<typeof createClient>;

/** `url` without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}
