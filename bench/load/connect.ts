/**
 * Opening benchmark connections: connect with bounded concurrency, then the dialect's
 * handshake (a `rename|NAME` in text, a `hello` frame in JSON) when a connection needs a
 * name, waiting for the server's confirmation before any traffic starts.
 *
 * @module
 */

import type { Dialect } from "./plan.ts";
import { type ByteConn, WsConn } from "./ws_conn.ts";
import { closeQuietly } from "../../lib/shared/close_quietly.ts";
import { writeAll } from "../../lib/shared/bytes.ts";

const encoder = new TextEncoder();

/** Reads until `needle` appears (bytes after it are dropped), or throws after `ms`. */
async function readUntil(conn: ByteConn, needle: string, ms: number): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => closeQuietly(conn), ms);
  try {
    while (!text.includes(needle)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`connection closed before "${needle}" arrived`);
      // Keep only a tail long enough to hold the needle: announcements can be long.
      text = (text + decoder.decode(buf.subarray(0, n))).slice(-64 * 1024);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens one connection and, when `name` is given or the dialect is JSON, does the handshake;
 * with `room`, joins it and waits for its own `joined` line. The `ws` dialect connects to `port`
 * as the HTTP port and speaks JSON over the WebSocket.
 */
export async function openConn(
  host: string,
  port: number,
  dialect: Dialect,
  name?: string,
  room?: string,
): Promise<ByteConn> {
  let conn: ByteConn;
  let me: Deno.NetAddr | undefined;
  if (dialect === "ws") {
    conn = await WsConn.open(host, port);
  } else {
    const tcp = await Deno.connect({ hostname: host, port });
    tcp.setNoDelay(true);
    me = tcp.localAddr;
    conn = tcp;
  }
  if (dialect !== "text") {
    const hello = { type: "hello", version: 1, client: "fastim-bench", ...(name ? { name } : {}) };
    await writeAll(conn, encoder.encode(JSON.stringify(hello) + "\n"));
    await readUntil(conn, `"type":"welcome"`, 10_000);
  } else if (name) {
    await writeAll(conn, encoder.encode(`rename|${name}\n`));
    await readUntil(conn, `You renamed to ${name}`, 10_000);
  }
  if (room) {
    const join = dialect !== "text"
      ? JSON.stringify({ type: "join", id: "join", room })
      : `join|${room}`;
    await writeAll(conn, encoder.encode(join + "\n"));
    await readUntil(
      conn,
      dialect !== "text" ? `"id":"join"` : `[${room}] [${me!.hostname}:${me!.port}], `,
      10_000,
    );
  }
  return conn;
}

/** Runs `make(i)` for i in [0, count) with at most `limit` in flight; keeps the order. */
export async function openMany<T>(
  count: number,
  limit: number,
  make: (i: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const out: PromiseSettledResult<T>[] = new Array(count);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      try {
        out[i] = { status: "fulfilled", value: await make(i) };
      } catch (reason) {
        out[i] = { status: "rejected", reason };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return out;
}
