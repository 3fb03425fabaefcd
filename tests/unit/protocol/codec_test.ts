import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { ChatEvent } from "../../../lib/protocol/events.ts";
import {
  encodeFrame,
  encodeWelcome,
  jsonCodec,
  parseHello,
  parseJsonLine,
  PROTOCOL_VERSION,
} from "../../../lib/protocol/json_codec.ts";
import type { Reply, Request } from "../../../lib/protocol/requests.ts";
import {
  parseTextLine,
  renderTextEvent,
  renderTextReply,
  textCodec,
  TO_FORMAT_ERROR,
} from "../../../lib/protocol/text_codec.ts";

const decoder = new TextDecoder();
const ADDR = "127.0.0.1:5000";

const publicEvent = (): ChatEvent => ({
  kind: "public",
  msgId: 7,
  ts: 1000,
  from: "alice",
  fromAddr: ADDR,
  text: "hi | all",
  wire: [],
});
const privateEvent = (): ChatEvent => ({
  kind: "private",
  msgId: 8,
  ts: 1001,
  from: "alice",
  fromAddr: ADDR,
  to: "bob",
  text: "psst",
  wire: [],
});
const presence = (event: "online" | "offline" | "renamed"): ChatEvent => ({
  kind: "presence",
  msgId: 9,
  ts: 1002,
  event,
  name: event === "renamed" ? "alice" : ADDR,
  addr: ADDR,
  ...(event === "renamed" ? { old: ADDR } : {}),
  wire: [],
});
const shutdownNotice = (): ChatEvent => ({
  kind: "notice",
  code: "shutdown",
  text: "server is shutting down",
  wire: [],
});

// ---------------------------------------------------------------- text dialect

Deno.test("parseTextLine reads the original's commands", async (t) => {
  const cases: [string, Request][] = [
    ["who", { type: "who" }],
    ["rename|alice", { type: "rename", name: "alice" }],
    ["rename|", { type: "rename", name: "" }],
    ["rename|a|b", { type: "rename", name: "a|b" }],
    ["to|bob|hi", { type: "msg", to: "bob", text: "hi" }],
    ["to|bob|hi | there|x", { type: "msg", to: "bob", text: "hi | there|x" }],
    ["to||hi", { type: "msg", to: "", text: "hi" }],
    ["to|bob|", { type: "msg", to: "bob", text: "" }],
    ["to|bob", { type: "invalid", code: "bad_format", message: TO_FORMAT_ERROR }],
    ["to|", { type: "invalid", code: "bad_format", message: TO_FORMAT_ERROR }],
    ["hello everyone", { type: "say", text: "hello everyone" }],
    ["who ", { type: "say", text: "who " }],
    ["WHO", { type: "say", text: "WHO" }],
    ["rename", { type: "say", text: "rename" }],
    ["to", { type: "say", text: "to" }],
    ['{"type":"say","text":"x"}', { type: "say", text: '{"type":"say","text":"x"}' }],
  ];
  for (const [line, request] of cases) {
    await t.step(JSON.stringify(line), () => deepStrictEqual(parseTextLine(line), request));
  }
  strictEqual(
    TO_FORMAT_ERROR,
    "Invalid message format. Use: to|<receiver_name>|<message_content>",
  );
});

Deno.test("renderTextEvent renders the original's lines", async (t) => {
  await t.step(
    "public",
    () => strictEqual(renderTextEvent(publicEvent()), `[${ADDR}], alice:hi | all`),
  );
  await t.step(
    "private",
    () => strictEqual(renderTextEvent(privateEvent()), "alice sent you a message: psst"),
  );
  await t.step(
    "online",
    () => strictEqual(renderTextEvent(presence("online")), `[${ADDR}], ${ADDR}:online`),
  );
  await t.step(
    "offline",
    () => strictEqual(renderTextEvent(presence("offline")), `[${ADDR}], ${ADDR}:offline`),
  );
  await t.step(
    "renamed",
    () => strictEqual(renderTextEvent(presence("renamed")), `[${ADDR}], ${ADDR}:renamed to alice`),
  );
  await t.step(
    "notice",
    () => strictEqual(renderTextEvent(shutdownNotice()), "server is shutting down"),
  );
});

