import assert from "node:assert/strict";
import { OnlineNames, renderStatus } from "../../../lib/client/status.ts";

Deno.test("client status: the count follows the welcome and presence events", () => {
  const online = new OnlineNames();
  online.reset({ type: "welcome", online: [{ name: "alice" }, { name: "Bob" }, null] });
  assert.equal(online.count, 2);
  assert.ok(online.apply({ type: "presence", event: "online", name: "carol" }));
  assert.ok(online.apply({ type: "presence", event: "renamed", old: "carol", name: "caro" }));
  assert.equal(online.count, 3);
  assert.ok(online.apply({ type: "presence", event: "offline", name: "bob" }));
  assert.equal(online.count, 2);
  assert.equal(online.apply({ type: "public", from: "x", text: "y" }), false);
  online.reset({ type: "welcome", online: [{ name: "alice" }] });
  assert.equal(online.count, 1);
});

Deno.test("client status: the line says who, where, and how many (or that it reconnects)", () => {
  assert.equal(
    renderStatus({ name: "alice", online: 3, connected: true }, false),
    " alice in #lobby · 3 online ",
  );
  assert.equal(
    renderStatus({ name: "a\x1b[2Jb", online: 3, connected: false }, false),
    " ab in #lobby · reconnecting… ",
  );
  assert.equal(
    renderStatus({ name: "a", online: 1, connected: true }, true),
    "\x1b[7m a in #lobby · 1 online \x1b[0m",
  );
});

Deno.test("client status: the current room and the other rooms' unread counts", () => {
  assert.equal(
    renderStatus({ name: "alice", online: 3, connected: true, room: "#dev", unread: [] }, false),
    " alice in #dev · 3 online ",
  );
  const unread = [{ room: "#lobby", count: 2 }, { room: "#ops", count: 11 }];
  assert.equal(
    renderStatus({ name: "alice", online: 3, connected: true, room: "#dev", unread }, false),
    " alice in #dev · 3 online · unread #lobby 2, #ops 11 ",
  );
});
