import assert from "node:assert/strict";
import { isLobby, LOBBY, roomArg, roomOf, RoomState } from "../../../lib/client/rooms.ts";
import type { Frame } from "../../../lib/client/render.ts";

const frame = (f: Record<string, unknown>) => f as Frame;
const said = (room: string | undefined, from: string, extra: Record<string, unknown> = {}) =>
  frame({ type: "public", from, text: "x", ...(room ? { room } : {}), ...extra });

Deno.test("client rooms: room arguments and names", () => {
  assert.equal(roomArg("dev"), "#dev");
  assert.equal(roomArg("  #Dev "), "#Dev");
  assert.ok(isLobby("#LOBBY"));
  assert.ok(!isLobby("#lobby2"));
  assert.equal(roomOf(frame({ type: "public" })), LOBBY);
  assert.equal(roomOf(frame({ type: "public", room: "#d\x1b[2Jev" })), "#dev");
});

Deno.test("client rooms: the welcome's snapshot says which rooms the client is in", () => {
  const rooms = new RoomState();
  assert.deepEqual(rooms.reset(frame({ type: "welcome" })), []);
  assert.deepEqual(rooms.joined, []);
  rooms.reset(
    frame({ type: "welcome", rooms: [{ room: "#dev" }, null, { room: 5 }, { room: "#ops" }] }),
  );
  assert.deepEqual(rooms.joined, ["#dev", "#ops"]);
  assert.equal(rooms.current, LOBBY);
  assert.ok(rooms.inLobby);
});

Deno.test("client rooms: switching is for rooms joined; the lobby is always one", () => {
  const rooms = new RoomState();
  assert.equal(rooms.switchTo("#dev"), false);
  assert.equal(rooms.current, LOBBY);
  rooms.join("#Dev");
  assert.ok(rooms.switchTo("#dev"));
  assert.equal(rooms.current, "#Dev", "shown as the server spelt it");
  assert.ok(rooms.isCurrent("#DEV"));
  assert.ok(rooms.switchTo("#Lobby"));
  assert.equal(rooms.current, LOBBY);
  rooms.join("#lobby"); // never listed as a room of its own
  assert.deepEqual(rooms.joined, ["#Dev"]);
});

Deno.test("client rooms: messages elsewhere count as unread until switched to", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.join("#ops");
  rooms.switchTo("#dev");
  assert.equal(rooms.apply(said("#dev", "bob"), "alice"), false, "the current room is read");
  assert.ok(rooms.apply(said("#ops", "bob"), "alice"));
  rooms.apply(said("#ops", "carol"), "alice");
  rooms.apply(said(undefined, "bob"), "alice"); // the lobby
  rooms.apply(said("#ops", "Alice"), "alice"); // one's own (from another connection)
  rooms.apply(said("#elsewhere", "bob"), "alice"); // not a member: not counted
  assert.deepEqual(rooms.unread, [{ room: "#ops", count: 2 }, { room: LOBBY, count: 1 }]);
  rooms.switchTo("#ops");
  assert.deepEqual(rooms.unread, [{ room: LOBBY, count: 1 }]);
  rooms.switchTo(LOBBY);
  assert.deepEqual(rooms.unread, []);
});

Deno.test("client rooms: a room's backlog at login is unread, the lobby's is not", () => {
  const rooms = new RoomState();
  rooms.reset(frame({ type: "welcome", rooms: [{ room: "#dev" }] }));
  rooms.apply(said(undefined, "bob", { history: true }), "alice");
  rooms.apply(said("#dev", "bob", { history: true }), "alice");
  rooms.apply(frame({ type: "room", room: "#dev", event: "unread", more: 70, before: 9 }), "alice");
  assert.deepEqual(rooms.unread, [{ room: "#dev", count: 71 }]);
});

Deno.test("client rooms: joined, kicked and closed events change the rooms", () => {
  const rooms = new RoomState();
  const event = (e: Record<string, unknown>) => frame({ type: "room", room: "#dev", ...e });
  assert.equal(rooms.apply(event({ event: "joined", name: "bob" }), "alice"), false);
  assert.deepEqual(rooms.joined, []);
  assert.ok(rooms.apply(event({ event: "joined", name: "Alice" }), "alice"), "a login rejoins");
  assert.deepEqual(rooms.joined, ["#dev"]);
  rooms.switchTo("#dev");
  rooms.apply(event({ event: "kicked", name: "bob", by: "alice" }), "alice");
  assert.equal(rooms.current, "#dev", "someone else was kicked");
  rooms.apply(event({ event: "kicked", name: "alice", by: "carol" }), "alice");
  assert.deepEqual(rooms.joined, []);
  assert.equal(rooms.current, LOBBY, "kicked out of the current room: back to the lobby");
  rooms.join("#dev");
  rooms.apply(said("#dev", "bob"), "alice");
  rooms.apply(event({ event: "closed", name: "admin" }), "alice");
  assert.deepEqual([rooms.joined, rooms.unread], [[], []]);
});

Deno.test("client rooms: after a reconnect, rooms not in the new welcome are returned to rejoin", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.join("#ops");
  rooms.switchTo("#ops");
  rooms.apply(said("#dev", "bob"), "alice");
  const lost = rooms.reset(frame({ type: "welcome", rooms: [{ room: "#dev" }] }));
  assert.deepEqual(lost, ["#ops"]);
  assert.equal(rooms.current, LOBBY, "until #ops is joined again");
  assert.deepEqual(rooms.unread, [{ room: "#dev", count: 1 }], "kept for a room still joined");
  rooms.join("#ops");
  assert.ok(rooms.switchTo("#ops"));
});

