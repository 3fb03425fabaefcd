/**
 * The cluster scenario (`deno task bench --scenarios cluster`): three FastIM nodes joined by a
 * `redis-server` on this machine (`--appendfsync always`, as docs/SCALING.md asks), against one
 * node alone. Two figures, each for one server alone and for the cluster:
 *
 * - **fan-out across nodes**: one sender on node a, listeners spread over nodes b and c (alone:
 *   all on the one server); `deliveries/s` is messages × listeners over the time from the first
 *   send until every listener has every message.
 * - **hop latency**: one sender on node a at a fixed low rate, one listener on node b (alone: on
 *   the same server); p50/p99 of send-to-receive time, so the cluster's figure minus the one
 *   server's is what the hop through Redis adds.
 *
 * Text dialect over raw TCP, no flood control (the flags below), a fresh Redis and fresh servers
 * per run.
 *
 * @module
 */

import { startServer, type TestServer } from "../tests/helpers/server.ts";
import { hasRedis, startRedis } from "../tests/helpers/redis.ts";
import type { Row } from "./scenarios.ts";
import type { BenchOptions } from "./options.ts";

const QUIET = [
  ...["--msg-rate", "0", "--byte-rate", "0", "--rename-rate", "0", "--who-rate", "0"],
  ...["--max-conns-per-ip", "100000", "--conn-rate", "0", "--history", "0", "--no-http"],
  ...["--no-irc", "--workers", "1", "--log-level", "warn"],
];

const enc = new TextEncoder();

/** A raw text connection that counts the lines ending with a marker and times them. */
class Conn {
  lines = 0;
  #buf = "";
  private constructor(readonly conn: Deno.TcpConn, readonly onLine: (l: string) => void) {
    void this.#pump();
  }

  static async open(port: number, onLine: (l: string) => void = () => {}): Promise<Conn> {
    const c = new Conn(await Deno.connect({ hostname: "127.0.0.1", port }), onLine);
    return c;
  }

