/**
 * The bot API's stream body (lib/server/bot_stream.ts) and the room a post goes to
 * (lib/server/bot_api.ts): the greeting, then the replay, then live lines; the replay fed only as
 * the reader reads; a reader that does not read dropped once live lines pass the bound.
 */
import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { BotStream } from "../../../lib/server/bot_stream.ts";
import { roomOf } from "../../../lib/server/bot_api.ts";
import { emptyMessage, type MatterbridgeMessage } from "../../../lib/protocol/matterbridge.ts";

const message = (text: string): MatterbridgeMessage => ({ ...emptyMessage(), text });
const lineBytes = (m: MatterbridgeMessage) => JSON.stringify(m).length + 1;

async function readTexts(reader: ReadableStreamDefaultReader<Uint8Array>, n: number) {
  const decoder = new TextDecoder();
  let text = "";
  while (text.split("\n").length - 1 < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  return text.split("\n").filter((l) => l !== "").map((l) =>
    JSON.parse(l).text || JSON.parse(l).event
  );
}

Deno.test("a stream sends the greeting, then the replay, then live messages, in order", async () => {
  const stream = new BotStream(64 * 1024, { ...emptyMessage(), event: "api_connected" }, () => {});
  // Live before the replay is known: it waits behind it.
  stream.push(message("live 1"));
  stream.begin([message("old 1"), message("old 2")]);
  stream.push(message("live 2"));
  const reader = stream.body.getReader();
  deepStrictEqual(await readTexts(reader, 5), [
    "api_connected",
    "old 1",
    "old 2",
    "live 1",
    "live 2",
  ]);
  stream.close();
  strictEqual((await reader.read()).done, true);
});

Deno.test("a long replay is fed as the reader reads, not all at once, and is not a slow reader", async () => {
  const one = message("x".repeat(1000));
  const bound = 4 * lineBytes(one);
  let slow = false;
  const stream = new BotStream(bound, { ...emptyMessage(), event: "api_connected" }, () => {
    slow = true;
  });
  stream.begin(Array.from({ length: 50 }, () => one));
  const reader = stream.body.getReader();
  const texts = await readTexts(reader, 51);
  strictEqual(texts.length, 51);
  strictEqual(slow, false);
  stream.close();
});

Deno.test("live messages past the bound drop a stream nobody reads", async () => {
  const one = message("y".repeat(1000));
  let slow = 0;
  let ended = 0;
  const stream = new BotStream(4 * lineBytes(one), { ...emptyMessage(), event: "hi" }, () => {
    slow++;
  });
  stream.onEnd = () => ended++;
  stream.begin([]);
  for (let i = 0; i < 20; i++) stream.push(one);
  strictEqual(slow, 1);
  strictEqual(ended, 1);
  const reader = stream.body.getReader();
  await rejects(async () => {
    while (!(await reader.read()).done);
  }, /slow reader/);
});

Deno.test("roomOf: gateway names the room, with or without #; empty or lobby is the lobby", () => {
  strictEqual(roomOf(""), undefined);
  strictEqual(roomOf("lobby"), undefined);
  strictEqual(roomOf("#Lobby"), undefined);
  strictEqual(roomOf("dev"), "#dev");
  strictEqual(roomOf(" #dev "), "#dev");
});
