/**
 * The pure parts of the Matterbridge bridge: what a stream message posts into the lobby
 * (`inboundText`) and how its flags are read (`parseMatterbridgeFlags`). The bridge itself runs
 * against a fake api gateway in tests/e2e/matterbridge_test.ts.
 */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  DEFAULT_GATEWAY,
  inboundText,
  parseMatterbridgeFlags,
} from "../../../lib/server/matterbridge_bridge.ts";

Deno.test("inboundText: a message is <username> text; an action is * username text", () => {
  deepStrictEqual(inboundText({ text: "hi", username: "alice", gateway: "g" }, "g", 100), {
    kind: "post",
    text: "<alice> hi",
    cut: false,
  });
  deepStrictEqual(
    inboundText({ text: "waves", username: "alice", event: "user_action" }, "g", 100),
    { kind: "post", text: "* alice waves", cut: false },
  );
  // No username: still shown, with a mark for the unknown sender.
  deepStrictEqual(inboundText({ text: "hi" }, "g", 100), {
    kind: "post",
    text: "<?> hi",
    cut: false,
  });
});

Deno.test("inboundText: escapes, controls and line breaks do not reach the chat", () => {
  const got = inboundText(
    { text: "a\r\nb\x1b[2Jc\u202ed", username: "x\x1b]0;t\x07y", gateway: "" },
    "g",
    100,
  );
  deepStrictEqual(got, { kind: "post", text: "<xy> a bcd", cut: false });
});

Deno.test("inboundText: a line over the limit is cut at a character boundary", () => {
  const got = inboundText({ text: "é".repeat(50), username: "a" }, "g", 20);
  strictEqual(got.kind, "post");
  if (got.kind !== "post") return;
  strictEqual(got.cut, true);
  strictEqual(got.text, "<a> " + "é".repeat(6) + "…");
  strictEqual(new TextEncoder().encode(got.text).length <= 20, true);
});

Deno.test("inboundText: the greeting, other events, other gateways and empty texts are ignored", () => {
  for (
    const m of [
      { event: "api_connected" },
      { event: "join_leave", text: "bob joined" },
      { event: "user_typing", text: "" },
      { text: "hi", gateway: "other" },
      { text: "  \n ", username: "a" },
      { username: "a" },
    ]
  ) {
    deepStrictEqual(inboundText(m, "g", 100), { kind: "ignore" }, JSON.stringify(m));
  }
  for (const bad of [null, 3, "text", [1]]) {
    deepStrictEqual(inboundText(bad, "g", 100), { kind: "bad", reason: "not a JSON object" });
  }
});

Deno.test("parseMatterbridgeFlags: settings, defaults and one-line refusals", () => {
  strictEqual(parseMatterbridgeFlags({}), undefined);
  deepStrictEqual(
    parseMatterbridgeFlags({ matterbridge: "http://127.0.0.1:4242/", "matterbridge-bot": "relay" }),
    { url: "http://127.0.0.1:4242", bot: "relay", gateway: DEFAULT_GATEWAY },
  );
  deepStrictEqual(
    parseMatterbridgeFlags({
      matterbridge: "https://mb.example.org/bridge",
      "matterbridge-bot": "relay",
      "matterbridge-token": "t0k",
      "matterbridge-gateway": "main",
    }),
    { url: "https://mb.example.org/bridge", bot: "relay", token: "t0k", gateway: "main" },
  );
  const refusals: [Record<string, string>, RegExp][] = [
    [{ "matterbridge-token": "t" }, /--matterbridge-token needs --matterbridge URL/],
    [{ matterbridge: "http://x" }, /needs --matterbridge-bot NAME/],
    [{ matterbridge: "nope", "matterbridge-bot": "r" }, /http:\/\/ or https:\/\/ URL/],
    [{ matterbridge: "http://x/?a=1", "matterbridge-bot": "r" }, /http:\/\/ or https:\/\/ URL/],
    [
      { matterbridge: "http://x", "matterbridge-bot": "r", "matterbridge-token": "a b" },
      /without spaces/,
    ],
    [{ matterbridge: "http://x", "matterbridge-bot": "r", "matterbridge-gateway": " " }, /a name/],
  ];
  for (const [flags, message] of refusals) {
    throws(
      () => parseMatterbridgeFlags(flags),
      (e: Error) => e instanceof RangeError && message.test(e.message),
    );
  }
});
