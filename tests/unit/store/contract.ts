/**
 * The behaviour every `ChatStorage` must have, as tests to run against each implementation
 * (storage_contract_test.ts runs them for SQLite and for memory).
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { ChatStorage } from "../../../lib/core/storage.ts";
import { nameSkeletons } from "../../../lib/shared/names.ts";

export const msg = (msgId: number, text = `m${msgId}`) => ({
  msgId,
  ts: 1_000 + msgId,
  from: "alice",
  fromAddr: "127.0.0.1:5000",
  text,
});

/** One macrotask: when a group commit started in this turn has run. */
const nextTask = () => new Promise((r) => setTimeout(r, 0));

/** Registers the contract's tests for the storage `open` makes, under `name`. */
export function storageContract(name: string, open: () => ChatStorage): void {
  const test = (what: string, fn: (store: ChatStorage) => void | Promise<void>) =>
    Deno.test(`${name}: ${what}`, async () => {
      const store = open();
      try {
        await fn(store);
      } finally {
        store.close();
      }
    });

  test("public history comes oldest first, the newest `limit`, paged by before-id", (store) => {
    for (let i = 1; i <= 10; i++) store.appendPublic(msg(i));
    deepStrictEqual(store.recentPublic(3).map((m) => m.msgId), [8, 9, 10]);
    deepStrictEqual(store.recentPublic(3, 8).map((m) => m.msgId), [5, 6, 7]);
    deepStrictEqual(store.recentPublic(3, 2), [msg(1)]);
    deepStrictEqual(store.recentPublic(0), []);
    deepStrictEqual(store.recentPublic(100).length, 10);
  });

  test("a returned message is a copy: changing it changes nothing stored", (store) => {
    store.appendPublic(msg(1));
    store.recentPublic(1)[0].text = "changed";
    strictEqual(store.recentPublic(1)[0].text, "m1");
  });

  test("one turn's writes are committed together; afterCommit waits for that", async (store) => {
    const order: string[] = [];
    strictEqual(store.pending, false);
    store.appendPublic(msg(1));
    store.appendInbox({ msgId: 2, ts: 2, from: "bob", to: "Carol", text: "x" }, "carol");
    strictEqual(store.pending, true);
    store.afterCommit((e) => order.push(`a:${e ?? "ok"}`));
    store.afterCommit((e) => order.push(`b:${e ?? "ok"}`));
    // Reads see the writes at once; the waiters wait for the commit.
    strictEqual(store.recentPublic(5).length, 1);
    deepStrictEqual(order, []);
    await nextTask();
    deepStrictEqual(order, ["a:ok", "b:ok"]);
    strictEqual(store.pending, false);
    // With nothing pending, a waiter runs at once.
    let now = false;
    store.afterCommit(() => now = true);
    strictEqual(now, true);
  });

  Deno.test(`${name}: close commits what is pending and calls its waiters`, () => {
    const store = open();
    let committed = false;
    store.appendPublic(msg(1));
    store.afterCommit(() => committed = true);
    store.close();
    strictEqual(committed, true);
  });

  test("reserved ids are never handed out twice", (store) => {
    const first = store.reserveIds(1000);
    const second = store.reserveIds(1000);
    strictEqual(second, first + 1000);
    const third = store.reserveIds(1);
    strictEqual(third, first + 2000);
    ok(first >= 1);
  });

  test("the inbox keeps messages per recipient, oldest first, until removed", (store) => {
    store.appendInbox({ msgId: 5, ts: 5, from: "bob", to: "Alice", text: "one" }, "alice");
    store.appendInbox({ msgId: 6, ts: 6, from: "bob", to: "carol", text: "x" }, "carol");
    store.appendInbox({ msgId: 7, ts: 7, from: "dan", to: "Alice", text: "two" }, "alice");
    deepStrictEqual(store.inbox("alice").map((m) => [m.msgId, m.from, m.to, m.text]), [
      [5, "bob", "Alice", "one"],
      [7, "dan", "Alice", "two"],
    ]);
    strictEqual(store.inboxSize("alice"), 2);
    strictEqual(store.inboxSize("nobody"), 0);
    deepStrictEqual(store.inbox("nobody"), []);
    // Only the recipient's own ids are removed.
    store.removeFromInbox("alice", [5, 6]);
    deepStrictEqual(store.inbox("alice").map((m) => m.msgId), [7]);
    deepStrictEqual(store.inbox("carol").map((m) => m.msgId), [6]);
    store.removeFromInbox("alice", []);
    strictEqual(store.inboxSize("alice"), 1);
  });

  test("an account is found by the look-alike keys of its name", (store) => {
    const salt = new Uint8Array([1]);
    store.putAccount({ key: "alice", name: "Alice", salt, hash: salt });
    deepStrictEqual(store.accountLookingLike(nameSkeletons("aIice")), {
      key: "alice",
      name: "Alice",
    });
    strictEqual(store.accountLookingLike(nameSkeletons("\u0430lice"))?.key, "alice");
    strictEqual(store.accountLookingLike(nameSkeletons("bob")), undefined);
  });

  test("accounts are created, and a replacement changes the password, not the name", (store) => {
    strictEqual(store.account("alice"), undefined);
    const salt = new Uint8Array([1, 2, 3]);
    store.putAccount({ key: "alice", name: "Alice", salt, hash: new Uint8Array([9]) });
    deepStrictEqual(store.account("alice")?.name, "Alice");
    store.putAccount({ key: "alice", name: "ALICE", salt, hash: new Uint8Array([7]) });
    deepStrictEqual([...store.account("alice")!.hash], [7]);
    strictEqual(store.account("alice")?.name, "Alice");
    deepStrictEqual([...store.account("alice")!.salt], [1, 2, 3]);
  });

  test("bans are added, replaced by target, listed and removed", (store) => {
    deepStrictEqual(store.bans(), []);
    store.putBan({ kind: "name", target: "mallory", until: null, reason: "spam" });
    store.putBan({ kind: "ip", target: "10.0.0.7", until: 5_000, reason: "" });
    store.putBan({ kind: "name", target: "mallory", until: 9_000, reason: "again" });
    const sorted = store.bans().sort((a, b) => a.target.localeCompare(b.target));
    deepStrictEqual(sorted, [
      { kind: "ip", target: "10.0.0.7", until: 5_000, reason: "" },
      { kind: "name", target: "mallory", until: 9_000, reason: "again" },
    ]);
    store.removeBan("mallory");
    deepStrictEqual(store.bans().map((b) => b.target), ["10.0.0.7"]);
  });

  test("room messages are kept apart from the lobby's, paged both ways, counted", (store) => {
    store.appendPublic(msg(1));
    for (let i = 2; i <= 8; i++) store.appendPublic({ ...msg(i), room: "#Dev" });
    store.appendPublic({ ...msg(9), room: "#other" });
    deepStrictEqual(store.recentPublic(10).map((m) => m.msgId), [1], "the lobby sees no room");
    deepStrictEqual(store.roomMessages("#dev", 3).map((m) => m.msgId), [6, 7, 8]);
    deepStrictEqual(store.roomMessages("#dev", 3, 6).map((m) => m.msgId), [3, 4, 5]);
    deepStrictEqual(store.roomMessages("#dev", 10, undefined, 5).map((m) => m.msgId), [6, 7, 8]);
    deepStrictEqual(Object.keys(store.roomMessages("#dev", 1)[0]).sort(), [
      "from",
      "fromAddr",
      "msgId",
      "text",
      "ts",
    ]);
    strictEqual(store.roomMessageCount("#dev", 2), 6);
    strictEqual(store.roomMessageCount("#dev", 2, 6), 3);
    store.deleteRoomHistory("#dev");
    deepStrictEqual(store.roomMessages("#dev", 10), []);
    deepStrictEqual(store.roomMessages("#other", 10).map((m) => m.msgId), [9]);
  });

  test("rooms keep their fields, members, operators and invites until deleted", (store) => {
    store.putRoom({ key: "#dev", name: "#Dev", topic: "", inviteOnly: false });
    store.putRoomMember("#dev", "alice", 5);
    store.putRoomMember("#dev", "bob", 6);
    store.setRoomOperator("#dev", "alice", true);
    store.setRoomInvite("#dev", "carol", true);
    store.setRoomInvite("#dev", "dan", true);
    store.setRoomInvite("#dev", "dan", false);
    store.putRoom({ key: "#dev", name: "#DEV", topic: "t | x", inviteOnly: true });
    store.putRoomMember("#dev", "bob", 9);
    const [room] = store.rooms();
    room.members.sort((a, b) => a.account.localeCompare(b.account));
    deepStrictEqual(room, {
      key: "#dev",
      name: "#Dev",
      topic: "t | x",
      inviteOnly: true,
      operators: ["alice"],
      invites: ["carol"],
      members: [{ account: "alice", lastSeen: 5 }, { account: "bob", lastSeen: 9 }],
    });
    store.setRoomOperator("#dev", "alice", false);
    store.removeRoomMember("#dev", "bob");
    deepStrictEqual(store.rooms()[0].operators, []);
    deepStrictEqual(store.rooms()[0].members, [{ account: "alice", lastSeen: 5 }]);
    store.deleteRoom("#dev");
    deepStrictEqual(store.rooms(), []);
  });

  test("catch-up: a scope's messages after an id, oldest first, counted up to a cap", (store) => {
    for (let i = 1; i <= 9; i++) {
      store.appendPublic(i % 3 === 0 ? { ...msg(i), room: "#Dev" } : msg(i));
    }
    const ids = (s: ReturnType<typeof store.messagesAfter>) => s.map((m) => m.msgId);
    deepStrictEqual(ids(store.messagesAfter({ kind: "lobby" }, 2, 3)), [4, 5, 7]);
    deepStrictEqual(ids(store.messagesAfter({ kind: "room", key: "#dev" }, 3, 10)), [6, 9]);
    deepStrictEqual(store.messagesAfter({ kind: "lobby" }, 9, 10), []);
    deepStrictEqual(ids(store.messagesBefore({ kind: "lobby" }, 7, 2)), [4, 5]);
    deepStrictEqual(ids(store.messagesBefore({ kind: "room", key: "#dev" }, undefined, 2)), [6, 9]);
    strictEqual(store.countAfter({ kind: "lobby" }, 0, 100), 6);
    strictEqual(store.countAfter({ kind: "lobby" }, 0, 4), 4);
    strictEqual(store.countAfter({ kind: "room", key: "#dev" }, 6, 100), 1);
  });

  test("private history: an account's sent and received messages, nobody else's", (store) => {
    const pm = (msgId: number, from: string, to: string) => ({
      msgId,
      ts: msgId,
      from,
      to,
      text: `p${msgId}`,
    });
    store.appendPrivate(pm(1, "Alice", "bob"), "alice", undefined);
    store.appendPrivate(pm(2, "bob", "Alice"), undefined, "alice");
    store.appendPrivate(pm(3, "Carol", "Dan"), "carol", "dan");
    deepStrictEqual(store.messagesAfter({ kind: "private", account: "alice" }, 0, 10), [
      { msgId: 1, ts: 1, from: "Alice", fromAddr: "", to: "bob", text: "p1" },
      { msgId: 2, ts: 2, from: "bob", fromAddr: "", to: "Alice", text: "p2" },
    ]);
    deepStrictEqual(
      store.messagesAfter({ kind: "private", account: "alice" }, 1, 10).map((m) => m.msgId),
      [2],
    );
    strictEqual(store.countAfter({ kind: "private", account: "dan" }, 0, 10), 1);
    // Paging back: the newest first, each page oldest first.
    const before = (id: number | undefined, limit: number) =>
      store.messagesBefore({ kind: "private", account: "alice" }, id, limit).map((m) => m.msgId);
    deepStrictEqual(before(undefined, 1), [2]);
    deepStrictEqual(before(undefined, 10), [1, 2]);
    deepStrictEqual(before(2, 10), [1]);
    deepStrictEqual(before(1, 10), []);
    deepStrictEqual(store.messagesBefore({ kind: "private", account: "alice" }, undefined, 5)[1], {
      msgId: 2,
      ts: 2,
      from: "bob",
      fromAddr: "",
      to: "Alice",
      text: "p2",
    });
    // Private messages are never public history.
    deepStrictEqual(store.messagesAfter({ kind: "lobby" }, 0, 10), []);
  });

  test("read markers: one per account and target, replaced when set again", (store) => {
    store.putMarker("alice", "#lobby", 5);
    store.putMarker("alice", "private", 7);
    store.putMarker("alice", "#lobby", 9);
    store.putMarker("bob", "#lobby", 1);
    const sorted = store.markers("alice").sort((a, b) => a.target.localeCompare(b.target));
    deepStrictEqual(sorted, [{ target: "#lobby", msgId: 9 }, { target: "private", msgId: 7 }]);
    deepStrictEqual(store.markers("nobody"), []);
  });

  test("search: every term, folded, newest first, only the scope's rooms and account", (store) => {
    store.appendPublic({ ...msg(1), text: "Café au lait" });
    store.appendPublic({ ...msg(2), text: "cafe in #dev", room: "#Dev" });
    store.appendPublic({ ...msg(3), text: "no match here" });
    store.appendPrivate(
      { msgId: 4, ts: 4, from: "bob", to: "Ann", text: "CAFÉ?" },
      undefined,
      "ann",
    );
    store.appendPublic({ ...msg(5), text: "Καλημέρα café" });
    const ids = (
      terms: { text: string; prefix: boolean }[],
      scope: { rooms: string[]; account?: string },
      before = 1e9,
      limit = 10,
    ) => store.search(terms, scope, before, limit).map((m) => m.msgId);
    const cafe = [{ text: "CAFE", prefix: false }];
    deepStrictEqual(ids(cafe, { rooms: [] }), [5, 1]);
    deepStrictEqual(ids(cafe, { rooms: ["#dev"], account: "ann" }), [5, 4, 2, 1]);
    deepStrictEqual(ids(cafe, { rooms: ["#dev"], account: "ann" }, 5, 2), [4, 2]);
    deepStrictEqual(ids([{ text: "καλημερα", prefix: false }, ...cafe], { rooms: [] }), [5]);
    deepStrictEqual(ids([{ text: "lai", prefix: true }], { rooms: [] }), [1]);
    deepStrictEqual(ids([{ text: "lai", prefix: false }], { rooms: [] }), []);
    strictEqual(
      store.search(cafe, { rooms: ["#dev"] }, 1e9, 10).find((m) => m.msgId === 2)?.room,
      "#dev",
    );
  });

  test("bots: found by name key and by token digest; an account's or bot's name is taken", (store) => {
    const admin = store as ChatStorage & BotAdmin;
    const digest = new Uint8Array(32).fill(7);
    strictEqual(admin.addBot("relay", "Relay", digest, 0), "ok");
    strictEqual(admin.addBot("relay", "RELAY", new Uint8Array(32), 0), "taken");
    store.putAccount({
      key: "alice",
      name: "alice",
      salt: new Uint8Array(16),
      hash: new Uint8Array(32),
    });
    strictEqual(admin.addBot("alice", "alice", new Uint8Array(32).fill(1), 0), "taken");
    strictEqual(store.botName("relay"), "Relay");
    strictEqual(store.botName("alice"), undefined);
    deepStrictEqual(store.botByDigest(new Uint8Array(32).fill(7)), { key: "relay", name: "Relay" });
    strictEqual(store.botByDigest(new Uint8Array(32).fill(8)), undefined);
    strictEqual(admin.removeBot("relay"), true);
    strictEqual(admin.removeBot("relay"), false);
    strictEqual(store.botByDigest(digest), undefined);
    strictEqual(store.botName("relay"), undefined);
  });
}

/** The admin commands' side of bots (`--add-bot`, `--remove-bot`), which both stores have. */
interface BotAdmin {
  addBot(key: string, name: string, digest: Uint8Array, now: number): "ok" | "taken";
  removeBot(key: string): boolean;
}
