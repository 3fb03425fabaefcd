/**
 * The benchmark scenarios. Each starts a fresh server under test (so its memory and state
 * belong to this run alone), drives one traffic pattern, stops the server, and returns one
 * row of figures.
 *
 * @module
 */

import {
  connectStorm,
  driveTraffic,
  holdIdle,
  type TrafficResult,
  type TrafficSpec,
} from "./load/drive.ts";
import type { Dialect } from "./load/plan.ts";
import type { BenchOptions } from "./options.ts";
import { rssBytes } from "./proc.ts";
import { type RunningServer, type ServerSpec, startServer, withFlag } from "./servers.ts";

/** One result line: named figures plus free-form notes. */
export interface Row {
  scenario: string;
  server: string;
  dialect: string;
  figures: Record<string, number>;
  notes: string[];
}

/** A server under test and the dialect to drive it with. */
export interface Target {
  spec: ServerSpec;
  dialect: Dialect;
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

async function withServer<T>(spec: ServerSpec, f: (s: RunningServer) => Promise<T>): Promise<T> {
  const server = await startServer(spec);
  try {
    return await f(server);
  } finally {
    await server.stop();
  }
}

function trafficFigures(r: TrafficResult): Record<string, number> {
  return {
    "deliveries/s": Math.round(r.deliveriesPerSec),
    "msgs/s": Math.round(r.sentPerSec),
    "p50 ms": round(r.p50Ms),
    "p99 ms": round(r.p99Ms),
    "max ms": round(r.maxMs),
    "lost": r.expected - r.deliveriesTotal,
    "lines/read": round(r.linesPerRead, 1),
    "server CPU %": r.serverCpu,
    // CPU time per message sent: what a message costs the server, whoever it reaches.
    "server µs/msg": r.sentPerSec > 0 ? Math.round((r.serverCpu / 100) * 1e6 / r.sentPerSec) : 0,
    "server sys %": r.serverSys,
    "gen CPU %": r.generatorCpu,
  };
}

function trafficNotes(r: TrafficResult): string[] {
  const notes: string[] = [];
  if (r.failed) notes.push(`${r.failed} connects failed`);
  if (!r.settled) notes.push("connect announcements still flowing at start");
  if (r.closed) notes.push(`${r.closed} readers closed by the server`);
  if (r.stalls) notes.push(`${r.stalls} window stalls`);
  if (r.leaked) notes.push(`${r.leaked} room messages reached lobby-only connections`);
  return notes;
}

/** Time from spawn to `listening on`, over `opts.startups` starts. */
export async function startupScenario(opts: BenchOptions, t: Target): Promise<Row> {
  const times: number[] = [];
  for (let i = 0; i < opts.startups; i++) {
    times.push(await withServer(t.spec, (s) => Promise.resolve(s.readyMs)));
  }
  times.sort((a, b) => a - b);
  return {
    scenario: "startup",
    server: t.spec.label,
    dialect: "-",
    figures: {
      "ready ms (median)": round(times[Math.floor(times.length / 2)], 1),
      "min ms": round(times[0], 1),
      "max ms": round(times[times.length - 1], 1),
    },
    notes: [`${times.length} starts`],
  };
}

/** The traffic pattern of one scenario: who sends what to whom. */
type Pattern =
  & Pick<
    TrafficSpec,
    "listeners" | "senders" | "pairs" | "slow" | "rate" | "payload" | "room" | "bystanders"
  >
  & { window?: number };

/**
 * Runs one traffic pattern against a fresh server and makes its row; what every traffic
 * scenario shares (the server, the window, the duration, the generator processes) is set here.
 */
function trafficScenario(
  opts: BenchOptions,
  t: Target,
  scenario: string,
  pattern: Pattern,
  extra: (r: TrafficResult) => Record<string, number> = () => ({}),
): Promise<Row> {
  return withServer(t.spec, async (s) => {
    const r = await driveTraffic({
      host: "127.0.0.1",
      port: t.dialect === "ws" ? s.httpPort! : s.port,
      dialect: t.dialect,
      window: opts.window,
      ...pattern,
      durationMs: opts.durationMs,
      procs: opts.procs,
      quietMs: opts.quick ? 200 : 300,
      serverPid: s.pid,
    });
    return {
      scenario,
      server: t.spec.label,
      dialect: t.dialect,
      figures: { ...trafficFigures(r), ...extra(r) },
      notes: trafficNotes(r),
    };
  });
}

/** `listeners` readers, `opts.senders` senders as fast as their windows allow. */
export function fanoutScenario(opts: BenchOptions, t: Target, listeners: number): Promise<Row> {
  return trafficScenario(opts, t, `fanout ${listeners}`, {
    listeners,
    senders: opts.senders,
    pairs: 0,
    slow: 0,
    rate: 0,
    payload: 0,
  });
}

/**
 * Room fan-out, three rows: lobby fan-out to `members` readers; the same in a room of `members`
 * with nobody else connected; and the same room while `opts.roomBystanders` more connections sit
 * only in the lobby. Deliveries/s and server µs/msg of the last two should match (a room message
 * costs nothing per non-member), and its `leaked` must be 0.
 */
export async function roomScenarios(opts: BenchOptions, t: Target): Promise<Row[]> {
  const n = opts.roomMembers;
  const base = { listeners: n, senders: opts.senders, pairs: 0, slow: 0, rate: 0, payload: 0 };
  const lobby = await trafficScenario(opts, t, `room: lobby fanout ${n}`, base);
  const alone = await trafficScenario(opts, t, `room: #bench of ${n}, nobody else`, {
    ...base,
    room: "#bench",
  });
  const crowd = await trafficScenario(
    opts,
    t,
    `room: #bench of ${n} + ${opts.roomBystanders} in lobby`,
    { ...base, room: "#bench", bystanders: opts.roomBystanders },
    (r) => ({ leaked: r.leaked }),
  );
  return [lobby, alone, crowd];
}

/** `opts.rate` messages per second in all to `opts.rateListeners` readers. */
export function rateScenario(opts: BenchOptions, t: Target): Promise<Row> {
  return trafficScenario(opts, t, `rate ${opts.rate}/s to ${opts.rateListeners}`, {
    listeners: opts.rateListeners,
    senders: opts.senders,
    pairs: 0,
    slow: 0,
    rate: opts.rate,
    payload: 0,
  });
}

/** `opts.pairs` pairs messaging each other privately as fast as their windows allow. */
export function privateScenario(opts: BenchOptions, t: Target): Promise<Row> {
  return trafficScenario(opts, t, `private ${opts.pairs} pairs`, {
    listeners: 0,
    senders: 0,
    pairs: opts.pairs,
    slow: 0,
    rate: 0,
    payload: 0,
  });
}

/**
 * Latency-bound private messages: `opts.latencyPairs` pairs, each side with one message in
 * flight (it sends the next when its peer got the last), so the figure is the path of one
 * message through the server, not its throughput.
 */
export function latencyScenario(opts: BenchOptions, t: Target): Promise<Row> {
  return trafficScenario(opts, t, `private ${opts.latencyPairs} pairs, 1 in flight`, {
    listeners: 0,
    senders: 0,
    pairs: opts.latencyPairs,
    slow: 0,
    rate: 0,
    payload: 0,
    window: 1,
  });
}

/** One connection that never reads while `opts.slowOthers` clients chat (256-byte texts). */
export function slowScenario(opts: BenchOptions, t: Target): Promise<Row> {
  return trafficScenario(
    opts,
    t,
    `slow consumer + ${opts.slowOthers}`,
    { listeners: opts.slowOthers, senders: opts.senders, pairs: 0, slow: 1, rate: 0, payload: 256 },
    (r) => ({ "slow closed": r.slowClosed }),
  );
}

/** `opts.idle` connections held for `opts.holdMs`; server RSS before and after. */
export function idleScenario(opts: BenchOptions, t: Target): Promise<Row> {
  return withServer(t.spec, async (s) => {
    const before = await rssBytes(s.pid);
    let settled: Promise<number> = Promise.resolve(0);
    // The high-water mark: the figure after the hold depends on whether V8's memory reducer
    // has run yet (about 8 s after the last full GC of the storm), the peak does not.
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      for (let i = 0; sampling && i < 3600; i++) {
        peak = Math.max(peak, await rssBytes(s.pid));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    // 8,000 connections per worker keeps each well under the 20,000 open-file limit.
    const procs = Math.max(opts.procs, Math.ceil(opts.idle / 8000));
    let r;
    try {
      r = await holdIdle(
        "127.0.0.1",
        s.port,
        opts.idle,
        procs,
        opts.holdMs,
        opts.quick ? 5000 : 120_000,
        () => settled = rssBytes(s.pid),
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const after = await rssBytes(s.pid);
    const atSettle = await settled;
    const notes = [`settled in ${round(r.settleMs / 1000, 1)} s`];
    if (!r.settled) notes.push("announcements still flowing when the hold began");
    if (r.failed) notes.push(`${r.failed} connects failed`);
    return {
      scenario: `idle ${opts.idle}`,
      server: t.spec.label,
      dialect: "text",
      figures: {
        held: r.held,
        "connect s": round(r.setupMs / 1000, 1),
        "RSS before MB": round(before / 2 ** 20, 1),
        "RSS held MB": round(after / 2 ** 20, 1),
        "KB/conn": r.held ? round((after - before) / r.held / 1024, 2) : 0,
        "KB/conn settled": r.held ? round((atSettle - before) / r.held / 1024, 2) : 0,
        "RSS peak MB": round(Math.max(peak, after) / 2 ** 20, 1),
      },
      notes,
    };
  });
}

/**
 * Scenario 6, persistence on: the first fan-out size with `--db FILE` (a fresh SQLite file in
 * a temp dir) instead of the `--db :memory:` every other run uses. Skipped with a note while
 * `server.ts --help` lists no `--db`.
 */
export async function persistScenario(
  opts: BenchOptions,
  t: Target,
  hasDb: boolean,
): Promise<Row> {
  if (!hasDb) {
    return {
      scenario: "persistence",
      server: t.spec.label,
      dialect: t.dialect,
      figures: {},
      notes: ["skipped: server.ts --help lists no --db flag yet (the store does not exist)"],
    };
  }
  const dir = await Deno.makeTempDir({ prefix: "fastim-bench-db-" });
  try {
    const spec = withFlag(t.spec, "--db", `${dir}/bench.db`);
    const row = await fanoutScenario(opts, { spec, dialect: t.dialect }, opts.listeners[0] ?? 100);
    return { ...row, scenario: `${row.scenario}, --db file` };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * `opts.storm` connections at once (issue #17: every one accepted and answering `who` within
 * 3 s); then the n²/2 connect announcements drain, and none may be lost.
 */
export function stormScenario(opts: BenchOptions, t: Target): Promise<Row> {
  return withServer(t.spec, async (s) => {
    // 8,000 connections per worker keeps each well under the 20,000 open-file limit.
    const procs = Math.max(opts.procs, Math.ceil(opts.storm / 8000));
    const r = await connectStorm(
      "127.0.0.1",
      s.port,
      opts.storm,
      procs,
      60_000,
      120_000,
      s.pid,
    );
    const notes: string[] = [];
    if (r.whoMs < 0) notes.push("no who listed every connection within 60 s");
    if (!r.settled) notes.push("announcements still flowing after 120 s");
    if (r.failed) notes.push(`${r.failed} connects failed`);
    return {
      scenario: `connect storm ${opts.storm}`,
      server: t.spec.label,
      dialect: "text",
      figures: {
        connected: r.connected,
        "connect s": round(r.connectMs / 1000, 2),
        "all in who s": round(r.whoMs / 1000, 2),
        "announced s": round(r.settleMs / 1000, 1),
        "server CPU s to who": round(r.whoCpuS, 2),
        "server CPU s in all": round(r.settleCpuS, 2),
        "lines lost": r.expectedLines - r.lines,
        "closed": r.connected - r.open,
      },
      notes,
    };
  });
}
