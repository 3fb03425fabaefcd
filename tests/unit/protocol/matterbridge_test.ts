import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  afterSkip,
  apiConnected,
  emptyMessage,
  parsePostedMessage,
  parseSkipBefore,
  postedReply,
} from "../../../lib/protocol/matterbridge.ts";

Deno.test("matterbridge: every config.Message field is present, in Go's JSON order and zero values", () => {
  deepStrictEqual(
    JSON.stringify(emptyMessage()),
    '{"text":"","channel":"","username":"","userid":"","avatar":"","account":"","event":"",' +
      '"protocol":"","gateway":"","parent_id":"","timestamp":"0001-01-01T00:00:00Z","id":"",' +
      '"Extra":null}',
  );
});

Deno.test("matterbridge: the stream's greeting is an api_connected event stamped now", () => {
  const greet = apiConnected(new Date(Date.UTC(2026, 10, 29, 6, 30, 0, 250)));
  strictEqual(greet.event, "api_connected");
  strictEqual(greet.timestamp, "2026-11-29T06:30:00.250Z");
  strictEqual(greet.text, "");
});

Deno.test("matterbridge: a posted body keeps what the poster chose; unknown fields are ignored", () => {
  const result = parsePostedMessage(
    '{"text":"hello","username":"relay","userid":"u1","gateway":"main","avatar":"a.png","x":[1]}',
  );
  deepStrictEqual(result, {
    ok: true,
    message: {
      text: "hello",
      username: "relay",
      userid: "u1",
      avatar: "a.png",
      gateway: "main",
      event: "",
    },
  });
});

Deno.test("matterbridge: bad bodies are refused with one line each", () => {
  const errorOf = (body: string) => {
    const result = parsePostedMessage(body);
    return result.ok ? "accepted" : result.error;
  };
  strictEqual(errorOf("not json"), "body is not JSON");
  strictEqual(errorOf("[1]"), "body is not a JSON object");
  strictEqual(errorOf("null"), "body is not a JSON object");
  strictEqual(errorOf('{"text":5}'), 'field "text" is not a string');
  strictEqual(errorOf('{"text":"hi","username":{}}'), 'field "username" is not a string');
  strictEqual(errorOf('{"username":"x"}'), 'field "text" is missing or empty');
  strictEqual(errorOf('{"text":"   "}'), 'field "text" is missing or empty');
});

Deno.test("matterbridge: the POST reply fixes channel, protocol, account, id and timestamp", () => {
  const parsed = parsePostedMessage(
    '{"text":"hi","username":"relay","channel":"elsewhere","protocol":"irc","id":"42"}',
  );
  if (!parsed.ok) throw new Error(parsed.error);
  const reply = postedReply(parsed.message, "api.fastim", new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
  deepStrictEqual(reply, {
    text: "hi",
    channel: "api",
    username: "relay",
    userid: "",
    avatar: "",
    account: "api.fastim",
    event: "",
    protocol: "api",
    gateway: "",
    parent_id: "",
    timestamp: "2026-01-02T03:04:05.000Z",
    id: "",
    Extra: null,
  });
});

Deno.test("matterbridge: skip_before is RFC 3339; messages at or before it are dropped", () => {
  strictEqual(parseSkipBefore(null), undefined);
  strictEqual(parseSkipBefore(""), undefined);
  strictEqual(parseSkipBefore("yesterday"), null);
  strictEqual(parseSkipBefore("2026-11-29"), null);
  const skip = parseSkipBefore("2026-11-29T06:00:00+01:00");
  strictEqual(skip, Date.UTC(2026, 10, 29, 5, 0, 0));
  const at = { ...emptyMessage(), timestamp: "2026-11-29T05:00:00.000Z" };
  const after = { ...emptyMessage(), timestamp: "2026-11-29T05:00:00.001Z" };
  strictEqual(afterSkip(at, skip ?? undefined), false);
  strictEqual(afterSkip(after, skip ?? undefined), true);
  strictEqual(afterSkip(at, undefined), true);
});
