/**
 * The store as a user meets it: history, durability across SIGKILL, accounts and offline
 * delivery, against the real server over real sockets with a database file.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";
import { migrate } from "../../lib/store/sqlite.ts";

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "fastim-test-" });
}

Deno.test("history survives a restart: JSON clients get it on joining, text clients ask for it", async () => {
  const dir = tempDir();
  const db = `${dir}/chat.db`;
  try {
    {
      await using server = await startServer(["--db", db]);
      const a = await JsonClient.connect(server.port, { name: "alice" });
      for (const text of ["one", "two", "three"]) {
        strictEqual((await a.request({ type: "say", text })).type, "ok");
      }
      a.close();
      await server.stop();
    }
    await using server = await startServer(["--db", db, "--history", "2"]);
    const b = await JsonClient.connect(server.port, { name: "bob" });
    const h1 = await b.read();
    const h2 = await b.read();
    deepStrictEqual([h1.type, h1.history, h1.from, h1.text], ["public", true, "alice", "two"]);
    deepStrictEqual([h2.text, h2.history], ["three", true]);
    // Paging further back with a before-id cursor.
    const page = await b.request({ type: "history", limit: 5, before: h1.msgId });
    deepStrictEqual((page.messages as { text: string }[]).map((m) => m.text), ["one"]);
    const t = await LineClient.connect(server.port);
    await t.readLine(); // own online notice
    await t.send("history|2");
    // Marked as history (a live line never starts with "history|"), then the end of the reply.
    const lines = [await t.readLine(), await t.readLine(), await t.readLine()];
    const at = /^history\|(\d{4}-\d\d-\d\dT[\d:.]+Z)\|\[127\.0\.0\.1:\d+\], alice:/;
    ok(new RegExp(at.source + "two$").test(lines[0]!), lines[0]!);
    ok(new RegExp(at.source + "three$").test(lines[1]!), lines[1]!);
    strictEqual(lines[2], "history|end|2");
    // Live lines keep the original's format, byte for byte.
    await t.send("live now");
    ok(/^\[127\.0\.0\.1:\d+\], 127\.0\.0\.1:\d+:live now$/.test((await t.readLine())!));
    b.close();
    t.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SIGKILL right after an acknowledgement loses no acknowledged message", async () => {
  const dir = tempDir();
  const db = `${dir}/chat.db`;
  const acked: string[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      const server = await startServer(["--db", db, "--msg-rate", "0"]);
      const c = await JsonClient.connect(server.port, { name: `w${round}` });
      // Keep many requests in flight, and kill as soon as a random ack arrives.
      const killAfter = 20 + Math.floor(Math.random() * 60);
      for (let i = 0; i < 200; i++) await c.send({ type: "say", id: i, text: `r${round}-${i}` });
      let seen = 0;
      while (seen < killAfter) {
        const f = await c.read();
        if (f.type === "ok") {
          acked.push(`r${round}-${f.id}`);
          seen++;
        }
      }
      await server.stop("SIGKILL");
      c.close();
    }
    const file = new DatabaseSync(db);
    const rows = file.prepare("SELECT text FROM messages").all() as { text: string }[];
    file.close();
    const stored = new Set(rows.map((m) => m.text));
    const lost = acked.filter((t) => !stored.has(t));
    deepStrictEqual(lost, [], `acknowledged but lost: ${lost.join(", ")}`);
    ok(acked.length >= 100);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a registered name is protected, and a wrong password is refused", async () => {
  await using server = await startServer([]);
  const a = await JsonClient.connect(server.port, { name: "alice" });
  const weak = await a.request({ type: "register", password: "short" });
  deepStrictEqual([weak.type, weak.code], ["error", "password_weak"]);
  const reg = await a.request({ type: "register", password: "correct horse" });
  deepStrictEqual([reg.type, reg.name], ["ok", "alice"]);
  const again = await a.request({ type: "register", password: "correct horse" });
  deepStrictEqual([again.type, again.code], ["error", "already_registered"]);
  a.close();
  await a.lines.readToEnd().catch(() => {});

  // A guest cannot take the name, in either dialect, in any case.
  const g = await LineClient.connect(server.port);
  await g.send("rename|ALICE");
  await g.readUntil((l) => l.includes("registered"));
  const j = await JsonClient.connect(server.port, { name: "alice" });
  deepStrictEqual(
    [j.welcome.name === "alice", (j.welcome.nameError as { code: string }).code],
    [false, "name_registered"],
  );
  const wrong = await j.request({ type: "login", name: "alice", password: "wrong horse" });
  deepStrictEqual([wrong.type, wrong.code], ["error", "login_failed"]);
  const right = await j.request({ type: "login", name: "Alice", password: "correct horse" });
  deepStrictEqual([right.type, right.name], ["ok", "alice"]);
  // The text dialect logs in too, here asking for a takeover...
  await g.send("takeover|alice|correct horse");
  strictEqual(await g.readUntil((l) => l.startsWith("You logged in")), "You logged in as alice");
  // ...so the JSON connection that held the name is told and closed.
  const bye = await j.readUntil((f) => f.type === "notice");
  strictEqual(bye.code, "replaced");
  g.close();
  j.close();
});

Deno.test("failed logins are rate-limited per address", async () => {
  await using server = await startServer([]);
  const a = await JsonClient.connect(server.port, { name: "carol" });
  strictEqual((await a.request({ type: "register", password: "a long password" })).type, "ok");
  const b = await JsonClient.connect(server.port);
  const codes: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await b.request({ type: "login", name: "carol", password: `nope ${i}!!!` }, 5000);
    codes.push(r.code as string);
  }
  deepStrictEqual(codes.slice(0, 5), Array(5).fill("login_failed"));
  deepStrictEqual(codes.slice(5), ["rate_limited", "rate_limited"]);
  // Even the right password waits now.
  const right = await b.request({ type: "login", name: "carol", password: "a long password" });
  strictEqual(right.code, "rate_limited");
  a.close();
  b.close();
});

Deno.test("a private message to an offline registered user is stored, survives a restart, and is delivered with its time", async () => {
  const dir = tempDir();
  const db = `${dir}/chat.db`;
  try {
    let sentTs = 0;
    {
      await using server = await startServer(["--db", db]);
      const s = await JsonClient.connect(server.port, { name: "sam" });
      const d = await JsonClient.connect(server.port, { name: "dave" });
      strictEqual((await d.request({ type: "register", password: "dave's secret" })).type, "ok");
      d.close();
      await s.readUntil((f) => f.type === "presence" && f.event === "offline" && f.name === "dave");
      const r = await s.request({ type: "msg", to: "DAVE", text: "while you were out" });
      deepStrictEqual([r.type, r.stored, r.to], ["ok", true, "DAVE"]);
      sentTs = r.ts as number;
      // Unknown names that are offline are still not online.
      strictEqual((await s.request({ type: "msg", to: "nobody", text: "x" })).code, "not_online");
      const t = await LineClient.connect(server.port);
      await t.send("to|dave|text dialect too");
      strictEqual(
        await t.readUntil((l) => l.includes("offline")),
        "dave is offline: the message was stored and will be delivered when they log in",
      );
      s.close();
      t.close();
    }
    await using server = await startServer(["--db", db]);
    // First login without acknowledging: the messages come, and come again next time.
    for (let attempt = 0; attempt < 2; attempt++) {
      const d = await JsonClient.connect(server.port, { name: "dave", password: "dave's secret" });
      strictEqual(d.welcome.account, "dave");
      const m1 = await d.readUntil((f) => f.type === "private");
      const m2 = await d.readUntil((f) => f.type === "private");
      deepStrictEqual([m1.from, m1.text, m1.offline, m1.ts], [
        "sam",
        "while you were out",
        true,
        sentTs,
      ]);
      strictEqual(m2.text, "text dialect too");
      if (attempt === 1) {
        strictEqual((await d.request({ type: "ack", msgIds: [m1.msgId, m2.msgId] })).type, "ok");
      }
      d.close();
      await d.lines.readToEnd().catch(() => {});
    }
    // Acknowledged: not delivered a third time.
    const d = await JsonClient.connect(server.port, { name: "dave", password: "dave's secret" });
    strictEqual(await d.lines.quietFor(300), null);
    d.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the server migrates a version-1 database and refuses a bad one with one clear line", async (t) => {
  const dir = tempDir();
  try {
    await t.step("version 1 is migrated and its history kept", async () => {
      const db = `${dir}/v1.db`;
      const raw = new DatabaseSync(db);
      migrate(raw, 1);
      raw.exec("INSERT INTO meta (key, value) VALUES ('next_id', 100)");
      raw.prepare("INSERT INTO messages (id, ts, sender, sender_addr, text) VALUES (?,?,?,?,?)")
        .run(7, 1, "old", "10.0.0.1:1", "from the old days");
      raw.close();
      await using server = await startServer(["--db", db]);
      const c = await JsonClient.connect(server.port);
      const h = await c.read();
      deepStrictEqual([h.text, h.history], ["from the old days", true]);
      const said = await c.request({ type: "say", text: "new" });
      ok((said.msgId as number) >= 100, "ids continue after the stored high-water mark");
      c.close();
    });
    await t.step("an unwritable path exits 1 with one line", async () => {
      const r = await runServerToExit(["--port", "0", "--db", `${dir}/missing/dir/x.db`]);
      strictEqual(r.code, 1);
      const lines = r.stderr.trim().split("\n");
      strictEqual(lines.length, 1, r.stderr);
      ok(
        /^server: cannot (create or )?open database .*missing\/dir\/x\.db/.test(lines[0]),
        lines[0],
      );
    });
    await t.step("a corrupt file exits 1 with one line", async () => {
      Deno.writeTextFileSync(`${dir}/bad.db`, "garbage ".repeat(1000));
      const r = await runServerToExit(["--port", "0", "--db", `${dir}/bad.db`]);
      strictEqual(r.code, 1);
      ok(/^server: database .* is not a FastIM database or is corrupt/.test(r.stderr), r.stderr);
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