  async #pump(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    const dec = new TextDecoder();
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) return;
        this.#buf += dec.decode(buf.subarray(0, n), { stream: true });
        let i;
        while ((i = this.#buf.indexOf("\n")) >= 0) {
          const line = this.#buf.slice(0, i);
          this.#buf = this.#buf.slice(i + 1);
          this.lines++;
          this.onLine(line);
        }
      }
    } catch { /* closed */ }
  }

  async send(line: string): Promise<void> {
    const bytes = enc.encode(line + "\n");
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round = (v: number, d = 2) => Number(v.toFixed(d));

/** Fan-out: `listeners` split over `to`, one sender on `from`. */
async function fanout(
  from: TestServer[],
  to: TestServer[],
  listeners: number,
  messages: number,
  senders = 1,
): Promise<{ perSec: number; msgsPerSec: number; lost: number }> {
  let got = 0;
  const marker = (l: string) => {
    if (l.endsWith(":fan")) got++;
  };
  const conns: Conn[] = [];
  for (let i = 0; i < listeners; i++) conns.push(await Conn.open(to[i % to.length].port, marker));
  // Each sender counts its own lines coming back (everyone's, in fact: a window on the chat).
  const echoes: number[] = [];
  const senderConns: Conn[] = [];
  for (let i = 0; i < senders; i++) {
    echoes.push(0);
    senderConns.push(
      await Conn.open(from[i % from.length].port, (l) => {
        if (l.endsWith(":fan")) echoes[i]++;
      }),
    );
  }
  // Everyone is in the chat (each saw its own online line at least) before the burst.
  await until(() => [...conns, ...senderConns].every((c) => c.lines > 0), 30_000);
  await new Promise((r) => setTimeout(r, 300));
  const start = performance.now();
  const total = messages * senders;
  // A window of 100 lines in flight (of all senders): the server refuses a sender with 200
  // lines waiting.
  await Promise.all(senderConns.map(async (sender, i) => {
    for (let sent = 0; sent < messages;) {
      const inFlight = sent * senders - echoes[i];
      if (inFlight >= 100) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const n = Math.min(Math.max(1, Math.floor(50 / senders)), messages - sent);
      await sender.send(Array.from({ length: n }, () => "fan").join("\n"));
      sent += n;
    }
  }));
  const expected = total * listeners;
  await until(() => got >= expected, 60_000);
  const seconds = (performance.now() - start) / 1000;
  for (const c of [...conns, ...senderConns]) c.close();
  return {
    perSec: Math.round(got / seconds),
    msgsPerSec: Math.round(got / listeners / seconds),
    lost: expected - got,
  };
}

/** Hop latency: one message every `everyMs` from `from` to a listener on `to`. */
async function hop(
  from: TestServer,
  to: TestServer,
  count: number,
  everyMs: number,
): Promise<{ p50: number; p99: number; lost: number }> {
  const sentAt = new Map<number, number>();
  const took: number[] = [];
  const listener = await Conn.open(to.port, (l) => {
    const m = /:hop (\d+)$/.exec(l);
    const t = m ? sentAt.get(Number(m[1])) : undefined;
    if (t !== undefined) took.push(performance.now() - t);
  });
  const sender = await Conn.open(from.port);
  await until(() => listener.lines > 0 && sender.lines > 0, 30_000);
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < count; i++) {
    sentAt.set(i, performance.now());
    await sender.send(`hop ${i}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await until(() => took.length >= count, 10_000);
  listener.close();
  sender.close();
  took.sort((a, b) => a - b);
  return {
    p50: round(percentile(took, 0.5)),
    p99: round(percentile(took, 0.99)),
    lost: count - took.length,
  };
}

/** The cluster scenario's rows: fan-out and hop latency, one server vs three nodes + Redis. */
export async function clusterScenario(opts: BenchOptions): Promise<Row[]> {
  if (!hasRedis()) {
    console.error(
      "cluster scenario skipped: redis-server is not installed (apt-get install redis-server)",
    );
    return [];
  }
  const listeners = opts.quick ? 50 : 1000;
  const messages = opts.quick ? 50 : 500;
  const hops = opts.quick ? 50 : 1000;
  const rows: Row[] = [];
  const row = (server: string, figures: Record<string, number>, notes: string[]): Row => ({
    scenario: "cluster",
    server,
    dialect: "text",
    figures,
    notes,
  });
  {
    const one = await startServer(["--db", ":memory:", ...QUIET]);
    try {
      const f = await fanout([one], [one], listeners, messages);
      const r = await fanout([one], [one], 100, messages, 10);
      const h = await hop(one, one, hops, 5);
      rows.push(row("fastim, one node", {
        "deliveries/s": f.perSec,
        "10 senders msgs/s": r.msgsPerSec,
        "hop p50 ms": h.p50,
        "hop p99 ms": h.p99,
        "lost": f.lost + r.lost + h.lost,
      }, [`${listeners} listeners × ${messages} msgs; ${hops} hops at 200/s`]));
    } finally {
      await one.stop();
    }
  }
  // --workers 2 against two single-thread nodes joined by Redis: the two ways to use two cores
  // (docs/SCALING.md says which to keep). Listeners split over both, as SO_REUSEPORT would.
  {
    const two = await startServer([
      "--db",
      ":memory:",
      ...QUIET.filter((f) => f !== "--workers" && f !== "1"),
      "--workers",
      "2",
    ]);
    try {
      const f = await fanout([two], [two], listeners, messages);
      const r = await fanout([two], [two], 100, messages, 10);
      rows.push(
        row("fastim --workers 2", {
          "deliveries/s": f.perSec,
          "10 senders msgs/s": r.msgsPerSec,
          "lost": f.lost,
        }, [
          "one process, two edge threads",
        ]),
      );
    } finally {
      await two.stop();
    }
  }
  {
    await using redis = await startRedis();
    const pair: TestServer[] = [];
    try {
      for (let i = 0; i < 2; i++) pair.push(await startServer(["--redis", redis.url, ...QUIET]));
      const f = await fanout([pair[0]], pair, listeners, messages);
      const r = await fanout(pair, pair, 100, messages, 10);
      rows.push(
        row("fastim, 2 nodes + Redis", {
          "deliveries/s": f.perSec,
          "10 senders msgs/s": r.msgsPerSec,
          "lost": f.lost,
        }, [
          "listeners split over both nodes, the sender on one",
        ]),
      );
    } finally {
      await Promise.all(pair.map((n) => n.stop()));
    }
  }
  await using redis = await startRedis();
  const nodes: TestServer[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await startServer(["--redis", redis.url, ...QUIET]));
    const [a, b, c] = nodes;
    const f = await fanout([a], [b, c], listeners, messages);
    const r = await fanout([a, b, c], [a, b, c], 100, messages, 10);
    const h = await hop(a, b, hops, 5);
    rows.push(row("fastim, 3 nodes + Redis", {
      "deliveries/s": f.perSec,
      "10 senders msgs/s": r.msgsPerSec,
      "hop p50 ms": h.p50,
      "hop p99 ms": h.p99,
      "lost": f.lost + r.lost + h.lost,
    }, [`sender on node a, listeners on b and c; appendfsync always`]));
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
  return rows;
}
