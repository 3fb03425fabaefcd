/**
 * A raw line-oriented TCP client for protocol tests: what `nc` would do, with timeouts so a test
 * fails instead of hanging.
 *
 * @module
 */

import { writeAll } from "../../lib/shared/bytes.ts";
import { closeQuietly } from "../../lib/shared/close_quietly.ts";
import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";

const encoder = new TextEncoder();

/** Thrown when an expected line does not arrive in time. */
export class ReadTimeoutError extends Error {}

/**
 * One TCP connection that reads and writes `\n`-terminated lines.
 *
 * @example
 * ```ts
 * const c = await LineClient.connect(8888);
 * await c.send("who");
 * console.log(await c.readLine());
 * c.close();
 * ```
 */
export class LineClient {
  #conn: Deno.TcpConn;
  #buffered = "";
  #decoder = new TextDecoder();
  #pending: Promise<number | null> | null = null;
  #buf = new Uint8Array(64 * 1024);
  #eof = false;
  /** Every line received so far, in order. */
  readonly received: string[] = [];

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `host:port`. */
  static async connect(port: number, host = "127.0.0.1"): Promise<LineClient> {
    return new LineClient(await Deno.connect({ hostname: host, port }));
  }

  /** The local address as the server sees it: `IP:PORT`. */
  get addr(): string {
    const a = this.#conn.localAddr as Deno.NetAddr;
    return `${a.hostname}:${a.port}`;
  }

  /** Sends `line` followed by `\n`. */
  async send(line: string): Promise<void> {
    await this.writeRaw(encoder.encode(line + "\n"));
  }

  /** Sends bytes exactly as given. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  /** Reads the next line (without its terminator); `null` at end of stream. */
  async readLine(timeoutMs = 3000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const nl = this.#buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffered.slice(0, nl).replace(/\r$/, "");
        this.#buffered = this.#buffered.slice(nl + 1);
        this.received.push(line);
        return line;
      }
      if (this.#eof) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new ReadTimeoutError(`no line within ${timeoutMs} ms`);
      this.#pending ??= this.#conn.read(this.#buf).catch(() => null);
      const n = await within(this.#pending, left);
      if (n === TIMED_OUT) continue;
      this.#pending = null;
      if (n === null) {
        this.#eof = true;
        this.#buffered += this.#decoder.decode();
      } else {
        this.#buffered += this.#decoder.decode(this.#buf.subarray(0, n), { stream: true });
      }
    }
  }

  /** Reads lines until one satisfies `pred`, returning it; throws on timeout or end of stream. */
  async readUntil(pred: (line: string) => boolean, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const line = await this.readLine(Math.max(1, deadline - Date.now()));
      if (line === null) throw new Error("connection closed before the expected line");
      if (pred(line)) return line;
    }
  }

  /** Reads lines until end of stream, returning them; throws if it does not end in time. */
  async readToEnd(timeoutMs = 3000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    while (true) {
      const line = await this.readLine(Math.max(1, deadline - Date.now()));
      if (line === null) return lines;
      lines.push(line);
    }
  }

  /** Asserts nothing arrives for `ms` milliseconds; returns the line if one did. */
  async quietFor(ms: number): Promise<string | null> {
    try {
      return await this.readLine(ms);
    } catch (e) {
      if (e instanceof ReadTimeoutError) return null;
      throw e;
    }
  }

  /** Ends what this client sends (a half-close, as `nc` does at the end of its input). */
  async closeWrite(): Promise<void> {
    await this.#conn.closeWrite();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    closeQuietly(this.#conn);
  }

  /** Closes the connection, so `using c = await LineClient.connect(port)` always cleans up. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Sends a JSON frame and reads JSON frames; skips non-JSON lines before the welcome. */
export class JsonClient {
  private constructor(readonly lines: LineClient, readonly welcome: Record<string, unknown>) {}

  /** Connects and performs the hello/welcome handshake. */
  static async connect(
    port: number,
    hello: Record<string, unknown> = {},
    host = "127.0.0.1",
  ): Promise<JsonClient> {
    const lines = await LineClient.connect(port, host);
    await lines.send(JSON.stringify({ type: "hello", version: 1, ...hello }));
    const w = await lines.readUntil((l) => l.startsWith("{") && JSON.parse(l).type === "welcome");
    return new JsonClient(lines, JSON.parse(w));
  }

