import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { ChatCore, type CoreOptions } from "../../../lib/core/chat.ts";
import { ROOM_BACKLOG, validateRoom } from "../../../lib/core/rooms.ts";
import type { ChatEvent } from "../../../lib/protocol/events.ts";
import type { Peer, User } from "../../../lib/core/user.ts";
import { Store } from "../../../lib/store/sqlite.ts";

class FakePeer implements Peer {
  readonly events: ChatEvent[] = [];
  deliver(event: ChatEvent): void {
    this.events.push(event);
  }
  kick(): void {}
  take(): ChatEvent[] {
    return this.events.splice(0);
  }
}

function setup(n: number, options: CoreOptions = {}) {
  const core = new ChatCore({ clock: () => 1_000, ...options });
  const peers: FakePeer[] = [];
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const peer = new FakePeer();
    peers.push(peer);
    const user = core.join(peer, `127.0.0.1:${5000 + i}`);
    core.rename(user, `u${i}`);
    users.push(user);
  }
  for (const p of peers) p.take();
  return { core, peers, users };
}

/** A one-line summary of an event, to compare sequences. */
function brief(e: ChatEvent): string {
  if (e.kind === "public") return `${e.room ?? "lobby"} ${e.from}:${e.text}`;
  if (e.kind === "room") return `${e.room} ${e.event} ${e.name}`;
  return e.kind;
}

Deno.test("validateRoom: # and a name's characters, cleaned and trimmed", () => {
  deepStrictEqual(validateRoom(" #Dev.ops_1 "), { ok: true, name: "#Dev.ops_1" });
  for (const bad of ["dev", "#", "##x", "#a b", "#a|b", "#" + "x".repeat(33)]) {
    const r = validateRoom(bad);
    ok(!r.ok && r.code === "room_invalid", bad);
  }
  // Control characters are removed first, as for names.
  deepStrictEqual(validateRoom("#d\x1b[31mev"), { ok: true, name: "#dev" });
  deepStrictEqual(validateRoom("#a\u202eb"), { ok: true, name: "#ab" });
});

Deno.test("a room message reaches its members only, one event object for all", () => {
  const { core, peers, users } = setup(4);
  const rooms = core.rooms;
  ok(rooms.join(users[0], "#dev", false).ok);
  ok(rooms.join(users[1], "#DEV", false).ok);
  for (const p of peers) p.take();
  const sent = rooms.say(users[1], "#dev", "hi | all");
  ok(sent.ok);
  deepStrictEqual(peers.map((p) => p.events.map(brief)), [
    ["#dev u1:hi | all"],
    ["#dev u1:hi | all"],
    [],
    [],
  ]);
  strictEqual(peers[0].events[0], peers[1].events[0], "the same object: encoded once per dialect");
  const out = rooms.say(users[2], "#dev", "x");
  ok(!out.ok && out.code === "not_in_room");
});

Deno.test("creator is operator; only operators set topic, mode, invite, kick, op", () => {
  const { core, peers, users } = setup(3);
  const rooms = core.rooms;
  rooms.join(users[0], "#r", false);
  rooms.join(users[1], "#r", false);
  const r = rooms.get("#r")!;
  ok(rooms.isOperator(r, users[0]) && !rooms.isOperator(r, users[1]));
  for (
    const denied of [
      rooms.topic(users[1], "#r", "t"),
      rooms.mode(users[1], "#r", true),
      rooms.invite(users[1], "#r", "u2"),
      rooms.kick(users[1], "#r", "u0", "", false),
      rooms.op(users[1], "#r", "u1", false),
    ]
  ) ok(!denied.ok && denied.code === "not_room_operator");
  ok(rooms.op(users[0], "#r", "u1", false).ok);
  ok(rooms.topic(users[1], "#r", "now mine").ok);
  ok(rooms.mode(users[1], "#r", true).ok);
  for (const p of peers) p.take();
  const refused = rooms.join(users[2], "#r", false);
  ok(!refused.ok && refused.code === "invite_only");
  ok(rooms.invite(users[1], "#r", "U2").ok);
  deepStrictEqual(peers[2].take().map(brief), ["#r invited u2"]);
  ok(rooms.join(users[2], "#r", false).ok);
  ok(rooms.kick(users[1], "#r", "u2", "bye", false).ok);
  const again = rooms.join(users[2], "#r", false);
  ok(!again.ok && again.code === "invite_only", "the invite was used up");
  ok(rooms.join(users[2], "#r", true).ok, "admins pass invite-only");
});

Deno.test("a guest room disappears with its last member, by part or disconnect", () => {
  const { core, users } = setup(2);
  core.rooms.join(users[0], "#g", false);
  core.rooms.join(users[1], "#g", false);
  core.leave(users[0]);
  strictEqual(core.rooms.get("#g")?.members.size, 1);
  ok(core.rooms.part(users[1], "#g").ok);
  strictEqual(core.rooms.get("#g"), undefined);
  strictEqual(core.rooms.size, 0);
});

