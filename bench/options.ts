/**
 * The benchmark runner's flags, parsed once into a typed `BenchOptions`. `--quick` swaps in
 * small defaults (a few seconds in all) for smoke runs; explicit flags still win.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Every scenario the runner knows, in the order it runs them. */
export const SCENARIOS = [
  "startup",
  "fanout",
  "rate",
  "private",
  "latency",
  "idle",
  "storm",
  "slow",
  "persist",
  "room",
  "cluster",
  "history",
] as const;
export type Scenario = typeof SCENARIOS[number];

/** Parsed runner options. */
export interface BenchOptions {
  quick: boolean;
  scenarios: Scenario[];
  /** Servers to compare: "fastim" and/or "go". */
  servers: string[];
  /** Dialects FastIM is driven with (the Go original speaks text only). */
  dialects: ("text" | "json" | "ws")[];
  durationMs: number;
  /** Fan-out listener counts, one run each. */
  listeners: number[];
  senders: number;
  window: number;
  rateListeners: number;
  rate: number;
  pairs: number;
  /** Pairs of the latency-bound private scenario (one message in flight per side). */
  latencyPairs: number;
  idle: number;
  /** Connections of the connect storm. */
  storm: number;
  holdMs: number;
  slowOthers: number;
  /** Members of the room scenario's room (the senders among them). */
  roomMembers: number;
  /** Lobby-only connections beside the room. */
  roomBystanders: number;
  /** Load generator worker processes. */
  procs: number;
  /** Runs per figure; the table shows medians. */
  runs: number;
  startups: number;
  /** Extra flags for FastIM's server (e.g. `--workers 2`). */
  fastimArgs: string[];
  /** Extra flags for `deno run` of FastIM's server (e.g. `--v8-flags=--max-semi-space-size=8`). */
  denoFlags: string[];
  /** Directory for a CPU profile of FastIM (`--cpu-prof`), or "" for none. */
  profileDir: string;
  /** File to write the results as JSON, or "". */
  out: string;
}

const HELP = `deno task bench [flags]

  --quick              smoke run: tiny counts, 0.5 s of traffic per scenario
  --scenarios LIST     comma list of ${SCENARIOS.join(",")} (default all)
  --servers LIST       fastim,go,go-minimal (default all; the Go ones are skipped when go is
                       not installed; go-minimal runs in the fanout and rate scenarios only)
  --dialects LIST      text,json,ws for FastIM (default text,json; ws = JSON over /ws)
  --duration MS        traffic time per run (default 10000)
  --listeners LIST     fan-out listener counts (default 100,1000)
  --senders N          fan-out senders (default 10)
  --window N           unacknowledged messages per sender (default 16)
  --rate-listeners N   listeners of the fixed-rate run (default 1000)
  --rate N             messages per second of the fixed-rate run (default 200)
  --pairs N            private-message pairs (default 500)
  --latency-pairs N    pairs of the latency scenario, one message in flight each (default 50)
  --idle N             idle connections held (default 10000)
  --storm N            connections opened at once by the connect storm (default 10000)
  --hold MS            how long idle connections are held (default 10000)
  --slow-others N      chatting clients beside the slow consumer (default 100)
  --room-members N     readers in the room scenario's room (default 1000)
  --room-bystanders N  lobby-only connections beside that room (default 1000)
  --procs N            load generator processes (default 1)
  --runs N             runs per figure, table shows medians (default 1)
  --startups N         server starts timed for the startup figure (default 5)
  --fastim-args STR    extra flags for FastIM's server, space separated
  --deno-flags=STR     extra flags for \`deno run\` of FastIM's server, space separated
  --profile DIR        write a CPU profile of FastIM's server under DIR
  --out FILE           also write the results as JSON to FILE
`;

function numList(s: string): number[] {
  return s.split(",").filter(Boolean).map(Number);
}

/** Parses `args`; prints help and exits on `--help`; throws on bad values. */
export function parseOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      scenarios: { type: "string" },
      servers: { type: "string" },
      dialects: { type: "string" },
      duration: { type: "string" },
      listeners: { type: "string" },
      senders: { type: "string" },
      window: { type: "string" },
      "rate-listeners": { type: "string" },
      rate: { type: "string" },
      pairs: { type: "string" },
      "latency-pairs": { type: "string" },
      idle: { type: "string" },
      storm: { type: "string" },
      hold: { type: "string" },
      "slow-others": { type: "string" },
      "room-members": { type: "string" },
      "room-bystanders": { type: "string" },
      procs: { type: "string" },
      runs: { type: "string" },
      startups: { type: "string" },
      "fastim-args": { type: "string" },
      "deno-flags": { type: "string" },
      profile: { type: "string" },
      out: { type: "string" },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const q = values.quick;
  const scenarios = (values.scenarios ?? SCENARIOS.join(",")).split(",").filter(Boolean);
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) {
      throw new Error(`unknown scenario "${s}": use ${SCENARIOS.join(", ")}`);
    }
  }
  const dialects = (values.dialects ?? "text,json").split(",").filter(Boolean);
  for (const d of dialects) {
    if (d !== "text" && d !== "json" && d !== "ws") {
      throw new Error(`unknown dialect "${d}": use text, json or ws`);
    }
  }
  const servers = (values.servers ?? "fastim,go,go-minimal").split(",").filter(Boolean);
  for (const s of servers) {
    if (s !== "fastim" && s !== "go" && s !== "go-minimal") {
      throw new Error(`unknown server "${s}": use fastim, go or go-minimal`);
    }
  }
  const opts: BenchOptions = {
    quick: q,
    scenarios: scenarios as Scenario[],
    servers,
    dialects: dialects as ("text" | "json" | "ws")[],
    durationMs: Number(values.duration ?? (q ? 500 : 10_000)),
    listeners: numList(values.listeners ?? (q ? "20" : "100,1000")),
    senders: Number(values.senders ?? (q ? 3 : 10)),
    window: Number(values.window ?? 16),
    rateListeners: Number(values["rate-listeners"] ?? (q ? 20 : 1000)),
    rate: Number(values.rate ?? (q ? 50 : 200)),
    pairs: Number(values.pairs ?? (q ? 10 : 500)),
    latencyPairs: Number(values["latency-pairs"] ?? (q ? 5 : 50)),
    idle: Number(values.idle ?? (q ? 100 : 10_000)),
    storm: Number(values.storm ?? (q ? 200 : 10_000)),
    holdMs: Number(values.hold ?? (q ? 500 : 10_000)),
    slowOthers: Number(values["slow-others"] ?? (q ? 10 : 100)),
    roomMembers: Number(values["room-members"] ?? (q ? 20 : 1000)),
    roomBystanders: Number(values["room-bystanders"] ?? (q ? 20 : 1000)),
    procs: Number(values.procs ?? 1),
    runs: Number(values.runs ?? 1),
    startups: Number(values.startups ?? (q ? 2 : 5)),
    fastimArgs: (values["fastim-args"] ?? "").split(" ").filter(Boolean),
    denoFlags: (values["deno-flags"] ?? "").split(" ").filter(Boolean),
    profileDir: values.profile ?? "",
    out: values.out ?? "",
  };
  for (const [k, v] of Object.entries(opts)) {
    if (typeof v === "number" && !(Number.isFinite(v) && v >= 0)) {
      throw new Error(`--${k} must be a non-negative number, got ${v}`);
    }
  }
  return opts;
}
