/**
 * Drives one traffic pattern against one server: splits the connections over worker
 * processes, opens them, lets the connect announcements settle, runs the senders in lock
 * step, and merges the workers' counts and latency histograms into one result.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";
import { nowUs } from "./marker.ts";
import type { Dialect, WorkerPlan, WorkerReport } from "./plan.ts";
import { WorkerPool } from "./pool.ts";
import { cpuSeconds } from "../proc.ts";

/** A traffic pattern over the whole generator. */
export interface TrafficSpec {
  host: string;
  port: number;
  dialect: Dialect;
  listeners: number;
  senders: number;
  pairs: number;
  slow: number;
  /** The room listeners and senders talk in (absent: the lobby). */
  room?: string;
  /** Lobby-only connections beside the room (they must receive none of its messages). */
  bystanders?: number;
  window: number;
  /** Messages per second summed over all senders; 0 = as fast as the windows allow. */
  rate: number;
  payload: number;
  durationMs: number;
  /** Generator worker processes. */
  procs: number;
  /** Longest wait for connect announcements to drain before starting (ms). */
  settleMaxMs?: number;
  /** Silence that counts as settled, before the run and after it (ms); default 300. */
  quietMs?: number;
  /** The server's PID, to measure its CPU use during the run. */
  serverPid?: number;
}

/** Merged outcome of one traffic run. */
export interface TrafficResult {
  connected: number;
  failed: number;
  setupMs: number;
  settled: boolean;
  sent: number;
  deliveries: number;
  deliveriesTotal: number;
  /** Deliveries expected after the drain when nothing is lost (readers × their messages). */
  expected: number;
  deliveriesPerSec: number;
  sentPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  closed: number;
  stalls: number;
  slowClosed: number;
  /** Probes that reached lobby-only connections (must be 0). */
  leaked: number;
  /** Probes per successful read: how many lines the server coalesced into one write. */
  linesPerRead: number;
  /** Server CPU during the measured window, in % of one core (0 when unknown). */
  serverCpu: number;
  /** The kernel-mode part of `serverCpu`. */
  serverSys: number;
  /** All generator workers' CPU during the window, in % of one core. */
  generatorCpu: number;
}

/** Splits `n` items into `k` near-equal counts. */
function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** Spreads the spec over `procs` worker plans. */
export function planWorkers(spec: TrafficSpec): WorkerPlan[] {
  const k = Math.max(1, spec.procs);
  const listeners = split(spec.listeners, k);
  const bystanders = split(spec.bystanders ?? 0, k);
  const perSender = spec.senders > 0 ? spec.rate / spec.senders : 0;
  const perPairSide = spec.pairs > 0 ? spec.rate / (2 * spec.pairs) : 0;
  return listeners.map((l, i) => ({
    host: spec.host,
    port: spec.port,
    dialect: spec.dialect,
    listeners: l,
    senders: Array.from({ length: spec.senders }, (_, s) => s).filter((s) => s % k === i),
    pairs: Array.from({ length: spec.pairs }, (_, p) => p).filter((p) => p % k === i),
    slow: i === 0 ? spec.slow : 0,
    room: spec.room,
    bystanders: bystanders[i],
    window: spec.window,
    ratePerSender: spec.senders > 0 ? perSender : perPairSide,
    payload: spec.payload,
    scan: true,
    readBuf: 64 * 1024,
    connectConcurrency: 64,
    stallMs: 1000,
  }));
}

/** Expected deliveries: each public message reaches every reader, each private one its peer. */
function expectedDeliveries(spec: TrafficSpec, reports: WorkerReport[]): number {
  const sent = reports.reduce((a, r) => a + r.sent, 0);
  if (spec.pairs > 0) return sent;
  return sent * reports.reduce((a, r) => a + r.readers, 0);
}