  /** Sends one frame. */
  send(frame: Record<string, unknown>): Promise<void> {
    return this.lines.send(JSON.stringify(frame));
  }

  /** Reads the next frame. */
  async read(timeoutMs = 3000): Promise<Record<string, unknown>> {
    const line = await this.lines.readLine(timeoutMs);
    if (line === null) throw new Error("connection closed");
    return JSON.parse(line);
  }

  /** Reads frames until one satisfies `pred`. */
  async readUntil(
    pred: (f: Record<string, unknown>) => boolean,
    timeoutMs = 3000,
  ): Promise<Record<string, unknown>> {
    const line = await this.lines.readUntil((l) => pred(JSON.parse(l)), timeoutMs);
    return JSON.parse(line);
  }

  /** Sends a request with `id` and returns its `ok`/`error` reply. */
  async request(
    frame: Record<string, unknown>,
    timeoutMs = 3000,
  ): Promise<Record<string, unknown>> {
    const id = frame.id ?? crypto.randomUUID();
    await this.send({ ...frame, id });
    return await this.readUntil(
      (f) => (f.type === "ok" || f.type === "error") && f.id === id,
      timeoutMs,
    );
  }

  /** Closes the connection. */
  close(): void {
    this.lines.close();
  }

  /** Closes the connection, so `using c = await JsonClient.connect(port)` always cleans up. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The text dialect's presence line for a user: `[ADDR], NAME:EVENT` (NAME defaults to ADDR).
 *
 * @example
 * ```ts
 * presenceLine("127.0.0.1:5000", "online"); // "[127.0.0.1:5000], 127.0.0.1:5000:online"
 * ```
 */
export function presenceLine(
  addr: string,
  event: "online" | "offline",
  name: string = addr,
): string {
  return `[${addr}], ${name}:${event}`;
}

/**
 * Connects a text-dialect client and waits for its own `online` announcement, so that the server
 * has joined it before the test goes on (everything it causes later is ordered after that).
 */
export async function connectText(port: number, host = "127.0.0.1"): Promise<LineClient> {
  const c = await LineClient.connect(port, host);
  try {
    await c.readUntil((l) => l === presenceLine(c.addr, "online"));
  } catch (e) {
    c.close();
    throw e;
  }
  return c;
}

/** Reads exactly `n` lines; throws on timeout or if the stream ends first. */
export async function readLines(c: LineClient, n: number, timeoutMs = 3000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const lines: string[] = [];
  while (lines.length < n) {
    const line = await c.readLine(Math.max(1, deadline - Date.now()));
    if (line === null) {
      throw new Error(`connection closed after ${lines.length} of ${n} lines: ${lines}`);
    }
    lines.push(line);
  }
  return lines;
}

/** Polls `pred` every few milliseconds until it is true; throws after `timeoutMs`. */
export async function waitUntil(
  pred: () => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

let coreArgs: Promise<string[]> | undefined;

/**
 * Server flags that switch off features layered on the core protocol — flood control and
 * persistence — when this build of the server has them (found in its `--help`), so protocol tests
 * that send many lines or renames quickly see the core behaviour alone. Computed once.
 *
 * @example
 * ```ts
 * await using server = await startServer([...await coreServerArgs(), "--max-line", "1KiB"]);
 * ```
 */
export function coreServerArgs(): Promise<string[]> {
  return coreArgs ??= (async () => {
    const { runServerToExit } = await import("./server.ts");
    const { stdout } = await runServerToExit(["--help"]);
    const off: [string, string][] = [
      ["--msg-rate", "0"],
      ["--byte-rate", "0"],
      ["--rename-rate", "0"],
      ["--who-rate", "0"],
      ["--db", ":memory:"],
      ["--history", "0"],
    ];
    return off.filter(([flag]) => new RegExp(`${flag}\\b`).test(stdout)).flat();
  })();
}
