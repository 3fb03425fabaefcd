/**
 * The runner's side of the load generator: spawns worker processes (`deno run` of
 * `worker.ts`), sends each its command, waits for the matching answers, and kills by PID
 * only the workers it spawned if they fail to exit.
 *
 * @example
 * ```ts
 * const pool = WorkerPool.spawn(2);
 * await pool.all((i) => ({ cmd: "setup", plan: plans[i] }), "setup");
 * await pool.close();
 * ```
 *
 * @module
 */

import type { WorkerCommand, WorkerEvent } from "./plan.ts";
import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";

const WORKER_URL = new URL("./worker.ts", import.meta.url);
const encoder = new TextEncoder();

/** One spawned worker process and its line reader. */
class WorkerProc {
  readonly child: Deno.ChildProcess;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private lines: AsyncIterator<string>;
  stderrTail = "";

  constructor() {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", WORKER_URL.href],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.writer = this.child.stdin.getWriter();
    this.lines = readLines(this.child.stdout)[Symbol.asyncIterator]();
    this.drainStderr();
  }

  private async drainStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.child.stderr) {
      this.stderrTail = (this.stderrTail + decoder.decode(chunk)).slice(-2000);
    }
  }

  async send(cmd: WorkerCommand): Promise<void> {
    await this.writer.write(encoder.encode(JSON.stringify(cmd) + "\n"));
  }

  /** The next event of the expected kind; errors and early exits throw. */
  async expect<K extends WorkerEvent["event"]>(
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<WorkerEvent, { event: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const next = await within(this.lines.next(), deadline - Date.now());
      if (next === TIMED_OUT) {
        throw new Error(`worker ${this.child.pid}: no "${kind}" within ${timeoutMs} ms`);
      }
      if (next.done) {
        throw new Error(`worker ${this.child.pid} exited: ${this.stderrTail.trim()}`);
      }
      const ev = JSON.parse(next.value) as WorkerEvent;
      if (ev.event === "error") throw new Error(`worker ${this.child.pid}: ${ev.message}`);
      if (ev.event === kind) return ev as Extract<WorkerEvent, { event: K }>;
    }
  }

  async close(): Promise<void> {
    try {
      await this.send({ cmd: "exit" });
      await this.writer.close();
    } catch { /* already gone */ }
    if (await within(this.child.status, 5000) === TIMED_OUT) {
      try {
        Deno.kill(this.child.pid, "SIGKILL");
      } catch { /* already gone */ }
      await this.child.status;
    }
  }
}

/** Splits a byte stream into text lines. */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
  if (pending) yield pending;
}

/** A set of worker processes driven in lock step. */
export class WorkerPool {
  private constructor(readonly procs: WorkerProc[]) {}

  /** Spawns `n` workers. */
  static spawn(n: number): WorkerPool {
    return new WorkerPool(Array.from({ length: n }, () => new WorkerProc()));
  }

  get size(): number {
    return this.procs.length;
  }

  /** The worker processes' PIDs. */
  get pids(): number[] {
    return this.procs.map((p) => p.child.pid);
  }

  /** Sends `make(i)` to worker i, for each worker, and collects their `kind` answers. */
  all<K extends WorkerEvent["event"]>(
    make: (i: number) => WorkerCommand,
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<WorkerEvent, { event: K }>[]> {
    return Promise.all(this.procs.map(async (p, i) => {
      await p.send(make(i));
      return await p.expect(kind, timeoutMs);
    }));
  }

  /** Sends `make(i)` to one worker after the other (connect storms stay ordered). */
  async each<K extends WorkerEvent["event"]>(
    make: (i: number) => WorkerCommand,
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<WorkerEvent, { event: K }>[]> {
    const out: Extract<WorkerEvent, { event: K }>[] = [];
    for (let i = 0; i < this.procs.length; i++) {
      await this.procs[i].send(make(i));
      out.push(await this.procs[i].expect(kind, timeoutMs));
    }
    return out;
  }

  /** Asks every worker to exit; kills (by PID) those that do not within 5 s. */
  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.close()));
  }
}
