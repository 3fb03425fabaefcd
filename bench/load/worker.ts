/**
 * Entry point of one load-generator worker process. The runner spawns it with
 * `deno run --allow-net bench/load/worker.ts`, sends `WorkerCommand`s as JSON lines on stdin
 * and reads `WorkerEvent`s as JSON lines from stdout. The worker exits on `exit`, when stdin
 * closes, or after a hard time limit, whichever comes first.
 *
 * @module
 */

import { Traffic } from "./traffic.ts";
import type { WorkerCommand, WorkerEvent } from "./plan.ts";

/** A worker never outlives this, whatever its parent does. */
const HARD_LIMIT_MS = 15 * 60 * 1000;

function emit(event: WorkerEvent): void {
  console.log(JSON.stringify(event));
}

async function handle(cmd: WorkerCommand, state: { traffic?: Traffic }): Promise<boolean> {
  switch (cmd.cmd) {
    case "setup": {
      const start = performance.now();
      state.traffic = new Traffic(cmd.plan);
      const { connected, failed } = await state.traffic.setup();
      emit({ event: "setup", connected, failed, ms: performance.now() - start });
      return true;
    }
    case "settle": {
      const start = performance.now();
      const quiet = await state.traffic!.settle(cmd.quietMs, cmd.maxMs);
      emit({ event: "settled", ms: performance.now() - start, quiet });
      return true;
    }
    case "run": {
      const report = await state.traffic!.run(
        cmd.startUs,
        cmd.durationMs,
        cmd.drainMs,
        cmd.quietMs,
      );
      emit({ event: "report", report });
      return true;
    }
    case "hold": {
      // Before setup: an answer that the worker is up (the connect storm waits for that).
      const { open, closed, lines } = state.traffic
        ? await state.traffic.hold(cmd.ms)
        : { open: 0, closed: 0, lines: 0 };
      emit({ event: "held", open, closed, lines });
      return true;
    }
    case "exit":
      return false;
  }
}

async function main(): Promise<void> {
  const hardStop = setTimeout(() => Deno.exit(3), HARD_LIMIT_MS);
  const state: { traffic?: Traffic } = {};
  const decoder = new TextDecoder();
  let pending = "";
  let running = true;
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while (running && (nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        running = await handle(JSON.parse(line) as WorkerCommand, state);
      } catch (err) {
        emit({ event: "error", message: err instanceof Error ? err.message : String(err) });
      }
    }
    if (!running) break;
  }
  state.traffic?.closeAll();
  clearTimeout(hardStop);
  Deno.exit(0);
}

if (import.meta.main) main();