Deno.test("client rooms: leaving the current room goes back to the lobby", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.switchTo("#dev");
  rooms.leave("#lobby"); // ignored
  assert.equal(rooms.current, "#dev");
  rooms.leave("#DEV");
  assert.equal(rooms.current, LOBBY);
  assert.equal(rooms.isMember("#dev"), false);
});

const at = (room: string | undefined, from: string, msgId: number, extra = {}) =>
  said(room, from, { msgId, ...extra });

Deno.test("client rooms: the account's markers seed the counts; rooms without one keep theirs", () => {
  const rooms = new RoomState();
  rooms.reset(frame({ type: "welcome", rooms: [{ room: "#dev" }, { room: "#ops" }] }));
  rooms.apply(at("#ops", "bob", 3), "alice");
  rooms.apply(at("#dev", "bob", 4), "alice");
  assert.ok(
    rooms.seed([
      { target: "#Dev", msgId: 1, unread: 7 }, // missed while no device was online
      { target: "#lobby", msgId: 2, unread: 5 }, // the current room: being read
      { target: "#gone", msgId: 1, unread: 2 }, // left since
      { target: "private", msgId: 1, unread: 1 }, // not a room
    ]),
  );
  assert.deepEqual(rooms.unread, [{ room: "#ops", count: 1 }, { room: "#dev", count: 7 }]);
  assert.equal(rooms.seed([{ target: "#dev", msgId: 1, unread: 7 }]), false, "nothing changed");
});

Deno.test("client rooms: a marker moved on another device sets the count, 0 clears it", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.apply(at("#dev", "bob", 10), "alice");
  rooms.apply(at("#dev", "bob", 11), "alice");
  assert.deepEqual(rooms.unread, [{ room: "#dev", count: 2 }]);
  const moved = (msgId: number, unread: number) =>
    rooms.apply(frame({ type: "marker", target: "#dev", msgId, unread }), "alice");
  assert.ok(moved(10, 1));
  assert.deepEqual(rooms.unread, [{ room: "#dev", count: 1 }]);
  assert.ok(moved(11, 0));
  assert.deepEqual(rooms.unread, []);
  assert.equal(moved(11, 0), false);
  // Malformed markers change nothing.
  for (const bad of [{ msgId: "x", unread: 1 }, { msgId: 1, unread: -1 }, { unread: 1 }]) {
    assert.equal(rooms.apply(frame({ type: "marker", target: "#dev", ...bad }), "alice"), false);
  }
  assert.deepEqual(rooms.unread, []);
});

Deno.test("client rooms: reading moves markers forward only, once per room", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.seed([{ target: "#dev", msgId: 5, unread: 0 }]);
  assert.deepEqual(rooms.dueMarks(), [], "nothing read yet");
  rooms.apply(at(undefined, "bob", 6), "alice"); // shown in the current room (the lobby)
  rooms.apply(at(undefined, "bob", 7), "alice");
  rooms.apply(at("#dev", "bob", 8), "alice"); // another room: unread, not read
  assert.deepEqual(rooms.dueMarks(), [{ room: LOBBY, msgId: 7 }], "the newest shown, once");
  assert.deepEqual(rooms.dueMarks(), [], "taken as sent");
  assert.deepEqual(rooms.unread, [{ room: "#dev", count: 1 }]);
  rooms.switchTo("#dev"); // switching reads what was seen there
  assert.deepEqual(rooms.dueMarks(), [{ room: "#dev", msgId: 8 }]);
  // Another device's older marker for a room read further here: its count is not taken.
  rooms.switchTo(LOBBY);
  assert.equal(rooms.follow({ target: "#dev", msgId: 6, unread: 2 }), false);
  assert.deepEqual(rooms.unread, []);
  // A reconnect's seed says the server has less than was sent (a mark lost): due again.
  rooms.reset(frame({ type: "welcome", rooms: [{ room: "#dev" }] }));
  rooms.seed([{ target: "#dev", msgId: 5, unread: 3 }, { target: "#lobby", msgId: 7, unread: 0 }]);
  assert.deepEqual(rooms.dueMarks(), [{ room: "#dev", msgId: 8 }]);
});

Deno.test("client rooms: a room left forgets its marker and what was read", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.switchTo("#dev");
  rooms.apply(at("#dev", "bob", 3), "alice");
  rooms.leave("#dev");
  assert.deepEqual(rooms.dueMarks(), []);
  assert.equal(rooms.follow({ target: "#dev", msgId: 3, unread: 4 }), false);
  assert.deepEqual(rooms.unread, []);
});

Deno.test("client rooms: a room read up to an id named by the server (never seen here)", () => {
  const rooms = new RoomState();
  rooms.join("#dev");
  rooms.seed([{ target: "#dev", msgId: 2, unread: 4 }]);
  assert.equal(rooms.unreadIn("#DEV"), 4);
  rooms.switchTo("#dev");
  assert.equal(rooms.unreadIn("#dev"), 0);
  assert.deepEqual(rooms.dueMarks(), [], "nothing of #dev was seen here");
  rooms.readUpTo("#dev", 9);
  rooms.readUpTo("#ops", 9); // not a member: ignored
  assert.deepEqual(rooms.dueMarks(), [{ room: "#dev", msgId: 9 }]);
});
