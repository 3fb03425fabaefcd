/**
 * Mentions over real sockets: a public message (lobby or room) naming a user comes marked to
 * that user: JSON `"mention": true`; text `mention|LINE` once asked for with `mentions|on`.
 * Everyone else, and text users who did not ask, get the line as it always was.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { connectText, JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

Deno.test("mentions: marked for the named, in both dialects, lobby and rooms", async (t) => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
  using jane = await JsonClient.connect(server.port, { name: "Jane" });
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  using tom = await connectText(server.port);
  await tom.send("rename|tom");
  await tom.readUntil((l) => l === "You renamed to tom");
  using sam = await connectText(server.port);
  await sam.send("rename|sam");
  await sam.readUntil((l) => l === "You renamed to sam");
  await tom.send("mentions|on");
  strictEqual(
    await tom.readUntil((l) => l.startsWith("mentions")),
    "mentions are on: messages naming you come as mention|LINE",
  );
  const line = (text: string) => `[${bob.lines.addr}], bob:${text}`;

  await t.step("lobby: @jane and tom: are marked; sam did not ask; the sender is not", async () => {
    const text = "hey @jane and tom: lunch? sam too";
    strictEqual((await bob.request({ type: "say", text })).type, "ok");
    const j = await jane.readUntil((f) => f.type === "public" && f.text === text);
    strictEqual(j.mention, true);
    strictEqual(await tom.readUntil((l) => l.includes(text)), `mention|${line(text)}`);
    strictEqual(await sam.readUntil((l) => l.includes(text)), line(text));
    // The sender's own copy came before its reply (read by request()).
    const own = bob.lines.received.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((
      f,
    ) => f.text === text);
    deepStrictEqual([own.type, own.mention], ["public", undefined]);
  });

  await t.step("a name inside a longer word is no mention", async () => {
    const text = "janet and tomato";
    strictEqual((await bob.request({ type: "say", text })).type, "ok");
    strictEqual((await jane.readUntil((f) => f.text === text)).mention, undefined);
    strictEqual(await tom.readUntil((l) => l.includes(text)), line(text));
  });

  await t.step("in a room, members named are marked", async () => {
    for (const c of [jane, bob]) {
      strictEqual((await c.request({ type: "join", room: "#ops" })).type, "ok");
    }
    await tom.send("join|#ops");
    await tom.readUntil((l) => l.startsWith("[#ops]") && l.includes("tom:joined"));
    const text = "Jane, TOM. deploy is done";
    strictEqual((await bob.request({ type: "say", room: "#ops", text })).type, "ok");
    const j = await jane.readUntil((f) => f.type === "public" && f.text === text);
    deepStrictEqual([j.room, j.mention], ["#ops", true]);
    strictEqual(await tom.readUntil((l) => l.includes(text)), `mention|[#ops] ${line(text)}`);
  });

  await t.step("mentions|off: plain lines again", async () => {
    await tom.send("mentions|off");
    strictEqual(await tom.readUntil((l) => l.startsWith("mentions")), "mentions are off");
    const text = "tom?";
    strictEqual((await bob.request({ type: "say", text })).type, "ok");
    strictEqual(await tom.readUntil((l) => l.includes(text)), line(text));
  });
});