Deno.test("limits: rooms per user, members per room, rooms in all, creations per minute", () => {
  let now = 0;
  const { core, users } = setup(3, {
    clock: () => now,
    roomLimits: { roomsPerUser: 2, membersPerRoom: 2, maxRooms: 3, createsPerMinute: 2 },
  });
  const rooms = core.rooms;
  ok(rooms.join(users[0], "#a", false).ok);
  ok(rooms.join(users[0], "#b", false).ok);
  const many = rooms.join(users[0], "#c", false);
  ok(!many.ok && many.code === "too_many_rooms");
  ok(rooms.join(users[1], "#a", false).ok);
  const full = rooms.join(users[2], "#a", false);
  ok(!full.ok && full.code === "room_full");
  rooms.part(users[0], "#b");
  const fast = rooms.join(users[0], "#c", false);
  ok(!fast.ok && fast.code === "rate_limited" && fast.retryAfterMs === 60_000);
  now = 60_000;
  ok(rooms.join(users[0], "#c", false).ok);
  ok(rooms.join(users[2], "#d", false).ok);
  const server = rooms.join(users[2], "#e", false);
  ok(!server.ok && server.code === "server_rooms_full");
});

Deno.test("a registered member is stored, rejoined at login, and gets what it missed, paged", () => {
  const store = Store.open(":memory:");
  try {
    const options: CoreOptions = {
      reserveIds: (n) => store.reserveIds(n),
      onPublic: (e) => store.appendPublic(e),
      roomStore: store,
    };
    const { core, users } = setup(2, options);
    users[1].account = "u1";
    core.rooms.join(users[0], "#p", false);
    core.rooms.join(users[1], "#p", false);
    core.rooms.topic(users[0], "#p", "kept");
    core.leave(users[1]);
    for (let i = 0; i < ROOM_BACKLOG + 3; i++) core.rooms.say(users[0], "#p", `m${i}`);
    core.leave(users[0]);
    strictEqual(core.rooms.get("#p")?.members.size, 1, "the guest left, the account stays");

    // A new core on the same store: what a restart does.
    const again = setup(0, options).core;
    const room = again.rooms.get("#p")!;
    strictEqual(room.topic, "kept");
    const peer = new FakePeer();
    const back = again.join(peer, "127.0.0.1:6000");
    again.signIn(back, "u1", "u1");
    const events = again.rooms.rejoin(back);
    strictEqual(brief(events[0]), "#p joined u1");
    const missed = events.slice(1, 1 + ROOM_BACKLOG).map(brief);
    strictEqual(missed[0], "#p u0:m3");
    strictEqual(missed.at(-1), `#p u0:m${ROOM_BACKLOG + 2}`);
    const marker = events.at(-1)!;
    ok(marker.kind === "room" && marker.event === "unread" && marker.more === 3);
    deepStrictEqual(
      store.roomMessages("#p", 10, marker.before).map((m) => m.text),
      ["m0", "m1", "m2"],
    );
  } finally {
    store.close();
  }
});

Deno.test("a member that renamed away from its account still leaves the account's membership", () => {
  const { core, users } = setup(2);
  users[0].account = "u0";
  core.rooms.join(users[0], "#acc", false);
  core.rooms.join(users[1], "#acc", false);
  ok(core.rename(users[0], "other").ok);
  strictEqual(users[0].account, undefined, "renaming away ended the login");
  core.leave(users[0]);
  const room = core.rooms.get("#acc")!;
  strictEqual(room.online.size, 1);
  strictEqual(room.members.get("u0")?.users.size, 0, "the account stays a member, offline");
});

Deno.test("an account on several connections is in its rooms on all of them", () => {
  const { core, peers, users } = setup(3);
  // Two connections logged in as one account (what an account online twice looks like).
  users[0].account = "acc";
  users[1].account = "acc";
  core.rooms.rejoin(users[0]);
  core.rooms.rejoin(users[1]);
  ok(core.rooms.join(users[0], "#both", false).ok);
  ok(core.rooms.join(users[2], "#both", false).ok);
  for (const p of peers) p.take();
  ok(core.rooms.say(users[2], "#both", "to all of acc").ok);
  deepStrictEqual(peers.map((p) => p.take().map(brief)), [
    ["#both u2:to all of acc"],
    ["#both u2:to all of acc"],
    ["#both u2:to all of acc"],
  ]);
  ok(core.rooms.say(users[1], "#both", "from the other one").ok, "either connection may talk");
  ok(core.rooms.part(users[1], "#both").ok);
  for (const p of peers) p.take();
  core.rooms.say(users[2], "#both", "gone?");
  deepStrictEqual(peers.map((p) => p.take().length), [0, 0, 1], "parting took both out");
});
