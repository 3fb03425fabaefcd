import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Replica } from "../../../lib/cluster/replica.ts";
import { entryTime, type LogCommand, parseCommand } from "../../../lib/cluster/log.ts";
import type { Request } from "../../../lib/protocol/requests.ts";
import type { User } from "../../../lib/core/user.ts";
import type { ChatEvent } from "../../../lib/protocol/events.ts";
import { Logger } from "../../../lib/shared/log.ts";

const CONFIG = { historyOnJoin: 50, admins: [], maxQueueBytes: 1 << 20 };
const log = new Logger("silent");

/** A replica for node `node`, with no connections of its own. */
function replica(node: string): Replica {
  return new Replica(node, CONFIG, log, () => undefined);
}

const join = (node: string, cid: number): LogCommand => ({
  op: "join",
  node,
  cid,
  addr: `10.0.0.${cid}:${1000 + cid}`,
  ip: `10.0.0.${cid}`,
});
const req = (node: string, cid: number, seq: number, request: Request) =>
  ({ op: "req", node, cid, seq, request }) as LogCommand;

Deno.test("replica: two replicas applying one log agree on names, who and message ids", () => {
  const entries: LogCommand[] = [
    join("a", 1),
    join("b", 2),
    join("c", 3),
    // Three nodes ask for the same name at once: the first in the log wins everywhere.
    req("b", 2, 1, { type: "rename", name: "Neo" }),
    req("a", 1, 1, { type: "rename", name: "neo" }),
    req("c", 3, 1, { type: "rename", name: "NEO" }),
    req("a", 1, 2, { type: "say", text: "hello" }),
  ];
  const results = ["a", "b", "x"].map((node) => {
    const r = replica(node);
    const replies = entries.map((c, i) => r.apply(c, 1_000 + i)?.reply);
    return { replies, who: r.core.who().map((u) => u.name), history: r.store.recentPublic(10) };
  });
  deepStrictEqual(results[1], results[0]);
  deepStrictEqual(results[2], results[0]);
  const [renameB, renameA, renameC, said] = results[0].replies.slice(3);
  strictEqual(renameB?.ok, true);
  deepStrictEqual([renameA?.ok, renameC?.ok], [false, false]);
  deepStrictEqual(results[0].who, ["10.0.0.1:1001", "Neo", "10.0.0.3:1003"]);
  // The entry's time is the message's time, the same on every node.
  strictEqual(results[0].history[0].ts, 1_006);
  strictEqual(said?.ok && said.msgId, results[0].history[0].msgId);
});

Deno.test("replica: down takes a node's users offline; a local user gets the events", () => {
  const seen: ChatEvent[] = [];
  const held: { user?: User } = {};
  const mine = new Replica(
    "a",
    CONFIG,
    log,
    (cid) =>
      held.user && cid === held.user.id
        ? { user: held.user, ip: "10.0.0.7", sendsAcks: true, closing: false }
        : undefined,
  );
  const local: User = held.user = mine.newUser("10.0.0.7:7", {
    deliver: (e: ChatEvent) => seen.push(e),
    kick() {},
  });
  mine.apply({ op: "join", node: "a", cid: local.id, addr: local.addr, ip: "10.0.0.7" }, 1);
  mine.apply(join("b", 1), 2);
  mine.apply(join("b", 2), 3);
  mine.apply({ op: "down", node: "b" }, 4);
  strictEqual(mine.core.who().length, 1);
  deepStrictEqual(mine.nodes(), ["a"]);
  deepStrictEqual(
    seen.filter((e) => e.kind === "presence").map((e) => e.kind === "presence" && e.event),
    ["online", "online", "online", "offline", "offline"],
  );
});

Deno.test("log: entries are parsed or skipped, never thrown on", () => {
  deepStrictEqual(parseCommand(["c", '{"op":"down","node":"n"}']), { op: "down", node: "n" });
  strictEqual(parseCommand(["c", "not json"]), undefined);
  strictEqual(parseCommand(["x", '{"op":"down","node":"n"}']), undefined);
  strictEqual(parseCommand(["c", '{"node":"n"}']), undefined);
  strictEqual(entryTime("1795927064318-3"), 1795927064318);
});
