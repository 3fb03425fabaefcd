/**
 * Retention over real sockets: `--retain-messages` and `--retain-days` clean history at start
 * (and daily), from catch-up and search alike, and the welcome says that history is kept.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { JsonClient } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";

type Frame = Record<string, unknown>;
const FAST = ["--msg-rate", "0", "--who-rate", "0"];

async function texts(c: JsonClient, frame: Frame): Promise<string[]> {
  const r = await c.request(frame);
  strictEqual(r.type, "ok", JSON.stringify(r));
  return (r.messages as Frame[]).map((m) => m.text as string);
}

Deno.test("retention: the newest N kept, old days deleted, from catch-up and search", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-retain-" });
  const db = `${dir}/fastim.db`;
  try {
    {
      await using server = await startServer([...FAST, "--db", db]);
      using ann = await JsonClient.connect(server.port, { name: "ann" });
      strictEqual((await ann.request({ type: "register", password: "ann-password" })).type, "ok");
      using bob = await JsonClient.connect(server.port, { name: "bob" });
      for (let i = 1; i <= 6; i++) {
        strictEqual((await bob.request({ type: "say", text: `note ${i}` })).type, "ok");
      }
      for (let i = 1; i <= 3; i++) {
        strictEqual((await bob.request({ type: "msg", to: "ann", text: `pm ${i}` })).type, "ok");
      }
      await server.stop();
    }
    // Make the first note 40 days old, as if it had been said then.
    const raw = new DatabaseSync(db);
    raw.exec("UPDATE messages SET ts = ts - 40 * 86400000 WHERE text = 'note 1'");
    raw.close();

    {
      await using server = await startServer([...FAST, "--db", db, "--retain-days", "30"]);
      using ann = await JsonClient.connect(server.port, { name: "ann", password: "ann-password" });
      strictEqual(
        ann.welcome.historyNotice,
        "messages are stored on this server and can be searched by those who may read them; kept 30 days",
      );
      const all = [2, 3, 4, 5, 6].map((i) => `note ${i}`);
      deepStrictEqual(await texts(ann, { type: "catchup", target: "#lobby", after: 0 }), all);
      deepStrictEqual(await texts(ann, { type: "search", query: "note" }), all.toReversed());
      await server.stop();
    }
    {
      await using server = await startServer([...FAST, "--db", db, "--retain-messages", "2"]);
      using ann = await JsonClient.connect(server.port, { name: "ann", password: "ann-password" });
      strictEqual(ann.welcome.historyNotice?.toString().endsWith("at most the newest 2"), true);
      deepStrictEqual(await texts(ann, { type: "catchup", target: "#lobby", after: 0 }), [
        "note 5",
        "note 6",
      ]);
      deepStrictEqual(await texts(ann, { type: "search", query: "note" }), ["note 6", "note 5"]);
      deepStrictEqual(await texts(ann, { type: "catchup", target: "private", after: 0 }), [
        "pm 2",
        "pm 3",
      ]);
      deepStrictEqual(await texts(ann, { type: "search", query: "pm" }), ["pm 3", "pm 2"]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("retention: a bad value is one clear line", async () => {
  const r = await runServerToExit(["--retain-days", "-1"]);
  strictEqual(r.code, 2);
  strictEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
  strictEqual(r.stderr.includes("--retain-days"), true, r.stderr);
});
