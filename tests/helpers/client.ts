/**
 * Runs the real client entrypoint as a subprocess with the permission flags the compiled binary
 * has (read from scripts/build.ts), for end-to-end tests: piped ({@linkcode ClientProcess}) or in a real
 * pseudo-terminal under tmux ({@linkcode Tmux}).
 *
 * @module
 */

import { permissionFlags } from "./permissions.ts";
import { writeAll } from "../../lib/shared/bytes.ts";
import { closeQuietly } from "../../lib/shared/close_quietly.ts";
import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";

/** An XDG_CONFIG_HOME with no fastim/client.jsonc in it. */
const NO_CONFIG_DIR = "/nonexistent/fastim-tests-have-no-config";

/** Absolute path of client.ts. */
export const CLIENT_TS = new URL("../../client.ts", import.meta.url).pathname;

/** The `deno` arguments that run the client with `args`, as the compiled binary would. */
export function clientArgv(args: string[]): string[] {
  return ["run", ...permissionFlags("client"), CLIENT_TS, ...args];
}

/** The shell command line for the same (for tmux). */
export function clientShellCommand(args: string[]): string {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return [Deno.execPath(), ...clientArgv(args)].map(quote).join(" ");
}

/** What a finished client printed. */
export interface ClientResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the client to completion with `stdin` piped in; kills it after `timeoutMs`.
 *
 * @example
 * ```ts
 * const r = await runClient(["-port", "8888", "--send", "hi"]);
 * ```
 */
