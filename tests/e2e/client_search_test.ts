/**
 * `/search` in the terminal client, against the real server: results newest first, `/search`
 * alone pages to older ones, private results shown as the client shows private messages.
 */
import assert from "node:assert/strict";
import { runClient } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const at = (port: number) => ["-ip", "127.0.0.1", "-port", String(port)];

Deno.test("client /search: newest first, then older pages, private results too", async () => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0", "--history", "0"]);
  using talker = await JsonClient.connect(server.port, { name: "talker" });
  for (let i = 1; i <= 25; i++) await talker.request({ type: "say", text: `Café number ${i}` });
  await talker.request({ type: "say", text: "unrelated" });

  const r = await runClient([...at(server.port), "--name", "reader"], {
    stdin: "/search cafe\n/search\n/search\n/search nothing-like-it\n",
  });
  assert.equal(r.code, 0, r.stderr);
  const found = r.stdout.split("\n").filter((l) => l.includes("<talker>"))
    .map((l) => l.replace(/^\d\d:\d\d /, ""));
  const expected = [];
  for (let i = 25; i >= 1; i--) expected.push(`<talker> Café number ${i}`);
  assert.deepEqual(found, expected);
  assert.match(r.stderr + r.stdout, /-- older results: \/search --/);
  assert.match(r.stderr + r.stdout, /-- end of results --/);
  assert.match(r.stderr, /no older results/);
  assert.match(r.stderr + r.stdout, /nothing found for nothing-like-it/);
});

Deno.test("client /mentions: the newest messages naming you", async () => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0", "--history", "0"]);
  using talker = await JsonClient.connect(server.port, { name: "talker" });
  await talker.request({ type: "say", text: "hello @reader, welcome" });
  await talker.request({ type: "say", text: "nothing for you" });
  await talker.request({ type: "say", text: "reader: ping" });
  const r = await runClient([...at(server.port), "--name", "reader"], { stdin: "/mentions\n" });
  assert.equal(r.code, 0, r.stderr);
  const found = r.stdout.split("\n").filter((l) => l.includes("<talker>"))
    .map((l) => l.replace(/^\d\d:\d\d /, ""));
  assert.deepEqual(found, ["<talker> reader: ping", "<talker> hello @reader, welcome"]);
});
