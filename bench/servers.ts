/**
 * Starting and stopping the servers under test: FastIM (`deno run server.ts`) and the Go
 * original (built with `go build` into a temporary directory when `go` is installed). Each is
 * started on an ephemeral port of 127.0.0.1 and is ready when its stderr says
 * `listening on 127.0.0.1:PORT`; stderr keeps being drained so the server never blocks on it.
 *
 * @module
 */

import { permissionFlags } from "../tests/helpers/permissions.ts";
import { TIMED_OUT, within } from "../lib/shared/deadline.ts";

const ROOT = new URL("..", import.meta.url);
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const HTTP_LISTENING = /listening \(HTTP\) on 127\.0\.0\.1:(\d+)/;

/** A running server under test. */
export interface RunningServer {
  label: string;
  pid: number;
  port: number;
  /** The HTTP port (`/ws`), when the server serves one. */
  httpPort?: number;
  /** Milliseconds from spawn to the `listening on` line. */
  readyMs: number;
  /** Recent stderr output, for diagnostics. */
  stderrTail(): string;
  /** Stops the server: SIGINT first (lets it write a CPU profile), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** How to start one kind of server. */
export interface ServerSpec {
  label: string;
  cmd: string;
  args: string[];
}

/**
 * FastIM's protection limits, all switched off for benchmarking (the load is deliberate), and
 * persistence off (`--db :memory:`). Only flags that `server.ts --help` lists are passed, so
 * the runner keeps working while the server grows.
 */
const BENCH_FLAGS: [string, string][] = [
  ["--idle-timeout", "0"],
  ["--log-level", "warn"],
  ["--max-conns", "0"],
  ["--max-conns-per-ip", "0"],
  ["--conn-rate", "0"],
  ["--msg-rate", "0"],
  ["--byte-rate", "0"],
  ["--rename-rate", "0"],
  ["--who-rate", "0"],
  ["--flood-strikes", "0"],
  ["--line-timeout", "0"],
  ["--history", "0"],
  ["--db", ":memory:"],
  // A free port for the WebSocket (`ws` dialect), never the default 8080.
  ["--http-port", "0"],
  // A free IRC port, never the default 6667 (the benchmarks do not speak IRC).
  ["--irc-port", "0"],
];

/** The benchmark flags among those `help` (the server's `--help` text) lists. */
export function benchFlags(help: string): string[] {
  return BENCH_FLAGS.filter(([flag]) => help.includes(`${flag} `)).flat();
}

/** FastIM's server on an ephemeral port with `flags` (see {@link benchFlags}) and `denoFlags`. */
export function fastimSpec(flags: string[] = [], denoFlags: string[] = []): ServerSpec {
  return {
    label: "fastim",
    cmd: Deno.execPath(),
    args: [
      "run",
      // What the compiled server runs with (deno.json's compile task).
      ...permissionFlags("server"),
      ...denoFlags,
      new URL("server.ts", ROOT).pathname,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...flags,
    ],
  };
}

/** `spec` with `flag`'s value replaced (or the flag appended). */
export function withFlag(spec: ServerSpec, flag: string, value: string): ServerSpec {
  const args = [...spec.args];
  const i = args.indexOf(flag);
  if (i >= 0) args[i + 1] = value;
  else args.push(flag, value);
  return { ...spec, args };
}

/** The Go original built at `binary`. */
export function goSpec(binary: string): ServerSpec {
  return { label: "go", cmd: binary, args: ["-host", "127.0.0.1", "-port", "0", "-timeout", "0"] };
}

/** The minimal Go broadcast server (`go/minimal/`, the floor reference) built at `binary`. */
export function goMinimalSpec(binary: string): ServerSpec {
  return { label: "go-minimal", cmd: binary, args: ["-host", "127.0.0.1", "-port", "0"] };
}

/**
 * Builds the Go program in `go/NAME/` (`original` or `minimal`) into a temp dir; returns the
 * binary path and the dir (the caller removes it), or why it could not.
 */
export async function buildGo(name: "original" | "minimal"): Promise<
  { binary?: string; dir?: string; reason?: string }
> {
  let dir: string | undefined;
  try {
    dir = await Deno.makeTempDir({ prefix: `fastim-bench-go-${name}-` });
    const binary = `${dir}/${name}`;
    const out = await new Deno.Command("go", {
      args: ["build", "-o", binary, "."],
      cwd: new URL(`go/${name}/`, import.meta.url).pathname,
      env: { GOFLAGS: "-mod=mod", GOPROXY: "off", GOTOOLCHAIN: "local" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      return { dir, reason: `go build failed: ${new TextDecoder().decode(out.stderr)}` };
    }
    return { binary, dir };
  } catch (err) {
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (err instanceof Deno.errors.NotFound) return { reason: "go is not installed" };
    return { reason: `go build failed: ${err instanceof Error ? err.message : err}` };
  }
}

/** Starts a server and waits (up to `timeoutMs`) for its `listening on` line. */
export async function startServer(spec: ServerSpec, timeoutMs = 20_000): Promise<RunningServer> {
  const t0 = performance.now();
  const child = new Deno.Command(spec.cmd, {
    args: spec.args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let tail = "";
  let resolvePort: (v: [number, number]) => void = () => {};
  const ready = new Promise<[number, number]>((r) => resolvePort = r);
  (async () => {
    const decoder = new TextDecoder();
    let found = false;
    for await (const chunk of child.stderr) {
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
      if (!found) {
        const m = LISTENING.exec(tail);
        if (m) {
          found = true;
          resolvePort([Number(m[1]), performance.now() - t0]);
        }
      }
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async (graceMs = 3000) => {
    if (exited) return;
    try {
      Deno.kill(child.pid, "SIGINT");
    } catch { /* gone */ }
    if (await within(status, graceMs) === TIMED_OUT) {
      try {
        Deno.kill(child.pid, "SIGKILL");
      } catch { /* gone */ }
      await status;
    }
  };
  const failed = status.then((s): never => {
    throw new Error(`server exited with code ${s.code}`);
  });
  try {
    const started = await within(Promise.race([ready, failed]), timeoutMs);
    if (started === TIMED_OUT) throw new Error(`no "listening on" within ${timeoutMs} ms`);
    const [port, readyMs] = started;
    // Printed right after "listening on", when the server serves HTTP.
    let httpPort: number | undefined;
    if (spec.args.includes("--http-port")) {
      const deadline = performance.now() + 2000;
      while (!(httpPort = Number(HTTP_LISTENING.exec(tail)?.[1]) || undefined)) {
        if (performance.now() > deadline) throw new Error("no listening (HTTP) line");
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return {
      label: spec.label,
      pid: child.pid,
      port,
      httpPort,
      readyMs,
      stderrTail: () => tail,
      stop,
    };
  } catch (err) {
    await stop(500);
    throw new Error(`${spec.label}: ${(err as Error).message}\n${tail.trim()}`);
  }
}

/** FastIM's `server.ts --help` text ("" when it fails); gives up after 10 s. */
export async function fastimHelp(): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...permissionFlags("server"),
        new URL("server.ts", ROOT).pathname,
        "--help",
      ],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
  } catch {
    return "";
  }
  const timer = setTimeout(() => {
    try {
      Deno.kill(child.pid, "SIGKILL"); // a server that ignores --help would listen forever
    } catch { /* gone */ }
  }, 10_000);
  const out = await child.output();
  clearTimeout(timer);
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}
