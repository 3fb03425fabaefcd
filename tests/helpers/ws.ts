/**
 * A WebSocket JSON client for tests of `/ws`, and a raw HTTP request over a TCP socket for the
 * checks a WebSocket API hides (the status of a refused upgrade, an Origin header).
 *
 * @module
 */

import { closeQuietly } from "../../lib/shared/close_quietly.ts";
import { ReadTimeoutError } from "./lines.ts";

/** One WebSocket to the server's `/ws`, reading its messages as JSON lines. */
export class WsClient {
  /** Every line received so far (a message may carry several), in order. */
  readonly received: string[] = [];
  /** Resolves with the close code once the socket closed. */
  readonly closed: Promise<number>;
  #read = 0;
  #wake: (() => void) | undefined;
  #isClosed = false;
  welcome: Record<string, unknown> = {};

  private constructor(readonly socket: WebSocket) {
    socket.onmessage = (e) => {
      for (const line of String(e.data).split("\n")) if (line !== "") this.received.push(line);
      this.#wake?.();
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (e) => {
        this.#isClosed = true;
        this.#wake?.();
        resolve(e.code);
      };
    });
  }

  /** Opens `/ws` on `port`, and with `hello` performs the handshake. */
  static async connect(port: number, hello?: Record<string, unknown>): Promise<WsClient> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("WebSocket failed to open"));
    });
    const c = new WsClient(socket);
    if (hello) {
      c.send({ type: "hello", version: 1, ...hello });
      c.welcome = await c.readUntil((f) => f.type === "welcome");
    }
    return c;
  }

  /** Sends one frame (an object as JSON, a string as it is). */
  send(frame: Record<string, unknown> | string | Uint8Array): void {
    this.socket.send(
      typeof frame === "string" || frame instanceof Uint8Array ? frame : JSON.stringify(frame),
    );
  }

  /** The next line, or null once closed. */
  async readLine(timeoutMs = 3000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#read >= this.received.length) {
      if (this.#isClosed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new ReadTimeoutError(`no WebSocket message within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.received[this.#read++];
  }

  /** Reads JSON frames (skipping text-dialect lines) until one satisfies `pred`. */
  async readUntil(
    pred: (f: Record<string, unknown>) => boolean,
    timeoutMs = 3000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = await this.readLine(Math.max(1, deadline - Date.now()));
      if (line === null) throw new Error("WebSocket closed");
      if (!line.startsWith("{")) continue;
      const frame = JSON.parse(line);
      if (pred(frame)) return frame;
    }
  }

  /** Sends a request with an id and returns its `ok`/`error` reply. */
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = crypto.randomUUID();
    this.send({ ...frame, id });
    return this.readUntil((f) => (f.type === "ok" || f.type === "error") && f.id === id);
  }

  close(): void {
    closeQuietly(this.socket);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The status code and headers of a raw HTTP/1.1 request, and the open socket. */
export interface RawResponse {
  status: number;
  headers: Headers;
  conn: Deno.TcpConn;
}

/**
 * Sends `GET path` with `headers` over a fresh TCP socket and reads the response head. The socket
 * stays open (after a `101` it carries the WebSocket); the caller closes it.
 */
export async function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  let head = "";
  const buf = new Uint8Array(4096);
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  const [statusLine, ...rest] = head.split("\r\n\r\n")[0].split("\r\n");
  const result = new Headers();
  for (const line of rest) {
    const i = line.indexOf(":");
    if (i > 0) result.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return { status: Number(statusLine.split(" ")[1]), headers: result, conn };
}

/** The standard headers of a WebSocket upgrade request. */
export function upgradeHeaders(origin?: string): Record<string, string> {
  return {
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
    ...(origin ? { Origin: origin } : {}),
  };
}
