/**
 * The hub and its edges wired together in one thread, with structured clone standing in for
 * `postMessage`: the bus protocol's promises (order, batching, backpressure, clean-up) without
 * threads or sockets.
 *
 * @module
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { EdgeMessage, HubMessage } from "../../../../lib/server/workers/bus.ts";
import type { Requester } from "../../../../lib/core/dispatcher.ts";
import { EdgeGateway, MAX_PENDING_REPLIES } from "../../../../lib/server/workers/edge.ts";
import type { ChatEvent, KickCode } from "../../../../lib/protocol/events.ts";
import { Hub } from "../../../../lib/server/workers/hub.ts";
import { Logger } from "../../../../lib/shared/log.ts";
import type { Reply, Request } from "../../../../lib/protocol/requests.ts";
import { openBackend } from "../../../../lib/server/backend.ts";
import type { User } from "../../../../lib/core/user.ts";

/** A connection on an edge, recording what it is sent. */
class FakeConnection implements Requester {
  user!: User;
  readonly events: ChatEvent[] = [];
  readonly kicks: KickCode[] = [];
  readonly replies: Reply[] = [];
  sendsAcks = true;
  closing = false;

  constructor(readonly chat: EdgeGateway, readonly ip = "127.0.0.1", n = 0) {
    this.user = chat.join(this, `${ip}:${5000 + n}`, ip);
  }

  deliver(event: ChatEvent): void {
    this.events.push(event);
  }

  kick(code: KickCode): void {
    this.kicks.push(code);
  }

  send(request: Request): Promise<void> | void {
    return this.chat.execute(this, request, (reply) => this.replies.push(reply));
  }
}

/** Lets every message in flight on the bus arrive (each hop is a macrotask, as across threads). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
}

function setup(edges = 2, conns = { maxConns: 0, maxConnsPerIp: 0, connsPerMinute: 0 }) {
  const backend = openBackend({
    dbPath: ":memory:",
    historyOnJoin: 0,
    admins: [],
    maxQueueBytes: 1 << 20,
    conns,
  }, new Logger("silent"));
  const hub = new Hub(backend.chat, backend.gate, new Logger("silent"));
  const posted = { toHub: 0, toEdges: 0 };
  const gateways = Array.from({ length: edges }, (_, index) => {
    const edge: { chat?: EdgeGateway } = {};
    const link = hub.attach(index, (items: HubMessage[]) => {
      posted.toEdges++;
      const copy = structuredClone(items);
      setTimeout(() => edge.chat!.receive(copy), 0);
    });
    const chat = edge.chat = new EdgeGateway((items: EdgeMessage[]) => {
      posted.toHub++;
      const copy = structuredClone(items);
      setTimeout(() => hub.receive(link, copy), 0);
    });
    return { chat, link };
  });
  return { backend, hub, gateways, posted };
}

Deno.test("bus: a broadcast reaches users on every edge, one message per edge, one event object each", async () => {
  const { gateways, posted, backend } = setup(2);
  const conns = [0, 1, 2, 3].map((n) => new FakeConnection(gateways[n % 2].chat, "127.0.0.1", n));
  await settle();
  for (const c of conns) c.events.splice(0);
  strictEqual(backend.core.size, 4);
  const before = posted.toEdges;
  conns[0].send({ type: "say", text: "hello, everyone" });
  await settle();
  for (const c of conns) {
    deepStrictEqual(c.events.map((e) => e.kind === "public" && e.text), ["hello, everyone"]);
  }
  // The two users on an edge share one copy of the event, so it is encoded once per edge.
  strictEqual(conns[0].events[0], conns[2].events[0]);
  strictEqual(conns[1].events[0], conns[3].events[0]);
  // One batch per edge for the broadcast, and the reply in its own after the group commit.
  strictEqual(posted.toEdges - before, 3);
  strictEqual(conns[0].replies.length, 1);
  ok(conns[0].replies[0].ok);
});

Deno.test("bus: joined resolves after the newcomer's own announcement; renames reach the edge's copy", async () => {
  const { gateways } = setup(1);
  const c = new FakeConnection(gateways[0].chat);
  strictEqual(c.events.length, 0);
  await gateways[0].chat.joined(c);
  deepStrictEqual(c.events.map((e) => e.kind === "presence" && e.event), ["online"]);
  c.send({ type: "rename", name: "alice" });
  await settle();
  strictEqual(c.user.name, "alice", "the reply carries the new name");
});

Deno.test("bus: replies keep request order around a reply the edge decides itself", async () => {
  const { gateways } = setup(1);
  const c = new FakeConnection(gateways[0].chat);
  await settle();
  c.send({ type: "who" });
  gateways[0].chat.respond(
    c,
    { type: "say", text: "x" },
    { ok: false, code: "rate_limited", message: "slow down" },
    (reply) => c.replies.push(reply),
  );
  c.send({ type: "ping" });
  strictEqual(c.replies.length, 0, "the edge's own reply waits for the hub's before it");
  await settle();
  deepStrictEqual(c.replies.map((r) => r.ok ? "ok" : r.code), ["ok", "rate_limited", "ok"]);
  ok(c.replies[0].ok && c.replies[0].users?.length === 1, "the first is who's");
});

Deno.test("bus: a connection stops reading at MAX_PENDING_REPLIES requests and resumes at half", async () => {
  const { gateways } = setup(1);
  const c = new FakeConnection(gateways[0].chat);
  await settle();
  const pauses: (Promise<void> | void)[] = [];
  for (let i = 0; i < MAX_PENDING_REPLIES; i++) pauses.push(c.send({ type: "ping" }));
  strictEqual(pauses.filter((p) => p instanceof Promise).length, 1, "only the last one pauses");
  ok(pauses.at(-1) instanceof Promise);
  await pauses.at(-1);
  strictEqual(c.replies.length, MAX_PENDING_REPLIES);
});

Deno.test("bus: leaving wakes a connection that waits for a password check", async () => {
  const { gateways, backend } = setup(1);
  const c = new FakeConnection(gateways[0].chat);
  await settle();
  const waiting = c.send({ type: "login", name: "nobody", password: "not a password" });
  ok(waiting instanceof Promise, "a password check pauses reading");
  c.closing = true;
  await gateways[0].chat.leave(c, false);
  await waiting;
  strictEqual(backend.core.size, 0);
  strictEqual(gateways[0].chat.size, 0);
});

Deno.test("bus: the hub's gate counts every edge, and frees the slots of an edge that failed", async () => {
  const { gateways, hub } = setup(2, { maxConns: 2, maxConnsPerIp: 0, connsPerMinute: 0 });
  const [a, b] = gateways;
  const first = await a.chat.gate.admit("127.0.0.1", Date.now());
  const second = await b.chat.gate.admit("127.0.0.1", Date.now());
  const third = await b.chat.gate.admit("127.0.0.1", Date.now());
  deepStrictEqual([first.ok, second.ok, third.ok], [true, true, false]);
  if (!third.ok) strictEqual(third.message, "server is full, try again later");
  // Edge a fails: its connection's slot is freed, and its users go offline.
  const gone = new FakeConnection(a.chat);
  const watcher = new FakeConnection(b.chat, "127.0.0.1", 1);
  await settle();
  watcher.events.splice(0);
  hub.detach(a.link);
  await settle();
  deepStrictEqual(watcher.events.map((e) => e.kind === "presence" && e.event), ["offline"]);
  strictEqual((await b.chat.gate.admit("127.0.0.1", Date.now())).ok, true);
  ok(gone);
});