Deno.test("renderTextReply renders replies, and nothing for messages", async (t) => {
  await t.step("who: one line per user", () => {
    strictEqual(
      renderTextReply({ type: "who" }, {
        ok: true,
        users: [{ name: "alice", addr: ADDR }, { name: "1.2.3.4:5", addr: "1.2.3.4:5" }],
      }),
      `[${ADDR}],alice:online\n[1.2.3.4:5],1.2.3.4:5:online`,
    );
  });
  await t.step("rename", () => {
    strictEqual(
      renderTextReply({ type: "rename", name: " x" }, { ok: true, name: "x" }),
      "You renamed to x",
    );
  });
  await t.step("history: each line marked with its time, then the end (also when empty)", () => {
    const m = { msgId: 7, ts: Date.UTC(2026, 10, 28, 6, 38), from: "bob", fromAddr: ADDR };
    strictEqual(
      renderTextReply({ type: "history" }, { ok: true, messages: [{ ...m, text: "a|b" }] }),
      `history|2026-11-28T06:38:00.000Z|[${ADDR}], bob:a|b\nhistory|end|1`,
    );
    strictEqual(renderTextReply({ type: "history" }, { ok: true, messages: [] }), "history|end|0");
  });
  await t.step("say and msg send no acknowledgement", () => {
    strictEqual(renderTextReply({ type: "say", text: "x" }, { ok: true, msgId: 1, ts: 1 }), null);
    strictEqual(
      renderTextReply({ type: "msg", to: "a", text: "x" }, { ok: true, msgId: 1, ts: 1 }),
      null,
    );
  });
  await t.step("errors are their message", () => {
    strictEqual(
      renderTextReply({ type: "msg", to: "a", text: "x" }, {
        ok: false,
        code: "not_online",
        message: "the receiver is not online",
      }),
      "the receiver is not online",
    );
    strictEqual(
      renderTextReply({ type: "rename", name: "a" }, {
        ok: false,
        code: "name_taken",
        message: "this name is already used",
      }),
      "this name is already used",
    );
  });
});

Deno.test("textCodec encodes each event once, newline-terminated", () => {
  const e = publicEvent();
  const first = textCodec.encodeEvent(e);
  strictEqual(decoder.decode(first), `[${ADDR}], alice:hi | all\n`);
  strictEqual(textCodec.encodeEvent(e), first, "second call returns the cached bytes");
  strictEqual(e.wire[0], first);
  strictEqual(e.wire[1], undefined);
  strictEqual(textCodec.slot, 0);
  strictEqual(textCodec.parse, parseTextLine);
  strictEqual(
    decoder.decode(textCodec.encodeReply({ type: "rename", name: "x" }, { ok: true, name: "x" })!),
    "You renamed to x\n",
  );
  strictEqual(textCodec.encodeReply({ type: "say", text: "x" }, { ok: true }), null);
});

// ---------------------------------------------------------------- JSON dialect

Deno.test("parseHello recognises a hello frame and nothing else", async (t) => {
  await t.step("full hello", () => {
    deepStrictEqual(
      parseHello('{"type":"hello","version":1,"name":"alice","client":"bot/1","id":"h"}'),
      { version: 1, name: "alice", client: "bot/1", id: "h" },
    );
  });
  await t.step("version is passed through for the transport to judge", () => {
    deepStrictEqual(parseHello('{"type":"hello","version":0}'), { version: 0 });
    deepStrictEqual(parseHello('{"type":"hello","version":"1"}'), { version: "1" });
    deepStrictEqual(parseHello('{"type":"hello"}'), { version: undefined });
  });
  await t.step("wrong-typed optional fields are dropped", () => {
    deepStrictEqual(parseHello('{"type":"hello","version":1,"name":5,"client":[],"id":{}}'), {
      version: 1,
    });
  });
  await t.step("client is truncated", () => {
    const hello = parseHello(
      JSON.stringify({ type: "hello", version: 1, client: "c".repeat(500) }),
    );
    strictEqual(hello?.client?.length, 100);
  });
  for (
    const line of [
      "hello",
      "who",
      '{"type":"say","text":"x"}',
      '["hello"]',
      '{"type":"hello"',
      '"hello"',
      "{}",
    ]
  ) {
    await t.step(`not a hello: ${line}`, () => strictEqual(parseHello(line), null));
  }
});

