import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { ChatCore } from "../../../lib/core/chat.ts";
import { IMMEDIATE_DELIVERIES, PresenceFeed } from "../../../lib/core/presence_feed.ts";
import { type Peer, User } from "../../../lib/core/user.ts";
import type { ChatEvent, PresenceEvent, PublicEvent } from "../../../lib/protocol/events.ts";

/** A Peer that records every event it is handed. */
class FakePeer implements Peer {
  readonly events: ChatEvent[] = [];
  deliver(event: ChatEvent): void {
    this.events.push(event);
  }
  kick(): void {}
}

/** Callbacks the feed asked to run later, run by the test when it chooses. */
class Later {
  readonly queue: (() => void)[] = [];
  readonly later = (fn: () => void) => {
    this.queue.push(fn);
  };
  /** Runs callbacks until none waits; returns how many ran. */
  drain(): number {
    let n = 0;
    for (let fn = this.queue.shift(); fn !== undefined; fn = this.queue.shift()) {
      fn();
      n++;
    }
    return n;
  }
}

/** What a peer heard, as "event name" strings. */
function heard(peer: FakePeer): string[] {
  return peer.events.map((e) =>
    e.kind === "presence"
      ? `${e.event} ${e.name}`
      : e.kind === "public"
      ? `public ${e.text}`
      : e.kind
  );
}

function presence(event: PresenceEvent["event"], name: string, msgId: number): PresenceEvent {
  return { kind: "presence", msgId, ts: 0, event, name, addr: name, wire: [] };
}

/** A feed over a list of users, with a small budget so that the log is easy to reach. */
function feedOf(immediateDeliveries: number, sliceDeliveries = 1000, maxLogged = 1000) {
  const users: User[] = [];
  const later = new Later();
  let now = 0;
  const feed = new PresenceFeed({
    users: () => users,
    count: () => users.length,
    clock: () => now,
    later: later.later,
    immediateDeliveries,
    sliceDeliveries,
    maxLogged,
  });
  let msgId = 0;
  const join = (name: string) => {
    const peer = new FakePeer();
    const user = new User(users.length + 1, name, peer);
    users.push(user);
    user.feed = feed;
    feed.joined(user);
    feed.announce(presence("online", name, ++msgId));
    return { user, peer };
  };
  return { feed, later, join, tick: (ms: number) => now += ms };
}

Deno.test("presence feed: under the budget every announcement is delivered at once", () => {
  const { feed, later, join } = feedOf(100);
  const a = join("a");
  const b = join("b");
  const c = join("c");
  strictEqual(feed.pending, 0);
  strictEqual(later.queue.length, 0);
  deepStrictEqual(heard(a.peer), ["online a", "online b", "online c"]);
  deepStrictEqual(heard(b.peer), ["online b", "online c"]);
  deepStrictEqual(heard(c.peer), ["online c"]);
});

Deno.test("presence feed: past the budget announcements wait in the log, then all arrive in order", () => {
  // 1 + 2 + 3 deliveries fit in 6; the 4th and later joins are logged.
  const { feed, later, join } = feedOf(6, 3);
  const names = ["a", "b", "c", "d", "e", "f"];
  const joined = names.map(join);
  strictEqual(feed.pending, 3);
  deepStrictEqual(heard(joined[0].peer), ["online a", "online b", "online c"]);
  deepStrictEqual(heard(joined[5].peer), []);
  ok(later.drain() > 1, "the pump ran in several slices");
  strictEqual(feed.pending, 0, "the log is emptied once everyone has it all");
  joined.forEach(({ peer }, k) => {
    deepStrictEqual(heard(peer), names.slice(k).map((n) => `online ${n}`), `user ${k}`);
  });
});

