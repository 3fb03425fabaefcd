/**
 * The load generator inside one worker process: reader loops that scan every received chunk
 * for probes (latency, delivery counts, window acknowledgements), and sender loops that write
 * probes publicly or privately, each within a bounded window of unacknowledged messages and
 * a deadline, so every loop stops by itself.
 *
 * A sender's message counts as acknowledged once every reading connection of this worker that
 * should receive it has (for private messages: the one peer), so senders cannot run ahead of
 * the readers and merely fill kernel buffers.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";
import { nowUs, probe, scanProbes } from "./marker.ts";
import { openConn, openMany } from "./connect.ts";
import { writeAll } from "../../lib/shared/bytes.ts";
import type { ByteConn } from "./ws_conn.ts";
import type { WorkerPlan, WorkerReport } from "./plan.ts";
import { closeQuietly } from "../../lib/shared/close_quietly.ts";
import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";

const encoder = new TextEncoder();

/** One local sender's window bookkeeping. */
interface Sender {
  id: number;
  conn: ByteConn;
  /** Private peer's name, or undefined for public messages. */
  to?: string;
  sent: number;
  /** All messages below this sequence number are acknowledged. */
  done: number;
  /** Local receptions per in-flight message, indexed by seq % window. */
  ring: Uint32Array;
  /** Local readers that must see a message before it counts as acknowledged. */
  expect: number;
  wake?: () => void;
  lastProgressMs: number;
}

/** Mutable counters of the current command. */
interface Counters {
  /** Reads that returned bytes while counting: deliveries / reads shows write coalescing. */
  reads: number;
  deliveries: number;
  deliveriesTotal: number;
  bytes: number;
  closed: number;
  stalls: number;
  sent: number;
  leaked: number;
  latency: Histogram;
}

function freshCounters(): Counters {
  return {
    reads: 0,
    deliveries: 0,
    deliveriesTotal: 0,
    bytes: 0,
    closed: 0,
    stalls: 0,
    sent: 0,
    leaked: 0,
    latency: new Histogram(),
  };
}

/** A worker's connections and loops. */
export class Traffic {
  readonly plan: WorkerPlan;
  readers: ByteConn[] = [];
  slowConns: ByteConn[] = [];
  bystanders: ByteConn[] = [];
  senders: Sender[] = [];
  /** Local senders by global id, for acknowledgements. */
  private byId: (Sender | undefined)[] = [];
  private counting = false;
  private windowEndUs = Infinity;
  private rxUs = 0;
  private c: Counters = freshCounters();
  lastRxMs = performance.now();
  openReaders = 0;
  /** Lines received by reading connections that do not scan for probes, since setup. */
  linesTotal = 0;

  constructor(plan: WorkerPlan) {
    this.plan = plan;
  }