Deno.test("parseJsonLine parses every request type", async (t) => {
  const cases: [unknown, Request][] = [
    [{ type: "say", id: 1, text: "hi" }, { type: "say", id: 1, text: "hi" }],
    [{ type: "say", text: "hi" }, { type: "say", text: "hi" }],
    [{ type: "msg", id: "a", to: "bob", text: "x" }, {
      type: "msg",
      id: "a",
      to: "bob",
      text: "x",
    }],
    [{ type: "who", id: 0 }, { type: "who", id: 0 }],
    [{ type: "rename", id: 2.5, name: "zed" }, { type: "rename", id: 2.5, name: "zed" }],
    [{ type: "ping", id: -1 }, { type: "ping", id: -1 }],
    [{ type: "quit" }, { type: "quit" }],
    [{ type: "ping", id: "" }, { type: "ping", id: "" }],
  ];
  for (const [frame, request] of cases) {
    await t.step(JSON.stringify(frame), () => {
      deepStrictEqual(parseJsonLine(JSON.stringify(frame)), request);
    });
  }
});

Deno.test("parseJsonLine ignores unknown fields and __proto__ keys", async (t) => {
  await t.step("unknown fields", () => {
    deepStrictEqual(parseJsonLine('{"type":"ping","id":1,"extra":{"a":[1,2]},"v":null}'), {
      type: "ping",
      id: 1,
    });
  });
  await t.step("__proto__ at the top level", () => {
    const r = parseJsonLine('{"__proto__":{"type":"quit","id":9},"type":"say","id":1,"text":"x"}');
    deepStrictEqual(r, { type: "say", id: 1, text: "x" });
    strictEqual(Object.getPrototypeOf(r), Object.prototype);
    strictEqual(({} as Record<string, unknown>).type, undefined, "Object.prototype untouched");
  });
  await t.step("__proto__ hiding a required field", () => {
    deepStrictEqual(parseJsonLine('{"type":"say","id":1,"__proto__":{"text":"x"}}'), {
      type: "invalid",
      id: 1,
      code: "bad_request",
      message: "text must be a string",
    });
  });
  await t.step("__proto__ and toString as types", () => {
    strictEqual((parseJsonLine('{"type":"__proto__"}') as { code: string }).code, "unknown_type");
    strictEqual((parseJsonLine('{"type":"toString"}') as { code: string }).code, "unknown_type");
    strictEqual((parseJsonLine('{"type":"constructor"}') as { code: string }).code, "unknown_type");
  });
});

