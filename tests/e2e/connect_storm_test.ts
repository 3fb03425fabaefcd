/**
 * Many clients connecting at once (a restart, a network blip): every one is accepted and served
 * (a `who` lists them all), and the announcements of their arrivals, which may follow a little
 * later, all arrive, in the same order for everyone.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { startServer } from "../helpers/server.ts";

const OPEN = [
  "--msg-rate",
  "0",
  "--byte-rate",
  "0",
  "--max-conns-per-ip",
  "0",
  "--conn-rate",
  "0",
  "--who-rate",
  "0",
  "--idle-timeout",
  "0",
];
/** More than the 511 pending connections Deno's listeners allowed by default. */
const STORM = 1500;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Reads `conn`'s lines into `lines` until `done(line)` is true for one; throws after `ms`. */
async function readLinesUntil(
  conn: Deno.Conn,
  lines: string[],
  done: (line: string) => boolean,
  ms: number,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  let partial = "";
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`closed after ${lines.length} lines`);
      const got = (partial + decoder.decode(buf.subarray(0, n))).split("\n");
      partial = got.pop()!;
      for (const line of got) {
        lines.push(line);
        if (done(line)) return;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

Deno.test(`${STORM} connections at once are all served, and every arrival is announced in order`, async () => {
  await using server = await startServer(OPEN);
  const conns = await Promise.all(
    Array.from({ length: STORM }, () => Deno.connect({ hostname: "127.0.0.1", port: server.port })),
  );
  try {
    // The last to come asks who is there until everybody is (an address seen twice starts the
    // next reply): only accepted, served connections are listed.
    const probe = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    conns.push(probe);
    const me = `${probe.localAddr.hostname}:${probe.localAddr.port}`;
    const lines: string[] = [];
    let listed = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (listed.size < STORM + 1) {
      ok(Date.now() < deadline, `who lists ${listed.size} of ${STORM + 1} after 60 s`);
      await probe.write(encoder.encode("who\n"));
      listed = new Set();
      // A reply ends with the line of its last user; the probe joined last.
      await readLinesUntil(probe, lines, (l) => l === `[${me}],${me}:online`, 30_000);
      for (let i = lines.length - 1; i >= 0 && /^\[[^\]]*\],\S/.test(lines[i]); i--) {
        const addr = lines[i].slice(1, lines[i].indexOf("]"));
        if (listed.has(addr)) break;
        listed.add(addr);
      }
    }
    // Every connection hears the arrivals from its own on, the probe's last; in join order.
    const heard = await Promise.all(
      conns.slice(0, STORM).map(async (conn) => {
        const got: string[] = [];
        await readLinesUntil(conn, got, (l) => l === `[${me}], ${me}:online`, 60_000);
        const addr = `${conn.localAddr.hostname}:${conn.localAddr.port}`;
        deepStrictEqual(got[0], `[${addr}], ${addr}:online`, "a newcomer hears itself first");
        return got;
      }),
    );
    const longest = heard.reduce((a, b) => (b.length > a.length ? b : a));
    deepStrictEqual(longest.length, STORM + 1, "the first to join hears every arrival");
    for (const got of heard) {
      const own = longest.indexOf(got[0]);
      ok(own >= 0, `an unknown first line: ${got[0]}`);
      deepStrictEqual(got, longest.slice(own), "one connection heard another order");
    }
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
});
