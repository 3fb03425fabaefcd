/**
 * Pasting into a text connection (issue 10 item 7): lines over `--msg-rate` are delayed, not refused
 * ("fakelag"), on every transport a text client can use: raw TCP (`nc`), a WebSocket speaking the
 * text dialect, and the edge threads of `--workers`. The flood that this must not let through is
 * tested in security_limits_test.ts and security_hostile_test.ts.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { LineClient } from "../helpers/lines.ts";
import { httpPort, startServer } from "../helpers/server.ts";
import { WsClient } from "../helpers/ws.ts";

/** 50 lines, more than the default burst (20): 30 of them must wait for the rate (10/s). */
const PASTED = Array.from({ length: 50 }, (_, i) => `line ${i} of a pasted log`);
/** Long enough for 30 lines at 10 per second, with room for a busy machine. */
const READ_MS = 15_000;

/** Connects and waits for the client's own `online` line, so the server has admitted it. */
async function joined(port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  await c.readUntil((l) => l === `[${c.addr}], ${c.addr}:online`);
  return c;
}

async function readN(
  read: (timeoutMs: number) => Promise<string | null>,
  n: number,
): Promise<(string | null)[]> {
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(await read(READ_MS));
  return lines;
}

/**
 * Pastes {@link PASTED} over raw TCP in one write, as `nc` does with a paste, and checks that the
 * paster and a watcher each get all 50 in order, with no `slow down`, and that the paster is still
 * connected afterwards.
 */
async function pasteOverTcp(port: number): Promise<void> {
  using watcher = await joined(port);
  using paster = await joined(port);
  await watcher.readUntil((l) => l === `[${paster.addr}], ${paster.addr}:online`);
  await paster.writeRaw(new TextEncoder().encode(PASTED.map((l) => l + "\n").join("")));
  const expected = PASTED.map((l) => `[${paster.addr}], ${paster.addr}:${l}`);
  deepStrictEqual(await readN((ms) => watcher.readLine(ms), 50), expected);
  // The paster's own copy: every line, and not one `slow down` among them.
  deepStrictEqual(await readN((ms) => paster.readLine(ms), 50), expected);
  await paster.send("still connected");
  const after = `[${paster.addr}], ${paster.addr}:still connected`;
  strictEqual(await watcher.readLine(READ_MS), after);
  strictEqual(await paster.readLine(READ_MS), after);
}

Deno.test("paste: 50 lines in one write over TCP arrive whole and in order, default limits", async () => {
  await using server = await startServer();
  await pasteOverTcp(server.port);
});

Deno.test("paste: the same through an edge thread of --workers 2", async () => {
  await using server = await startServer(["--workers", "2"]);
  await pasteOverTcp(server.port);
});

Deno.test("paste: 50 text-dialect lines over a WebSocket arrive whole and in order", async () => {
  await using server = await startServer();
  using watcher = await joined(server.port);
  using ws = await WsClient.connect(await httpPort(server));
  // The greeting names the WebSocket's address, which its lines carry.
  const greeting = (await ws.readLine())!;
  const addr = greeting.slice(1, greeting.indexOf("]"));
  await watcher.readUntil((l) => l === `[${addr}], ${addr}:online`);
  for (const line of PASTED) ws.send(line);
  const expected = PASTED.map((l) => `[${addr}], ${addr}:${l}`);
  deepStrictEqual(await readN((ms) => watcher.readLine(ms), 50), expected);
  deepStrictEqual(await readN((ms) => ws.readLine(ms), 50), expected);
  ws.send("still connected");
  strictEqual(await watcher.readLine(READ_MS), `[${addr}], ${addr}:still connected`);
});

Deno.test("paste: a line of spaces is treated as an empty line: ignored", async () => {
  await using server = await startServer();
  using a = await joined(server.port);
  await a.writeRaw(new TextEncoder().encode("   \n\n \t \nafter\n"));
  strictEqual(await a.readLine(), `[${a.addr}], ${a.addr}:after`);
});