/** CPU use (% of one core) of the server and the workers over the measured window. */
async function sampleCpu(
  serverPid: number | undefined,
  workerPids: number[],
  startUs: number,
  durationMs: number,
): Promise<{ serverCpu: number; serverSys: number; generatorCpu: number }> {
  const sum = async (pids: number[]) => {
    const all = await Promise.all(pids.map(cpuSeconds));
    return { user: all.reduce((a, c) => a + c.user, 0), sys: all.reduce((a, c) => a + c.sys, 0) };
  };
  const pids = serverPid ? [serverPid] : [];
  await new Promise((r) => setTimeout(r, Math.max(0, (startUs - nowUs()) / 1000)));
  const t0 = performance.now();
  const [s0, g0] = await Promise.all([sum(pids), sum(workerPids)]);
  await new Promise((r) => setTimeout(r, durationMs));
  const [s1, g1] = await Promise.all([sum(pids), sum(workerPids)]);
  const secs = (performance.now() - t0) / 1000;
  const pct = (v: number) => Math.round((v / secs) * 100);
  return {
    serverCpu: pct(s1.user + s1.sys - s0.user - s0.sys),
    serverSys: pct(s1.sys - s0.sys),
    generatorCpu: pct(g1.user + g1.sys - g0.user - g0.sys),
  };
}

/** Runs `spec` end to end and merges the workers' reports. */
export async function driveTraffic(spec: TrafficSpec): Promise<TrafficResult> {
  const plans = planWorkers(spec);
  const pool = WorkerPool.spawn(plans.length);
  try {
    const t0 = performance.now();
    const setups = await pool.all((i) => ({ cmd: "setup", plan: plans[i] }), "setup", 120_000);
    const setupMs = performance.now() - t0;
    const settleMaxMs = spec.settleMaxMs ?? 30_000;
    const settles = await pool.all(
      () => ({ cmd: "settle", quietMs: spec.quietMs ?? 300, maxMs: settleMaxMs }),
      "settled",
      settleMaxMs + 10_000,
    );
    const drainMs = 3000;
    const startUs = nowUs() + 200_000;
    const cpu = sampleCpu(spec.serverPid, pool.pids, startUs, spec.durationMs);
    const reports = (await pool.all(
      () => ({
        cmd: "run",
        startUs,
        durationMs: spec.durationMs,
        drainMs,
        quietMs: spec.quietMs ?? 300,
      }),
      "report",
      spec.durationMs + drainMs + 30_000,
    )).map((e) => e.report);
    return merge(spec, reports, {
      ...(await cpu),
      connected: setups.reduce((a, s) => a + s.connected, 0),
      failed: setups.reduce((a, s) => a + s.failed, 0),
      setupMs,
      settled: settles.every((s) => s.quiet),
    });
  } finally {
    await pool.close();
  }
}