Deno.test("presence feed: anything else for a user first takes along what waits for it", () => {
  const { feed, later, join } = feedOf(3, 1);
  const a = join("a");
  const b = join("b");
  join("c");
  join("d");
  strictEqual(feed.pending, 2);
  const say: PublicEvent = {
    kind: "public",
    msgId: 99,
    ts: 0,
    from: "b",
    fromAddr: "b",
    text: "hi",
    wire: [],
  };
  a.user.deliver(say);
  deepStrictEqual(heard(a.peer), ["online a", "online b", "online c", "online d", "public hi"]);
  // A request of b's own: the core catches b up before answering it.
  strictEqual(feed.catchUp(b.user), 2);
  strictEqual(feed.catchUp(b.user), 0, "nothing is handed twice");
  later.drain();
  deepStrictEqual(heard(a.peer), ["online a", "online b", "online c", "online d", "public hi"]);
  deepStrictEqual(heard(b.peer), ["online b", "online c", "online d"]);
});

Deno.test("presence feed: an event with an exception skips that user, also from the log", () => {
  const { feed, later, join } = feedOf(1);
  const a = join("a");
  const b = join("b");
  strictEqual(feed.pending, 1);
  feed.announce(presence("renamed", "bob", 50), b.user);
  later.drain();
  deepStrictEqual(heard(a.peer), ["online a", "online b", "renamed bob"]);
  deepStrictEqual(heard(b.peer), ["online b"]);
});

Deno.test("presence feed: announcing is immediate again once the log is done and the window passed", () => {
  const { feed, later, join, tick } = feedOf(5);
  join("a");
  join("b");
  join("c");
  strictEqual(feed.pending, 1);
  later.drain();
  strictEqual(feed.pending, 0);
  const d = join("d");
  strictEqual(feed.pending, 1, "the window's budget is spent");
  later.drain();
  tick(1000);
  const e = join("e");
  strictEqual(feed.pending, 0);
  deepStrictEqual(heard(d.peer), ["online d", "online e"]);
  deepStrictEqual(heard(e.peer), ["online e"]);
});

Deno.test("presence feed: the log is bounded; when full, everyone is caught up at once", () => {
  // Nothing at once (budget 0), at most 3 events logged.
  const { feed, later, join } = feedOf(0, 1000, 3);
  const a = join("a");
  const b = join("b");
  strictEqual(feed.pending, 2);
  deepStrictEqual(heard(a.peer), []);
  const c = join("c");
  strictEqual(feed.pending, 0, "the third fills the log: it is handed out in this turn");
  deepStrictEqual(heard(a.peer), ["online a", "online b", "online c"]);
  deepStrictEqual(heard(b.peer), ["online b", "online c"]);
  deepStrictEqual(heard(c.peer), ["online c"]);
  join("d");
  strictEqual(feed.pending, 1);
  later.drain();
  deepStrictEqual(heard(a.peer), ["online a", "online b", "online c", "online d"]);
});

Deno.test("chat core: a connect storm is announced through the log, none lost or reordered", () => {
  const later = new Later();
  const core = new ChatCore({ clock: () => 1_000, later: later.later });
  // n joins cost n(n+1)/2 deliveries: enough to pass the budget.
  const n = Math.ceil(Math.sqrt(2 * IMMEDIATE_DELIVERIES)) + 100;
  const peers: FakePeer[] = [];
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const peer = new FakePeer();
    peers.push(peer);
    users.push(core.join(peer, `10.0.0.1:${1000 + i}`));
  }
  ok(core.presencePending > 0, "the last joins waited in the log");
  // Someone leaves and someone speaks while the log is not yet handed out.
  core.leave(users[1]);
  core.say(users[0], "storm over?");
  later.drain();
  strictEqual(core.presencePending, 0);
  const expected = (k: number) => [
    ...users.slice(k).map((u) => `online ${u.name}`),
    `offline ${users[1].name}`,
    "public storm over?",
  ];
  for (const k of [0, 2, 500, n - 1]) deepStrictEqual(heard(peers[k]), expected(k), `user ${k}`);
  // The one who left is gone: it heard, in order, what was handed out before it left.
  const left = heard(peers[1]);
  deepStrictEqual(left, users.slice(1, 1 + left.length).map((u) => `online ${u.name}`));
  for (const peer of peers) {
    const ids = peer.events.map((e) => (e as { msgId: number }).msgId);
    deepStrictEqual(ids, [...ids].sort((x, y) => x - y), "msgIds rise for every user");
  }
});
