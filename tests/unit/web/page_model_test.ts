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
