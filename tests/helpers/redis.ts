/**
 * A real `redis-server` for the cluster tests, on a free port, with its append-only file in a
 * temporary folder (so a restart keeps what it had), stopped by its PID.
 *
 * @module
 */

import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";

/** A running Redis. */
export interface TestRedis {
  port: number;
  url: string;
  pid: number;
  /** Stops it (SIGTERM: it writes its append-only file and exits). */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Whether `redis-server` is installed (`.ci/run` installs it from Debian). */
export function hasRedis(): boolean {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Starts `redis-server` on 127.0.0.1 with `appendfsync always`, as docs/SCALING.md asks of a
 * cluster that acknowledges only what is stored.
 *
 * @example
 * ```ts
 * import { startRedis } from "./redis.ts";
 * await using redis = await startRedis();
 * console.log(redis.url);
 * ```
 */
export async function startRedis(): Promise<TestRedis> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "fastim-redis-" });
  let proc: Deno.ChildProcess | undefined;
  const launch = async () => {
    proc = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        dir,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const ready = (async () => {
      while (!out.includes("Ready to accept connections")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`redis-server exited: ${out}`);
        out += value;
      }
      // Keep draining so the pipe never fills.
      void (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
    })();
    if (await within(ready, 10_000) === TIMED_OUT) {
      throw new Error(`redis-server not ready: ${out}`);
    }
  };
  const stop = async () => {
    if (!proc) return;
    const p = proc;
    proc = undefined;
    try {
      p.kill("SIGTERM");
    } catch { /* already gone */ }
    await p.status;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return proc?.pid ?? 0;
    },
    stop,
    restart: launch,
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
