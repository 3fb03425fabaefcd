/**
 * The page's pure parts: links found in text, the conversations' order and unread counts, frames
 * split from a WebSocket message, and the reconnect backoff.
 *
 * @module
 */

import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { linkParts } from "../../../lib/web/render.ts";
import { ChatState, LOBBY, privateId } from "../../../lib/web/state.ts";
import { backoffMs, MAX_BACKOFF_MS, parseFrames } from "../../../lib/web/chat_socket.ts";

Deno.test("linkParts makes links of http(s) URLs only, and leaves the rest as text", () => {
  deepStrictEqual(linkParts("see https://example.org/a?b=1."), [
    { text: "see " },
    { text: "https://example.org/a?b=1", href: "https://example.org/a?b=1" },
    { text: "." },
  ]);
  deepStrictEqual(linkParts("javascript:alert(1) <a href=x>"), [
    { text: "javascript:alert(1) <a href=x>" },
  ]);
  deepStrictEqual(linkParts(""), []);
});

Deno.test("ChatState keeps lines in message-id order and never twice", () => {
  const s = new ChatState();
  const line = (msgId: number) => ({ msgId, ts: 0, from: "bob", text: String(msgId), own: false });
  strictEqual(s.add(LOBBY, line(5)), true);
  strictEqual(s.add(LOBBY, line(3)), true);
  strictEqual(s.add(LOBBY, line(5)), false);
  s.add(LOBBY, line(9));
  deepStrictEqual(s.conversation(LOBBY).lines.map((l) => l.msgId), [3, 5, 9]);
  strictEqual(s.conversation(LOBBY).lastId, 9);
});

Deno.test("ChatState counts unread outside the open conversation, and renames follow", () => {
  const s = new ChatState();
  s.add(privateId("Bob"), { msgId: 1, ts: 0, from: "Bob", text: "hi", own: false });
  s.add(LOBBY, { msgId: 2, ts: 0, from: "Bob", text: "open one", own: false });
  strictEqual(s.conversation(privateId("bob")).unread, 1);
  strictEqual(s.conversation(LOBBY).unread, 0);
  strictEqual(s.unread, 1);
  s.renamed("Bob", "Robert", "1.2.3.4:5");
  strictEqual(s.conversations.has("@bob"), false);
  strictEqual(s.conversation("@robert").title, "Robert");
  s.open("@robert");
  strictEqual(s.unread, 0);
});

Deno.test("parseFrames skips the text greeting and reads every JSON line", () => {
  deepStrictEqual(
    parseFrames('[1.2.3.4:5], 1.2.3.4:5:online\n{"type":"ok","id":1}\n{"type":"ok","id":2}\n'),
    [{ type: "ok", id: 1 }, { type: "ok", id: 2 }],
  );
  deepStrictEqual(parseFrames("{not json\n"), []);
});

Deno.test("backoffMs doubles with jitter up to the cap", () => {
  strictEqual(backoffMs(0, () => 0.5), 500);
  strictEqual(backoffMs(1, () => 0.5), 1000);
  strictEqual(backoffMs(20, () => 0.5), MAX_BACKOFF_MS);
  strictEqual(backoffMs(0, () => 0), 375);
});

Deno.test("ChatState: unread counts follow the account's read markers", async (t) => {
  const line = (msgId: number, from = "bob") => ({ msgId, ts: 0, from, text: "x", own: false });
  const s = new ChatState();
  s.conversation("#dev", "#Dev");
  s.add("#dev", line(3));

  await t.step("seeded from markers; one without a marker keeps its own count", () => {
    s.add(LOBBY, line(2)); // shown in the open conversation: read
    s.conversation("#ops", "#ops");
    s.add("#ops", line(4));
    s.seed([
      { target: "#Dev", msgId: 1, unread: 6 }, // missed while no device was online
      { target: "#lobby", msgId: 1, unread: 9 }, // open and visible: being read
      { target: "#gone", msgId: 1, unread: 2 }, // not one of ours
      { target: "private", msgId: 1, unread: 1 },
    ]);
    deepStrictEqual([...s.conversations.values()].map((c) => [c.id, c.unread]), [
      [LOBBY, 0],
      ["#dev", 6],
      ["#ops", 1],
    ]);
  });

  await t.step("what the user reads moves markers forward, once", () => {
    deepStrictEqual(s.marksDue, true);
    deepStrictEqual(s.dueMarks(), [{ target: LOBBY, msgId: 2 }]);
    deepStrictEqual([s.marksDue, s.dueMarks()], [false, []]);
    s.open("#dev");
    deepStrictEqual(s.dueMarks(), [{ target: "#Dev", msgId: 3 }], "the room's title, its last id");
  });

  await t.step("another device's marker sets the count; an older one does not", () => {
    s.add("#ops", line(5));
    s.follow({ target: "#OPS", msgId: 4, unread: 1 });
    strictEqual(s.conversation("#ops").unread, 1);
    s.follow({ target: "#ops", msgId: 5, unread: 0 });
    strictEqual(s.conversation("#ops").unread, 0);
    s.open(LOBBY);
    s.follow({ target: "#dev", msgId: 2, unread: 1 }); // this page read #dev up to 3
    strictEqual(s.conversation("#dev").unread, 0);
  });

  await t.step("a hidden page reads nothing; shown again, the open conversation is read", () => {
    s.setVisible(false);
    s.add(LOBBY, line(7));
    s.follow({ target: "#lobby", msgId: 2, unread: 1 });
    deepStrictEqual([s.conversation(LOBBY).unread, s.marksDue], [1, false]);
    s.setVisible(true);
    deepStrictEqual([s.conversation(LOBBY).unread, s.dueMarks()], [0, [{
      target: LOBBY,
      msgId: 7,
    }]]);
  });
});
