/**
 * The benchmark runner (`deno task bench`): starts FastIM's server (and the Go original, when
 * `go` is installed) on ephemeral ports of 127.0.0.1, runs the chosen scenarios with the
 * load generator in `load/`, and prints Markdown tables of the figures (medians over
 * `--runs`). `--quick` is a smoke run of a few seconds; `--help` lists the flags.
 *
 * @module
 */

import { type BenchOptions, parseOptions } from "./options.ts";
import {
  fanoutScenario,
  idleScenario,
  latencyScenario,
  persistScenario,
  privateScenario,
  rateScenario,
  roomScenarios,
  type Row,
  slowScenario,
  startupScenario,
  stormScenario,
  type Target,
} from "./scenarios.ts";
import { benchFlags, buildGo, fastimHelp, fastimSpec, goMinimalSpec, goSpec } from "./servers.ts";
import { readProc } from "./proc.ts";
import { clusterScenario } from "./cluster.ts";
import { historyScenario } from "./history.ts";
import { foldRuns, renderTables } from "./table.ts";

/** The machine and tool versions, for the report header. */
async function machine(): Promise<string> {
  const cpu = /model name\s*:\s*(.+)/.exec(await readProc("/proc/cpuinfo"));
  const mem = Deno.systemMemoryInfo();
  let go = "not installed";
  try {
    const out = await new Deno.Command("go", { args: ["version"], stdout: "piped" }).output();
    go = new TextDecoder().decode(out.stdout).trim();
  } catch { /* no go */ }
  return [
    `cpus: ${navigator.hardwareConcurrency} (${cpu?.[1] ?? "unknown model"})`,
    `memory: ${(mem.total / 2 ** 30).toFixed(1)} GiB`,
    `deno: ${Deno.version.deno} (v8 ${Deno.version.v8})`,
    `go: ${go}`,
  ].join("\n");
}

/** Temp dirs to remove when the run ends. */
const tempDirs: string[] = [];

/** The servers and dialects to run each scenario against. */
async function targets(opts: BenchOptions): Promise<Target[]> {
  const out: Target[] = [];
  if (opts.servers.includes("fastim")) {
    const prof = opts.profileDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.profileDir}`] : [];
    const spec = fastimSpec([...benchFlags(await fastimHelp()), ...opts.fastimArgs], [
      ...opts.denoFlags,
      ...prof,
    ]);
    for (const dialect of opts.dialects) out.push({ spec, dialect });
  }
  if (opts.servers.includes("go")) {
    const { binary, dir, reason } = await buildGo("original");
    if (dir) tempDirs.push(dir);
    if (binary) out.push({ spec: goSpec(binary), dialect: "text" });
    else console.log(`Go original skipped: ${reason} (install golang-go to compare)`);
  }
  if (opts.servers.includes("go-minimal")) {
    const { binary, dir, reason } = await buildGo("minimal");
    if (dir) tempDirs.push(dir);
    if (binary) out.push({ spec: goMinimalSpec(binary), dialect: "text" });
    else console.log(`minimal Go server skipped: ${reason} (install golang-go to compare)`);
  }
  return out;
}

async function runScenarios(opts: BenchOptions, targets: Target[]): Promise<Row[]> {
  const rows: Row[] = [];
  // The minimal Go server only broadcasts: it is the floor of the fan-out scenarios alone.
  const all = targets.filter((t) => t.spec.label !== "go-minimal");
  const broadcasters = targets;
  // Scenarios independent of the dialect run once per server.
  const perServer = all.filter((t, i) => all.findIndex((u) => u.spec === t.spec) === i);
  const record = (row: Row) => {
    rows.push(row);
    const figs = Object.entries(row.figures).map(([k, v]) => `${k} ${v}`).join(", ");
    console.error(
      `  ${row.scenario} ${row.server}/${row.dialect}: ${figs} ${row.notes.join("; ")}`,
    );
  };
  for (const scenario of opts.scenarios) {
    for (let run = 0; run < opts.runs; run++) {
      switch (scenario) {
        case "startup":
          for (const t of perServer) record(await startupScenario(opts, t));
          break;
        case "fanout":
          for (const n of opts.listeners) {
            for (const t of broadcasters) record(await fanoutScenario(opts, t, n));
          }
          break;
        case "rate":
          for (const t of broadcasters) record(await rateScenario(opts, t));
          break;
        case "private":
          for (const t of all) record(await privateScenario(opts, t));
          break;
        case "latency":
          for (const t of all) record(await latencyScenario(opts, t));
          break;
        case "idle":
          for (const t of perServer) record(await idleScenario(opts, t));
          break;
        case "storm":
          for (const t of perServer) record(await stormScenario(opts, t));
          break;
        case "slow":
          // Its never-reading sockets are raw TCP: not a WebSocket scenario.
          for (const t of all.filter((t) => t.dialect !== "ws")) {
            record(await slowScenario(opts, t));
          }
          break;
        case "room":
          // The Go original has no rooms.
          for (const t of all.filter((t) => t.spec.label === "fastim" && t.dialect !== "ws")) {
            for (const row of await roomScenarios(opts, t)) record(row);
          }
          break;
        case "cluster":
          if (opts.servers.includes("fastim")) {
            for (const row of await clusterScenario(opts)) record(row);
          }
          break;
        case "history":
          if (run === 0 && opts.servers.includes("fastim")) {
            for (const row of await historyScenario(opts)) record(row);
          }
          break;
        case "persist": {
          if (run > 0) break;
          const hasDb = (await fastimHelp()).includes("--db ");
          for (const t of all.filter((t) => t.spec.label === "fastim")) {
            record(await persistScenario(opts, t, hasDb));
          }
          break;
        }
      }
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const opts = parseOptions(Deno.args);
  const started = performance.now();
  console.log(await machine());
  console.log(`command: deno task bench ${Deno.args.join(" ")}`.trim());
  const all = await targets(opts);
  const rows = foldRuns(await runScenarios(opts, all));
  console.log("");
  console.log(renderTables(rows));
  console.log(`finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (opts.out) await Deno.writeTextFile(opts.out, JSON.stringify({ opts, rows }, null, 2) + "\n");
}

if (import.meta.main) {
  let code = 0;
  try {
    await main();
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : err}`);
    code = 1;
  }
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  Deno.exit(code);
}