  /** Opens every connection of the plan and starts the reader loops. */
  async setup(): Promise<{ connected: number; failed: number }> {
    const p = this.plan;
    const names: { sender?: number; name?: string; to?: string }[] = [];
    for (let i = 0; i < p.listeners; i++) names.push({});
    for (const s of p.senders) names.push({ sender: s });
    for (const pair of p.pairs) {
      const a = 2 * pair, b = 2 * pair + 1;
      names.push({ sender: a, name: `q${a}`, to: `q${b}` }, {
        sender: b,
        name: `q${b}`,
        to: `q${a}`,
      });
    }
    const results = await openMany(
      names.length + p.slow,
      p.connectConcurrency,
      (i) =>
        i < names.length
          ? openConn(p.host, p.port, p.dialect, names[i].name, p.room)
          : Deno.connect({ hostname: p.host, port: p.port }),
    );
    const bystanders = await openMany(
      p.bystanders,
      p.connectConcurrency,
      () => openConn(p.host, p.port, p.dialect),
    );
    for (const r of bystanders) {
      if (r.status === "fulfilled") {
        this.bystanders.push(r.value);
        this.bystanderLoop(r.value);
      }
    }
    let failed = 0;
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        failed++;
        return;
      }
      if (i >= names.length) {
        this.slowConns.push(r.value);
        return;
      }
      const spec = names[i];
      this.readers.push(r.value);
      if (spec.sender !== undefined) {
        const s: Sender = {
          id: spec.sender,
          conn: r.value,
          to: spec.to,
          sent: 0,
          done: 0,
          ring: new Uint32Array(p.window),
          expect: 1,
          lastProgressMs: 0,
        };
        this.senders.push(s);
        this.byId[s.id] = s;
      }
    });
    failed += bystanders.filter((r) => r.status === "rejected").length;
    const publicExpect = this.readers.length;
    for (const s of this.senders) s.expect = s.to ? 1 : publicExpect;
    this.openReaders = this.readers.length;
    for (const conn of this.readers) this.readLoop(conn);
    return {
      connected: this.readers.length + this.slowConns.length + this.bystanders.length,
      failed,
    };
  }

  /** Waits until no bytes arrived for `quietMs` (true) or `maxMs` passed (false). */
  async settle(quietMs: number, maxMs: number): Promise<boolean> {
    const start = performance.now();
    while (performance.now() - start < maxMs) {
      if (performance.now() - this.lastRxMs >= quietMs) return true;
      await sleep(Math.min(50, quietMs));
    }
    return false;
  }

  /**
   * Runs the senders from `startUs` for `durationMs`, then drains until `quietMs` pass
   * without bytes (at most `drainMs`), and reports.
   */
  async run(
    startUs: number,
    durationMs: number,
    drainMs: number,
    quietMs: number,
  ): Promise<WorkerReport> {
    const waitMs = (startUs - nowUs()) / 1000;
    if (waitMs > 0) await sleep(waitMs);
    this.c = freshCounters();
    const readers = this.openReaders;
    const t0 = performance.now();
    this.windowEndUs = nowUs() + durationMs * 1000;
    this.counting = true;
    const deadline = t0 + durationMs;
    await Promise.all(this.senders.map((s, k) => this.sendLoop(s, deadline, k)));
    const elapsedMs = performance.now() - t0;
    // Drain: wait for in-flight deliveries until quiet, bounded by drainMs.
    await this.settle(Math.min(quietMs, drainMs), drainMs);
    const c = this.c;
    return {
      sent: c.sent,
      deliveries: c.deliveries,
      deliveriesTotal: c.deliveriesTotal,
      reads: c.reads,
      bytes: c.bytes,
      readers,
      closed: c.closed,
      stalls: c.stalls,
      slowClosed: await this.countClosedSlow(),
      leaked: c.leaked,
      latency: c.latency.toJSON(),
      elapsedMs: Math.max(elapsedMs, durationMs),
    };
  }

  /** Holds the connections for `ms` and counts how many are still open. */
  async hold(ms: number): Promise<{ open: number; closed: number; lines: number }> {
    const before = this.openReaders;
    await sleep(ms);
    return {
      open: this.openReaders + this.slowConns.length,
      closed: before - this.openReaders,
      lines: this.linesTotal,
    };
  }

  /** Closes every connection. */
  closeAll(): void {
    for (const conn of [...this.readers, ...this.slowConns, ...this.bystanders]) closeQuietly(conn);
  }

  private async readLoop(conn: ByteConn): Promise<void> {
    const buf = new Uint8Array(this.plan.readBuf);
    const scan = this.plan.scan;
    let carry = 0;
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(carry ? buf.subarray(carry) : buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      this.lastRxMs = performance.now();
      this.c.bytes += n;
      if (!scan) {
        // Idle connections count their lines (the connect storm checks that none was lost).
        const got = buf.subarray(0, n);
        for (let i = got.indexOf(10); i >= 0; i = got.indexOf(10, i + 1)) this.linesTotal++;
        continue;
      }
      if (!this.counting) continue;
      const end = carry + n;
      this.c.reads++;
      this.rxUs = nowUs();
      const rest = scanProbes(buf, end, this.onProbe);
      carry = end - rest;
      // A pending probe is short; a huge "carry" means garbage, so drop it.
      if (carry > 256) carry = 0;
      else if (carry > 0) buf.copyWithin(0, rest, end);
    }
    this.openReaders--;
    if (this.counting) this.c.closed++;
    // The closed reader no longer acknowledges public messages.
    for (const s of this.senders) {
      if (!s.to && s.expect > 1) {
        s.expect--;
        this.advance(s);
      }
    }
  }

  /** Reads a lobby-only connection: any probe here is a room message that leaked out. */
  private async bystanderLoop(conn: ByteConn): Promise<void> {
    const buf = new Uint8Array(this.plan.readBuf);
    const leaked = () => this.c.leaked++;
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) return;
      this.lastRxMs = performance.now();
      if (this.counting) scanProbes(buf, n, leaked);
    }
  }

  /** Called for every probe found; an arrow so it can be passed without binding per chunk. */
  private onProbe = (sender: number, seq: number, sendUs: number): void => {
    const c = this.c;
    c.deliveriesTotal++;
    if (this.rxUs <= this.windowEndUs) c.deliveries++;
    c.latency.record(this.rxUs - sendUs);
    const s = this.byId[sender];
    if (s === undefined || seq < s.done || seq >= s.sent) return;
    s.ring[seq % s.ring.length]++;
    this.advance(s);
  };

  private advance(s: Sender): void {
    const w = s.ring.length;
    const before = s.done;
    while (s.done < s.sent && s.ring[s.done % w] >= s.expect) {
      s.ring[s.done % w] = 0;
      s.done++;
    }
    if (s.done !== before) {
      s.lastProgressMs = performance.now();
      const wake = s.wake;
      s.wake = undefined;
      wake?.();
    }
  }

  private async sendLoop(s: Sender, deadline: number, k: number): Promise<void> {
    const p = this.plan;
    const pad = "x".repeat(p.payload);
    const w = p.window;
    const interval = p.ratePerSender > 0 ? 1000 / p.ratePerSender : 0;
    // Stagger rate-limited senders across one interval so they do not fire together.
    let next = performance.now() +
      (interval ? (interval * k) / Math.max(1, this.senders.length) : 0);
    s.lastProgressMs = performance.now();
    const timeUp = sleep(deadline - performance.now() + 1000).then(() => false);
    while (performance.now() < deadline) {
      if (interval) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next += interval;
        if (performance.now() >= deadline) break;
      }
      if (s.sent - s.done >= w) {
        await this.waitWindow(s, deadline);
        if (s.sent - s.done >= w) continue;
      }
      const text = probe(s.id, s.sent, nowUs()) + pad;
      const line = this.encodeLine(s, text);
      s.sent++;
      this.c.sent++;
      // A server that stops reading (the Go original behind a slow consumer) would block
      // the write forever: give up at the deadline; the connection is closed at exit.
      const written = await Promise.race([writeAll(s.conn, line).then(() => true), timeUp])
        .catch(() => false);
      if (!written) return;
    }
  }

  private encodeLine(s: Sender, text: string): Uint8Array {
    const room = this.plan.room;
    if (this.plan.dialect !== "text") {
      return encoder.encode(
        s.to
          ? `{"type":"msg","to":"${s.to}","text":"${text}"}\n`
          : room
          ? `{"type":"say","room":"${room}","text":"${text}"}\n`
          : `{"type":"say","text":"${text}"}\n`,
      );
    }
    if (s.to) return encoder.encode(`to|${s.to}|${text}\n`);
    return encoder.encode(room ? `to|${room}|${text}\n` : `${text}\n`);
  }

  /** Waits for the window to open, the deadline, or a stall (then forces it open). */
  private async waitWindow(s: Sender, deadline: number): Promise<void> {
    const stallAt = s.lastProgressMs + this.plan.stallMs;
    const until = Math.min(deadline, stallAt) - performance.now();
    if (until > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        s.wake = resolve;
        timer = setTimeout(resolve, until);
      });
      clearTimeout(timer);
      s.wake = undefined;
    }
    const now = performance.now();
    if (s.sent - s.done >= s.ring.length && now >= stallAt && now < deadline) {
      // A lost message (e.g. the Go original splitting a read) would block forever.
      this.c.stalls++;
      s.ring.fill(0);
      s.done = s.sent;
      s.lastProgressMs = now;
    }
  }

  private async countClosedSlow(): Promise<number> {
    if (this.slowConns.length === 0) return 0;
    // Read each slow connection briefly: a closed one ends with EOF (or a reset) quickly.
    const buf = new Uint8Array(256 * 1024);
    let closed = 0;
    for (const conn of this.slowConns) {
      const deadline = performance.now() + 2000;
      let pending = conn.read(buf).catch(() => null);
      while (performance.now() < deadline) {
        const r = await within(pending, 200);
        if (r === TIMED_OUT) break; // quiet: still open
        if (r === null) {
          closed++;
          break;
        }
        pending = conn.read(buf).catch(() => null);
      }
    }
    return closed;
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
