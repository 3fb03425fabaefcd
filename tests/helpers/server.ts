/**
 * Starts the real FastIM server entrypoint as a subprocess on an ephemeral loopback port, with the
 * permission flags the compiled binary has, and stops it by its PID.
 *
 * @module
 */

import { permissionFlags } from "./permissions.ts";
import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";

const SERVER_TS = new URL("../../server.ts", import.meta.url).pathname;
const READY = /listening on (\S+):(\d+)/;

/** A running server subprocess. */
export interface TestServer {
  host: string;
  port: number;
  pid: number;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Everything the server wrote to stdout so far. */
  stdout(): string;
  /** Sends `signal` (default SIGTERM) and waits for exit. */
  stop(signal?: Deno.Signal): Promise<{ code: number; signal: Deno.Signal | null }>;
  /** Resolves when the process exits by itself. */
  exited: Promise<{ code: number; signal: Deno.Signal | null }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * `FASTIM_TEST_WORKERS=N deno task test` runs every server test with `--workers N` unless the test
 * chooses its own: the whole suite against the hub and its edges.
 */
function workerArgs(args: string[]): string[] {
  const n = Deno.env.get("FASTIM_TEST_WORKERS");
  return n && !args.includes("--workers") && !args.includes("--help") ? ["--workers", n] : [];
}

/**
 * Runs `deno run <server flags> server.ts ...args` and returns once it is accepting. Unless
 * `args` has `--db`, the server keeps its store in memory.
 */
export async function startServer(
  args: string[] = [],
  opts: { port?: number; cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const argv = [
    "run",
    ...permissionFlags("server"),
    SERVER_TS,
    "--host",
    "127.0.0.1",
    "--port",
    String(opts.port ?? 0),
    // Tests keep nothing on disk unless they choose a database file.
    ...(args.includes("--db") ? [] : ["--db", ":memory:"]),
    ...workerArgs(args),
    // A free HTTP port, never the default 8080 that parallel tests would fight over.
    ...(args.includes("--no-http") || args.includes("--http-port") ? [] : ["--http-port", "0"]),
    // With TLS the HTTPS front listens too: a free port, never the default 8443.
    ...(args.includes("--no-http") || args.includes("--https-port") || !args.includes("--tls-cert")
      ? []
      : ["--https-port", "0"]),
    // A free IRC port (and IRC-over-TLS one with TLS), never the default 6667 or 6697.
    ...(args.includes("--no-irc") || args.includes("--irc-port") ? [] : ["--irc-port", "0"]),
    ...(args.includes("--no-irc") || args.includes("--ircs-port") || !args.includes("--tls-cert")
      ? []
      : ["--ircs-port", "0"]),
    ...args,
  ];
  const proc = new Deno.Command(Deno.execPath(), {
    args: argv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    cwd: opts.cwd,
    env: { NO_COLOR: "1", ...opts.env },
  }).spawn();
  let err = "";
  let out = "";
  let ready: (m: RegExpMatchArray) => void;
  const readyP = new Promise<RegExpMatchArray>((r) => ready = r);
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (s: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) onText(dec.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([
    pump(proc.stderr, (s) => {
      err += s;
      const m = err.match(READY);
      if (m) ready(m);
    }),
    pump(proc.stdout, (s) => out += s),
  ]);
  const exited = proc.status.then(async (s) => {
    await pumps;
    return { code: s.code, signal: s.signal };
  });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const result = await within(Promise.race([readyP, exited]), timeoutMs);
  if (result === TIMED_OUT || !Array.isArray(result)) {
    if (result === TIMED_OUT) proc.kill("SIGKILL");
    await exited;
    const why = result === TIMED_OUT ? "timeout" : JSON.stringify(result);
    throw new Error(`server did not start (${why}):\n${err}`);
  }
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    try {
      proc.kill(signal);
    } catch { /* already exited */ }
    return await exited;
  };
  return {
    host: result[1],
    port: Number(result[2]),
    pid: proc.pid,
    stderr: () => err,
    stdout: () => out,
    stop,
    exited,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/** Runs the server entrypoint to completion (for flag errors) and returns its output. */
export async function runServerToExit(
  args: string[],
  timeoutMs = 10_000,
  cwd?: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  // Without a cwd, a temporary one: a run that gets as far as creating fastim.db must not leave it
  // in the repository.
  const dir = cwd ?? await Deno.makeTempDir({ prefix: "fastim-run-" });
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissionFlags("server"), SERVER_TS, ...args],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const out = await proc.output();
  clearTimeout(timer);
  if (cwd === undefined) await Deno.remove(dir, { recursive: true });
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Waits for the server's `listening (HTTP) on HOST:PORT` line and returns the port. */
export function httpPort(server: TestServer, kind: "HTTP" | "HTTPS" = "HTTP"): Promise<number> {
  return listeningPort(server, new RegExp(`listening \\(${kind}\\) on \\S+:(\\d+)`));
}

async function listeningPort(server: TestServer, line: RegExp): Promise<number> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const m = server.stderr().match(line);
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${line} line:\n${server.stderr()}`);
}

/** Waits for the server's `listening (IRC) on HOST:PORT` line (or IRCS) and returns the port. */
export function ircPort(server: TestServer, kind: "IRC" | "IRCS" = "IRC"): Promise<number> {
  return listeningPort(server, new RegExp(`listening \\(${kind}\\) on \\S+:(\\d+)`));
}

/** Waits for the server's `listening (TLS) on HOST:PORT` line and returns the port. */
export async function tlsPort(server: TestServer): Promise<number> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const m = server.stderr().match(/listening \(TLS\) on \S+:(\d+)/);
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no TLS listening line:\n${server.stderr()}`);
}