export async function runClient(
  args: string[],
  opts: { stdin?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ClientResult> {
  const client = ClientProcess.spawn(args, { env: opts.env });
  if (opts.stdin !== undefined) await client.write(opts.stdin);
  await client.closeStdin();
  return await client.finish(opts.timeoutMs ?? 15_000);
}

/** A running client whose stdin the test writes and whose output it watches. */
export class ClientProcess {
  #out = "";
  #err = "";
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #changed: (() => void)[] = [];
  readonly exited: Promise<ClientResult>;

  private constructor(readonly process: Deno.ChildProcess) {
    this.#writer = process.stdin.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>, onText: (s: string) => void) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        onText(dec.decode(chunk, { stream: true }));
        for (const wake of this.#changed.splice(0)) wake();
      }
    };
    const pumps = Promise.all([
      pump(process.stdout, (s) => this.#out += s),
      pump(process.stderr, (s) => this.#err += s),
    ]);
    this.exited = process.status.then(async (s) => {
      await pumps;
      for (const wake of this.#changed.splice(0)) wake();
      return { code: s.code, stdout: this.#out, stderr: this.#err };
    });
  }

  /** Starts `deno run <client flags> client.ts ...args` with piped stdio. */
  static spawn(args: string[], opts: { env?: Record<string, string> } = {}): ClientProcess {
    const process = new Deno.Command(Deno.execPath(), {
      args: clientArgv(args),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // No config file unless the test gives one: a developer's ~/.config/fastim/client.jsonc
      // must not change what the tests see.
      env: { XDG_CONFIG_HOME: NO_CONFIG_DIR, ...opts.env },
    }).spawn();
    return new ClientProcess(process);
  }

  /** Everything printed on stdout so far. */
  get stdout(): string {
    return this.#out;
  }

  /** Everything printed on stderr so far. */
  get stderr(): string {
    return this.#err;
  }

  /** Writes text to the client's stdin. */
  async write(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text));
  }

  /** Ends the client's stdin (EOF). */
  async closeStdin(): Promise<void> {
    try {
      await this.#writer.close();
    } catch { /* the client already exited */ }
  }

  /** Waits until `pred` holds for (stdout, stderr); throws with both on timeout. */
  async waitFor(
    pred: (stdout: string, stderr: string) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.exited.then(() => exited = true);
    while (!pred(this.#out, this.#err)) {
      const left = deadline - Date.now();
      if (left <= 0 || exited) {
        throw new Error(
          `${
            exited ? "client exited" : "timed out"
          } waiting for ${what}\n--- stdout:\n${this.#out}\n--- stderr:\n${this.#err}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#changed.push(r);
        timer = setTimeout(r, Math.min(left, 200));
      });
      clearTimeout(timer);
    }
  }

  /** Waits until stdout contains `text`. */
  waitForStdout(text: string | RegExp, timeoutMs?: number): Promise<void> {
    return this.waitFor((o) => matches(o, text), `stdout ${text}`, timeoutMs);
  }

  /** Waits until stderr contains `text`. */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void> {
    return this.waitFor((_, e) => matches(e, text), `stderr ${text}`, timeoutMs);
  }

  /** Waits for the exit; kills the client (and fails) if it takes longer than `timeoutMs`. */
  async finish(timeoutMs = 15_000): Promise<ClientResult> {
    const result = await within(this.exited, timeoutMs);
    if (result === TIMED_OUT) {
      this.kill();
      const r = await this.exited;
      throw new Error(
        `client did not exit within ${timeoutMs} ms\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`,
      );
    }
    return result;
  }

  /** Kills the client (idempotent). */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    try {
      this.process.kill(signal);
    } catch { /* already exited */ }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.exited;
    await this.closeStdin();
  }
}

function matches(s: string, text: string | RegExp): boolean {
  return typeof text === "string" ? s.includes(text) : text.test(s);
}

/** One accepted connection of a {@linkcode FakeServer}, read and written by lines. */
export interface FakeConn {
  /** The next line from the client; `null` at end of stream. */
  readLine(): Promise<string | null>;
  /** Writes raw text (add the `\n` yourself). */
  write(text: string): Promise<void>;
  /** Writes a frame as one JSON line. */
  send(frame: Record<string, unknown>): Promise<void>;
  close(): void;
}

/** A scripted TCP server on a loopback port, for talking to the client in ways a real one won't. */
export interface FakeServer extends AsyncDisposable {
  port: number;
  /** Settles when every handler so far has finished; rejects if one threw. */
  handlers(): Promise<void>;
  close(): void;
}

/**
 * Listens on 127.0.0.1 (ephemeral port) and runs `handle` for each connection.
 *
 * @example
 * ```ts
 * await using fake = fakeServer(async (c) => { await c.readLine(); await c.send({ type: "welcome" }); });
 * ```
 */
export function fakeServer(handle: (conn: FakeConn, index: number) => Promise<void>): FakeServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const running: Promise<void>[] = [];
  // A handler's error is kept for handlers() at once: left unhandled until the test awaited it,
  // a write racing the test's own close (Bad resource ID) failed the whole test file.
  const failures: unknown[] = [];
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    let index = 0;
    try {
      for await (const conn of listener) {
        conns.push(conn);
        running.push(
          handle(wrap(conn), index++)
            .finally(() => closeQuietly(conn))
            .catch((error) => void failures.push(error)),
        );
      }
    } catch { /* listener closed */ }
  })();
  const close = () => {
    closeQuietly(listener);
    for (const c of conns) closeQuietly(c);
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    handlers: async () => {
      await Promise.all(running);
      if (failures.length > 0) throw failures[0];
    },
    close,
    async [Symbol.asyncDispose]() {
      close();
      await accepting;
      await Promise.allSettled(running);
    },
  };
}

function wrap(conn: Deno.Conn): FakeConn {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let pending = "";
  let eof = false;
  const write = (text: string) => writeAll(conn, enc.encode(text));
  return {
    async readLine() {
      while (true) {
        const nl = pending.indexOf("\n");
        if (nl >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          return line;
        }
        if (eof) return null;
        const n = await conn.read(buf).catch(() => null);
        if (n === null) eof = true;
        else pending += dec.decode(buf.subarray(0, n), { stream: true });
      }
    },
    write,
    send: (frame) => write(JSON.stringify(frame) + "\n"),
    close: () => closeQuietly(conn),
  };
}

/**
 * Whether the pseudo-terminal tests can run: tmux is installed. Under CI they always run (and fail
 * loudly if tmux is missing), so a missing install step cannot pass as skipped tests.
 */
export const hasTmux: boolean = Deno.env.get("CI") === "true" ||
  await new Deno.Command("tmux", { args: ["-V"], stderr: "null" })
    .output().then((o) => o.success, () => false);

/** A tmux server of our own (its own socket), so tests never touch the user's sessions. */
export class Tmux implements AsyncDisposable {
  readonly socket = `fastim-client-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  async run(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", { args: ["-L", this.socket, ...args] }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return text;
  }

  /**
   * Starts `command` in a 100x30 window; it prints its exit status and stays on screen. `env` is
   * set by `env(1)` in front of the command: tmux would override `TERM` given to it.
   */
  async start(command: string, env: Record<string, string> = {}): Promise<void> {
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const vars = Object.entries(env).map(([k, v]) => quote(`${k}=${v}`));
    const withEnv = vars.length ? `env ${vars.join(" ")} ${command}` : command;
    await this.run(
      "new-session",
      "-d",
      "-x",
      "100",
      "-y",
      "30",
      `${withEnv}; echo "[exit $?]"; sleep 600`,
    );
  }

  /** The screen's lines (trailing blank lines dropped); with `escapes`, SGR codes kept. */
  async screen(escapes = false): Promise<string[]> {
    const text = await this.run("capture-pane", "-p", ...(escapes ? ["-e"] : []));
    const lines = text.split("\n").map((l) => l.trimEnd());
    while (lines.length && lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** Everything the window has shown, scrolled-off lines included. */
  async everything(): Promise<string> {
    return await this.run("capture-pane", "-p", "-S", "-");
  }

  /** Waits until `pred` holds for the screen. */
  async waitFor(pred: (lines: string[]) => boolean, what: string, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const lines = await this.screen();
      if (pred(lines)) return lines;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${lines.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Types text literally. */
  type(text: string): Promise<string> {
    return this.run("send-keys", "-l", text);
  }

  /** Presses keys by tmux name (`Enter`, `C-c`, `Left` …). */
  keys(...keys: string[]): Promise<string> {
    return this.run("send-keys", ...keys);
  }

  /** Resizes the window to `columns` wide (the client gets SIGWINCH, as from a real terminal). */
  async resize(columns: number): Promise<void> {
    await this.run("resize-window", "-x", String(columns));
  }

  async cursor(): Promise<{ x: number; y: number }> {
    const [x, y] = (await this.run("display-message", "-p", "#{cursor_x},#{cursor_y}")).trim()
      .split(",").map(Number);
    return { x, y };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.run("kill-server").catch(() => {});
  }
}