function merge(
  spec: TrafficSpec,
  reports: WorkerReport[],
  setup: Pick<
    TrafficResult,
    | "connected"
    | "failed"
    | "setupMs"
    | "settled"
    | "serverCpu"
    | "serverSys"
    | "generatorCpu"
  >,
): TrafficResult {
  const h = new Histogram();
  for (const r of reports) h.merge(r.latency);
  const sum = (f: (r: WorkerReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const seconds = Math.max(...reports.map((r) => r.elapsedMs)) / 1000;
  return {
    ...setup,
    sent: sum((r) => r.sent),
    deliveries: sum((r) => r.deliveries),
    deliveriesTotal: sum((r) => r.deliveriesTotal),
    linesPerRead: sum((r) => r.deliveriesTotal) / Math.max(1, sum((r) => r.reads)),
    expected: expectedDeliveries(spec, reports),
    deliveriesPerSec: sum((r) => r.deliveries) / seconds,
    sentPerSec: sum((r) => r.sent) / seconds,
    p50Ms: h.percentile(50) / 1000,
    p99Ms: h.percentile(99) / 1000,
    maxMs: h.max / 1000,
    closed: sum((r) => r.closed),
    stalls: sum((r) => r.stalls),
    slowClosed: sum((r) => r.slowClosed),
    leaked: sum((r) => r.leaked),
  };
}

/** Outcome of holding idle connections. */
export interface IdleResult {
  connected: number;
  failed: number;
  setupMs: number;
  settleMs: number;
  settled: boolean;
  /** Connections still open at the end of the hold. */
  held: number;
  closed: number;
}

/**
 * Opens `count` idle connections over `procs` workers (they read and discard the connect
 * announcements), waits for the announcements to settle, calls `onSettled`, holds them for `holdMs`, and counts how many are still open.
 */
export async function holdIdle(
  host: string,
  port: number,
  count: number,
  procs: number,
  holdMs: number,
  settleMaxMs: number,
  onSettled: () => void,
): Promise<IdleResult> {
  const plans = planWorkers({
    host,
    port,
    dialect: "text",
    listeners: count,
    senders: 0,
    pairs: 0,
    slow: 0,
    window: 1,
    rate: 0,
    payload: 0,
    durationMs: 0,
    procs,
  }).map((p) => ({ ...p, scan: false, readBuf: 4096, connectConcurrency: 128 }));
  const pool = WorkerPool.spawn(plans.length);
  try {
    const t0 = performance.now();
    // One worker after the other: each worker's file limit is its own, the port range shared.
    const setups = await pool.each((i) => ({ cmd: "setup", plan: plans[i] }), "setup", 300_000);
    const setupMs = performance.now() - t0;
    const t1 = performance.now();
    const settles = await pool.all(
      () => ({ cmd: "settle", quietMs: 500, maxMs: settleMaxMs }),
      "settled",
      settleMaxMs + 10_000,
    );
    const settleMs = performance.now() - t1;
    onSettled();
    const held = await pool.all(() => ({ cmd: "hold", ms: holdMs }), "held", holdMs + 30_000);
    return {
      connected: setups.reduce((a, s) => a + s.connected, 0),
      failed: setups.reduce((a, s) => a + s.failed, 0),
      setupMs,
      settleMs,
      settled: settles.every((s) => s.quiet),
      held: held.reduce((a, h) => a + h.open, 0),
      closed: held.reduce((a, h) => a + h.closed, 0),
    };
  } finally {
    await pool.close();
  }
}

/** Outcome of a connect storm. */
export interface StormResult {
  connected: number;
  failed: number;
  /** From the first connect to the last one's completion, seen by the generator (ms). */
  connectMs: number;
  /**
   * From the first connect until a `who` sent after the last connect listed every storm
   * connection and the probe itself (ms); -1 when that did not happen within the limit.
   */
  whoMs: number;
  /** From the first connect until the announcements stopped flowing (ms). */
  settleMs: number;
  settled: boolean;
  /** Server CPU seconds until the `who` listed everyone, and until the announcements drained. */
  whoCpuS: number;
  settleCpuS: number;
  /** Storm connections still open after the announcements drained. */
  open: number;
  /** Lines the storm's connections received (all announcements, each connection's own included). */
  lines: number;
  /**
   * Lines they must receive when none is lost: the k-th of n to join hears n - k + 1, and the
   * probe's arrival if it joined before the probe.
   */
  expectedLines: number;
}

const WHO_LINE = /^\[([^\]]*)\],(?! )/;

/**
 * Opens one more connection and sends `who` (again every 200 ms) until one reply lists at least
 * `want` users; resolves with the time that took from `t0`, or -1 after `maxMs`. A reply is a
 * run of `[ADDR],NAME:online` lines (presence lines have a space after the comma); an address
 * seen twice starts the next reply.
 */
async function whoLists(
  host: string,
  port: number,
  want: number,
  t0: number,
  maxMs: number,
): Promise<{ ms: number; conn: Deno.Conn; joinedBefore: number }> {
  const conn = await Deno.connect({ hostname: host, port });
  const me = `${conn.localAddr.hostname}:${conn.localAddr.port}`;
  /** How many of the listed joined before the probe; -1 until a reply lists everyone. */
  let joinedBefore = -1;
  const who = new TextEncoder().encode("who\n");
  const decoder = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let done = false;
  let lastReadMs = 0;
  let replyLines = 0;
  // One `who` at a time: the next once the last reply's lines have stopped arriving (100 ms of
  // silence after at least one), so replies of 10,000 lines never pile up past the server's
  // per-connection queue limit.
  const asker = (async () => {
    while (!done) {
      await conn.write(who).catch(() => {});
      replyLines = 0;
      while (!done && (replyLines === 0 || performance.now() - lastReadMs < 100)) {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  let run = new Set<string>();
  let partial = "";
  const deadline = performance.now() + maxMs;
  let ms = -1;
  const timer = setTimeout(() => closeConnQuietly(conn), maxMs);
  try {
    while (ms < 0 && performance.now() < deadline) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      lastReadMs = performance.now();
      const lines = (partial + decoder.decode(buf.subarray(0, n), { stream: true })).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const m = WHO_LINE.exec(line);
        if (!m) {
          if (!line.startsWith("[")) continue;
          run = new Set();
          continue;
        }
        if (run.has(m[1])) run = new Set();
        run.add(m[1]);
        replyLines++;
        if (run.size >= want) {
          ms = performance.now() - t0;
          // The reply is in join order: those before the probe heard it arrive, the rest did not.
          joinedBefore = [...run].indexOf(me);
          break;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    done = true;
    await asker;
  }
  return { ms, conn, joinedBefore };
}

function closeConnQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

/**
 * The connect storm: `count` connections opened at once over `procs` workers (all in flight
 * together), then a probe's `who` must list them all; then the connect announcements (n²/2
 * lines) drain, and every storm connection's lines are counted, so a lost one shows.
 */
export async function connectStorm(
  host: string,
  port: number,
  count: number,
  procs: number,
  whoMaxMs: number,
  settleMaxMs: number,
  serverPid?: number,
): Promise<StormResult> {
  const cpu = async () => {
    const c = serverPid ? await cpuSeconds(serverPid) : { user: 0, sys: 0 };
    return c.user + c.sys;
  };
  const plans = planWorkers({
    host,
    port,
    dialect: "text",
    listeners: count,
    senders: 0,
    pairs: 0,
    slow: 0,
    window: 1,
    rate: 0,
    payload: 0,
    durationMs: 0,
    procs,
  }).map((p) => ({
    ...p,
    scan: false,
    readBuf: 16 * 1024,
    connectConcurrency: Math.max(1, p.listeners),
  }));
  const pool = WorkerPool.spawn(plans.length);
  try {
    // The workers' processes start before the clock: the storm is the connects, not Deno's start.
    await pool.all(() => ({ cmd: "hold", ms: 0 }), "held", 30_000);
    const cpu0 = await cpu();
    const t0 = performance.now();
    const setups = await pool.all((i) => ({ cmd: "setup", plan: plans[i] }), "setup", 300_000);
    const connectMs = performance.now() - t0;
    const connected = setups.reduce((a, s) => a + s.connected, 0);
    const probe = await whoLists(host, port, connected + 1, t0, whoMaxMs);
    const whoCpu = await cpu() - cpu0;
    try {
      const settles = await pool.all(
        () => ({ cmd: "settle", quietMs: 500, maxMs: settleMaxMs }),
        "settled",
        settleMaxMs + 10_000,
      );
      const settleMs = performance.now() - t0 - 500;
      const settleCpu = await cpu() - cpu0;
      let held = await pool.all(() => ({ cmd: "hold", ms: 0 }), "held", 30_000);
      // Each storm connection hears its own arrival and every later one's (n(n+1)/2 in all),
      // and the probe's only if it joined before the probe: the kernel completes connects the
      // server has not accepted yet, so the probe may be accepted ahead of some of them.
      const expectedLines = connected * (connected + 1) / 2 +
        (probe.joinedBefore >= 0 ? probe.joinedBefore : connected);
      if (held.reduce((a, h) => a + h.lines, 0) < expectedLines) {
        // A pause of the quiet period is not a loss: look again once more, 3 s on.
        held = await pool.all(() => ({ cmd: "hold", ms: 3000 }), "held", 30_000);
      }
      return {
        connected,
        failed: setups.reduce((a, s) => a + s.failed, 0),
        connectMs,
        whoMs: probe.ms,
        settleMs,
        settled: settles.every((s) => s.quiet),
        lines: held.reduce((a, h) => a + h.lines, 0),
        open: held.reduce((a, h) => a + h.open, 0),
        whoCpuS: whoCpu,
        settleCpuS: settleCpu,
        expectedLines,
      };
    } finally {
      closeConnQuietly(probe.conn);
    }
  } finally {
    await pool.close();
  }
}
