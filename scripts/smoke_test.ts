/**
 * Smoke test of built binaries, run by the release workflow on the Linux runner before anything is
 * published: `DIR/server --version` and `DIR/client --version` answer, and one message goes from
 * one built client through the built server to another. Prints one line per step; exits 1 with
 * what went wrong (and the server's log) on failure. Every process it starts is killed by its PID.
 *
 * Usage: `deno run --allow-run --allow-read scripts/smoke_test.ts [--built] DIR` (DIR holds
 * `server` and `client`, e.g. `dist/x86_64-unknown-linux-gnu`; `--built`: their `--version` must
 * name a commit).
 *
 * @module
 */

/** How long any one step may take before the smoke test gives up. */
const STEP_TIMEOUT_MS = 15_000;
const MESSAGE = "hello from the smoke test";

/** A started binary, with everything it printed so far. */
interface Running {
  process: Deno.ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when `pred` holds for stdout or stderr; rejects on exit or timeout. */
  until(pred: (out: string, err: string) => boolean, what: string): Promise<void>;
  kill(): void;
  /** Resolves with the exit status once the process exited and its output is read. */
  finished: Promise<Deno.CommandStatus>;
}

function start(path: string, args: string[], stdin: "piped" | "null" = "null"): Running {
  const process = new Deno.Command(path, { args, stdin, stdout: "piped", stderr: "piped" })
    .spawn();
  let out = "";
  let err = "";
  let exited = false;
  const wakers: (() => void)[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      add(dec.decode(chunk, { stream: true }));
      for (const wake of wakers.splice(0)) wake();
    }
  };
  const pumps = Promise.all([
    pump(process.stdout, (s) => out += s),
    pump(process.stderr, (s) => err += s),
  ]);
  const finished = process.status.then(async (status) => {
    await pumps;
    exited = true;
    for (const wake of wakers.splice(0)) wake();
    return status;
  });
  return {
    process,
    finished,
    stdout: () => out,
    stderr: () => err,
    async until(pred, what) {
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      while (!pred(out, err)) {
        if (exited) throw new Error(`${path} exited while waiting for ${what}\n${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${err}`);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          wakers.push(r);
          timer = setTimeout(r, 200);
        });
        clearTimeout(timer);
      }
    },
    kill() {
      try {
        process.kill("SIGKILL");
      } catch { /* already exited */ }
    },
  };
}

/** Runs `path args` to its end; throws unless it exits 0 within the step timeout. */
async function run(path: string, args: string[]): Promise<string> {
  const p = start(path, args);
  const timer = setTimeout(() => p.kill(), STEP_TIMEOUT_MS);
  const status = await p.finished;
  clearTimeout(timer);
  if (!status.success) {
    throw new Error(`${path} ${args.join(" ")} exited ${status.code}: ${p.stderr().trim()}`);
  }
  return p.stdout();
}

/**
 * Runs the smoke test against the binaries in `dir`; throws with what went wrong. With `built`,
 * `--version` must name the commit the build recorded (not `source`).
 */
export async function smokeTest(
  dir: string,
  say: (line: string) => void,
  { built = false } = {},
): Promise<void> {
  const server = `${dir}/server`;
  const client = `${dir}/client`;
  const expected = built
    ? /^fastim (server|client) \S+ \(commit [0-9a-f]{12}(-dirty)?, Deno \S+\)$/
    : /^fastim (server|client) \S+ \((commit \S+|source), Deno \S+\)$/;
  for (const bin of [server, client]) {
    const version = (await run(bin, ["--version"])).trim();
    if (!expected.test(version)) {
      throw new Error(`${bin} --version printed ${JSON.stringify(version)}`);
    }
    say(`ok ${bin} --version: ${version.split("\n")[0]}`);
  }
  const srv = start(server, ["--host", "127.0.0.1", "--port", "0", "--db", ":memory:"]);
  let listener: Running | undefined;
  try {
    await srv.until((_o, e) => /listening on \S+:\d+/.test(e), "the server's listening line");
    const port = srv.stderr().match(/listening on \S+:(\d+)/)![1];
    say(`ok server listening on port ${port}`);
    // bob stays connected printing JSON frames; alice sends one message and exits.
    listener = start(client, ["--port", port, "--name", "bob", "--json"], "piped");
    await listener.until((o) => o.includes('"welcome"'), "bob's welcome");
    await run(client, ["--port", port, "--name", "alice", "--send", MESSAGE]);
    await listener.until((o) => o.includes(MESSAGE), "alice's message at bob");
    say("ok one message from alice reached bob");
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- server log:\n${srv.stderr()}`);
  } finally {
    listener?.kill();
    srv.kill();
    await Promise.all([listener?.finished, srv.finished]);
  }
}

if (import.meta.main) {
  const built = Deno.args[0] === "--built";
  const rest = Deno.args.slice(built ? 1 : 0);
  if (rest.length !== 1) {
    console.error("usage: smoke_test.ts [--built] DIR (holding the built server and client)");
    Deno.exit(2);
  }
  try {
    await smokeTest(rest[0], (line) => console.log(line), { built });
    console.log("smoke test passed");
  } catch (e) {
    console.error(`smoke test failed: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