Deno.test("parseJsonLine turns malformed frames into errors with stable codes", async (t) => {
  const cases: [string, Request][] = [
    ["not json", {
      type: "invalid",
      code: "bad_json",
      message: "a frame must be one JSON object on one line",
    }],
    ['{"type":', {
      type: "invalid",
      code: "bad_json",
      message: "a frame must be one JSON object on one line",
    }],
    ['[{"type":"who"}]', {
      type: "invalid",
      code: "bad_json",
      message: "a frame must be one JSON object on one line",
    }],
    ['"who"', {
      type: "invalid",
      code: "bad_json",
      message: "a frame must be one JSON object on one line",
    }],
    ["null", {
      type: "invalid",
      code: "bad_json",
      message: "a frame must be one JSON object on one line",
    }],
    ['{"type":"say","id":1,"text":5}', {
      type: "invalid",
      id: 1,
      code: "bad_request",
      message: "text must be a string",
    }],
    ['{"type":"say","id":1}', {
      type: "invalid",
      id: 1,
      code: "bad_request",
      message: "text must be a string",
    }],
    ['{"type":"msg","id":2,"to":7,"text":"x"}', {
      type: "invalid",
      id: 2,
      code: "bad_request",
      message: "to must be a string",
    }],
    ['{"type":"msg","id":2,"to":"bob"}', {
      type: "invalid",
      id: 2,
      code: "bad_request",
      message: "text must be a string",
    }],
    ['{"type":"rename","id":3,"name":null}', {
      type: "invalid",
      id: 3,
      code: "bad_request",
      message: "name must be a string",
    }],
    ['{"id":4}', { type: "invalid", id: 4, code: "bad_request", message: "type must be a string" }],
    ['{"type":5,"id":4}', {
      type: "invalid",
      id: 4,
      code: "bad_request",
      message: "type must be a string",
    }],
    ['{"type":"dance","id":"x"}', {
      type: "invalid",
      id: "x",
      code: "unknown_type",
      message: 'unknown request type "dance"',
    }],
    ['{"type":"hello","version":1,"id":6}', {
      type: "invalid",
      id: 6,
      code: "bad_request",
      message: "hello is only allowed as the first line",
    }],
  ];
  for (const [line, request] of cases) {
    await t.step(line, () => deepStrictEqual(parseJsonLine(line), request));
  }
  for (const id of ["{}", "[1]", "true", "null", JSON.stringify("i".repeat(129))]) {
    await t.step(`bad id ${id.slice(0, 20)}`, () => {
      const r = parseJsonLine(`{"type":"ping","id":${id}}`);
      strictEqual(r.type, "invalid");
      strictEqual((r as { code: string }).code, "bad_request");
      strictEqual(r.id, undefined, "an unusable id is not echoed");
    });
  }
  await t.step("unknown type names are truncated in the message", () => {
    const r = parseJsonLine(JSON.stringify({ type: "x".repeat(1000) })) as { message: string };
    strictEqual(r.message.length < 100, true);
  });
});

Deno.test("jsonCodec encodes events as typed frames, once per event", async (t) => {
  const frame = (e: ChatEvent) => JSON.parse(decoder.decode(jsonCodec.encodeEvent(e)));
  await t.step("public", () => {
    deepStrictEqual(frame(publicEvent()), {
      type: "public",
      msgId: 7,
      ts: 1000,
      from: "alice",
      text: "hi | all",
    });
  });
  await t.step("private", () => {
    deepStrictEqual(frame(privateEvent()), {
      type: "private",
      msgId: 8,
      ts: 1001,
      from: "alice",
      to: "bob",
      text: "psst",
    });
  });
  await t.step("presence", () => {
    deepStrictEqual(frame(presence("online")), {
      type: "presence",
      msgId: 9,
      ts: 1002,
      event: "online",
      name: ADDR,
      addr: ADDR,
    });
    deepStrictEqual(frame(presence("renamed")), {
      type: "presence",
      msgId: 9,
      ts: 1002,
      event: "renamed",
      name: "alice",
      addr: ADDR,
      old: ADDR,
    });
  });
  await t.step("notice", () => {
    deepStrictEqual(frame(shutdownNotice()), {
      type: "notice",
      code: "shutdown",
      text: "server is shutting down",
    });
  });
  await t.step("one line, cached in slot 1, independent of the text slot", () => {
    const e = publicEvent();
    const text = textCodec.encodeEvent(e);
    const bytes = jsonCodec.encodeEvent(e);
    strictEqual(jsonCodec.slot, 1);
    strictEqual(jsonCodec.encodeEvent(e), bytes);
    strictEqual(e.wire[1], bytes);
    strictEqual(e.wire[0], text);
    const s = decoder.decode(bytes);
    strictEqual(s.endsWith("\n"), true);
    strictEqual(s.indexOf("\n"), s.length - 1);
  });
  await t.step("text with newlines and quotes stays on one line", () => {
    const e = { ...publicEvent(), text: 'a\n"b"\u2028' } as ChatEvent;
    const s = decoder.decode(jsonCodec.encodeEvent(e));
    strictEqual(s.indexOf("\n"), s.length - 1);
    strictEqual(JSON.parse(s).text, 'a\n"b"\u2028');
  });
});

