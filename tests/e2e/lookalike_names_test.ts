/**
 * Look-alike names: a name that reads like one online or registered is refused, with a stable
 * code, in both dialects; and names mixing Latin with Cyrillic or Greek letters are refused.
 */
import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const OPEN = ["--msg-rate", "0", "--byte-rate", "0", "--max-conns-per-ip", "0", "--conn-rate", "0"];
/** Cyrillic а, Ukrainian і, fullwidth letters, capital I. */
const IMPOSTORS = ["\u0430lice", "al\u0456ce", "\uff41\uff4c\uff49\uff43\uff45", "aIice"];

Deno.test("look-alikes of an online name are refused in both dialects", async () => {
  await using server = await startServer(OPEN);
  const alice = await JsonClient.connect(server.port, { name: "alice" });
  strictEqual(alice.welcome.name, "alice");
  const j = await JsonClient.connect(server.port, {});
  for (const name of IMPOSTORS) {
    const r = await j.request({ type: "rename", name });
    deepStrictEqual([r.type, r.code], ["error", "name_lookalike"], name);
    match(String(r.message), /looks too much like alice/);
  }
  const t = await LineClient.connect(server.port);
  for (const name of IMPOSTORS) {
    await t.send(`rename|${name}`);
    await t.readUntil((l) => l.includes("looks too much like alice"));
  }
  // A hello with a look-alike name is welcomed under its address, with the reason.
  const h = await JsonClient.connect(server.port, { name: "aIice" });
  strictEqual((h.welcome.nameError as { code: string }).code, "name_lookalike");
  // Once alice has gone, the name is free to look like.
  alice.close();
  await j.readUntil((f) => f.event === "offline" && f.name === "alice");
  strictEqual((await j.request({ type: "rename", name: "aIice" })).type, "ok");
  for (const c of [j, t, h]) c.close();
});

Deno.test("look-alikes of a registered name are refused while it is offline", async () => {
  await using server = await startServer(OPEN);
  const a = await JsonClient.connect(server.port, { name: "alice" });
  strictEqual((await a.request({ type: "register", password: "alice password" })).type, "ok");
  a.close();
  const j = await JsonClient.connect(server.port, {});
  for (const name of IMPOSTORS) {
    const r = await j.request({ type: "rename", name });
    deepStrictEqual([r.type, r.code], ["error", "name_lookalike"], name);
  }
  // Its owner may still log in, and a name unlike it is fine.
  strictEqual((await j.request({ type: "rename", name: "alicia" })).type, "ok");
  const owner = await JsonClient.connect(server.port, {
    name: "Alice",
    password: "alice password",
  });
  strictEqual(owner.welcome.account, "alice");
  for (const c of [j, owner]) c.close();
});

Deno.test("names mixing Latin with Cyrillic or Greek letters are refused; one script is fine", async () => {
  await using server = await startServer(OPEN);
  const j = await JsonClient.connect(server.port, {});
  for (const name of ["p\u0430ypal", "\u03a9mega", "bob\u0431"]) {
    const r = await j.request({ type: "rename", name });
    deepStrictEqual([r.type, r.code], ["error", "name_mixed_script"], name);
  }
  for (
    const name of [
      "\u0431\u043e\u0440\u0438\u0441",
      "\u03c9\u03bc\u03ad\u03b3\u03b1",
      "Zo\u00eb_\u65e5\u672c",
    ]
  ) {
    strictEqual((await j.request({ type: "rename", name })).type, "ok", name);
  }
  j.close();
});
