/**
 * The room hot path alone, in one process without sockets: CPU time per message when the chat
 * core hands one message to a room of N members (encoded for the text dialect, as a connection
 * would), with 0, N and 10·N other users online in the lobby only; lobby fan-out to N beside it.
 * A room message iterates its members only, so the figures must not grow with the non-members.
 * The socket-level comparison is `deno task bench --scenarios room`.
 *
 * @example
 * ```sh
 * deno run bench/room_core.ts 1000
 * ```
 *
 * @module
 */

import { ChatCore } from "../lib/core/chat.ts";
import type { ChatEvent } from "../lib/protocol/events.ts";
import { textCodec } from "../lib/protocol/text_codec.ts";
import type { Peer } from "../lib/core/user.ts";

/** Bytes "written", so the encoding cannot be optimised away. */
let written = 0;
const peer: Peer = {
  deliver(event: ChatEvent) {
    written += textCodec.encodeEvent(event).length;
  },
  kick() {},
};

/** Microseconds per message to `members` (in a room, or the lobby) beside `others` in the lobby. */
function perMessage(members: number, others: number, room: boolean, messages: number): number {
  const core = new ChatCore({ roomLimits: { createsPerMinute: 0, membersPerRoom: 0 } });
  const senders = [];
  for (let i = 0; i < members; i++) senders.push(core.join(peer, `127.0.0.1:${10_000 + i}`));
  for (let i = 0; i < others; i++) core.join(peer, `127.0.0.2:${10_000 + i}`);
  if (room) { for (const u of senders) core.rooms.join(u, "#bench", false); }
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) {
    const from = senders[i % members];
    if (room) core.rooms.say(from, "#bench", `m${i}`);
    else core.say(from, `m${i}`);
  }
  return ((performance.now() - t0) * 1000) / messages;
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 1000);
  const messages = Number(Deno.args[1] ?? 5000);
  const cases: [string, number, boolean][] = [
    [`lobby fan-out to ${n}`, 0, false],
    [`room of ${n}, nobody else`, 0, true],
    [`room of ${n} + ${n} in the lobby`, n, true],
    [`room of ${n} + ${10 * n} in the lobby`, 10 * n, true],
  ];
  // Three rounds, the median kept: the first warms the JIT, the machine may be shared.
  const rounds = cases.map(() => [] as number[]);
  for (let r = 0; r < 3; r++) {
    cases.forEach(([, others, room], i) => rounds[i].push(perMessage(n, others, room, messages)));
  }
  console.log(`| case | µs per message (median of 3) | µs per delivery |`);
  console.log(`| --- | --- | --- |`);
  cases.forEach(([what], i) => {
    const median = rounds[i].sort((a, b) => a - b)[1];
    console.log(`| ${what} | ${median.toFixed(1)} | ${(median / n).toFixed(3)} |`);
  });
  if (written === 0) throw new Error("nothing was delivered");
}