Deno.test("jsonCodec encodes replies as ok/error frames echoing the id", async (t) => {
  const reply = (request: Request, r: Reply) =>
    JSON.parse(decoder.decode(jsonCodec.encodeReply(request, r)!));
  await t.step("ok with data", () => {
    deepStrictEqual(reply({ type: "say", id: 1, text: "x" }, { ok: true, msgId: 3, ts: 4 }), {
      type: "ok",
      id: 1,
      msgId: 3,
      ts: 4,
    });
    deepStrictEqual(
      reply({ type: "who", id: "w" }, { ok: true, users: [{ name: "a", addr: ADDR }] }),
      { type: "ok", id: "w", users: [{ name: "a", addr: ADDR }] },
    );
  });
  await t.step("ok without id has no id field", () => {
    deepStrictEqual(reply({ type: "ping" }, { ok: true }), { type: "ok" });
  });
  await t.step("error", () => {
    deepStrictEqual(
      reply({ type: "msg", id: 7, to: "c", text: "x" }, {
        ok: false,
        code: "not_online",
        message: "the receiver is not online",
      }),
      { type: "error", id: 7, code: "not_online", message: "the receiver is not online" },
    );
  });
  await t.step("error for an invalid request without id", () => {
    deepStrictEqual(
      reply({ type: "invalid", code: "bad_json", message: "m" }, {
        ok: false,
        code: "bad_json",
        message: "m",
      }),
      { type: "error", code: "bad_json", message: "m" },
    );
  });
});

Deno.test("encodeWelcome writes a welcome frame on one line", () => {
  const s = decoder.decode(encodeWelcome({
    version: PROTOCOL_VERSION,
    server: "fastim 0.1.0",
    name: ADDR,
    addr: ADDR,
    limits: { maxLine: 8192, idleTimeoutMs: 60000, msgRate: 10, msgBurst: 20 },
    online: [{ name: ADDR, addr: ADDR }],
    nameError: { code: "name_taken", message: "this name is already used" },
  }));
  strictEqual(s.indexOf("\n"), s.length - 1);
  deepStrictEqual(JSON.parse(s), {
    type: "welcome",
    version: 1,
    server: "fastim 0.1.0",
    name: ADDR,
    addr: ADDR,
    limits: { maxLine: 8192, idleTimeoutMs: 60000, msgRate: 10, msgBurst: 20 },
    online: [{ name: ADDR, addr: ADDR }],
    nameError: { code: "name_taken", message: "this name is already used" },
  });
  strictEqual(decoder.decode(encodeFrame({ type: "ok" })), '{"type":"ok"}\n');
});

Deno.test("a bot's public message: JSON says bot: true, the text line is the original's", () => {
  const event: ChatEvent = {
    kind: "public",
    msgId: 3,
    ts: 5,
    from: "relay",
    fromAddr: "127.0.0.1:9",
    text: "build green",
    bot: true,
    wire: [],
  };
  const frame = JSON.parse(new TextDecoder().decode(jsonCodec.encodeEvent(event)));
  strictEqual(frame.bot, true);
  strictEqual(renderTextEvent(event), "[127.0.0.1:9], relay:build green");
  const person = JSON.parse(
    new TextDecoder().decode(jsonCodec.encodeEvent({ ...event, bot: undefined, wire: [] })),
  );
  strictEqual("bot" in person, false);
});
