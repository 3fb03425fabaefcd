/**
 * Rooms across restarts, against the real server with a database file: registered members are
 * rejoined at login and get what was said while they were away (paged), the topic, operators and
 * invite-only flag survive; guest rooms do not; an acknowledged room message survives SIGKILL.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient, type LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

type Frame = Record<string, unknown>;

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "fastim-rooms-" });
}

/** A text client logged in (registering first when `register`) as `name`. */
async function textUser(port: number, name: string, register: boolean): Promise<LineClient> {
  const c = await connectText(port);
  if (register) {
    await c.send(`rename|${name}`);
    await c.readUntil((l) => l === `You renamed to ${name}`);
    await c.send(`register|${name}-password`);
    await c.readUntil((l) => l === `You registered ${name}`);
  } else {
    await c.send(`login|${name}|${name}-password`);
    await c.readUntil((l) => l === `You logged in as ${name}`);
  }
  return c;
}

Deno.test("rooms survive a restart: membership, topic, operators, mode, history since last seen", async () => {
  const dir = tempDir();
  const db = `${dir}/chat.db`;
  try {
    {
      await using server = await startServer(["--db", db, "--msg-rate", "0"]);
      using alice = await textUser(server.port, "alice", true);
      using bob = await textUser(server.port, "bob", true);
      await alice.send("join|#keep");
      await alice.readUntil((l) => l.endsWith("alice:joined"));
      await alice.send("topic|#keep|kept | forever");
      await alice.readUntil((l) => l.includes("set the topic"));
      await bob.send("join|#keep");
      await bob.readUntil((l) => l.endsWith("bob:joined"));
      await alice.send("mode|#keep|+i");
      await bob.readUntil((l) => l.includes("invite-only"));
      // bob goes away; alice talks while he is gone.
      bob.close();
      await alice.readUntil((l) => l.endsWith("bob:offline"));
      for (let i = 1; i <= 55; i++) {
        await alice.send(`to|#keep|m${i}`);
        await alice.readUntil((l) => l.endsWith(`alice:m${i}`));
      }
      // A guest room: gone after the restart.
      using guest = await connectText(server.port);
      await guest.send("join|#guests");
      await guest.readUntil((l) => l.startsWith("[#guests]"));
      await server.stop();
    }
    await using server = await startServer(["--db", db, "--msg-rate", "0"]);
    using bob = await textUser(server.port, "bob", false);
    // After the login's reply: his joined line, the 50 newest missed, then how to page back.
    strictEqual(await bob.readLine(), `[#keep] [${bob.addr}], bob:joined`);
    const missed: string[] = [];
    for (let i = 0; i < 50; i++) missed.push((await bob.readLine())!);
    // Marked as replayed (history|TIME|), so they never read as live lines.
    ok(
      /^history\|[\dT:.-]+Z\|\[#keep\] \[127\.0\.0\.1:\d+\], alice:m6$/.test(missed[0]),
      missed[0],
    );
    ok(missed[49].endsWith("alice:m55"), missed[49]);
    const marker = (await bob.readLine())!;
    const m = marker.match(/^\[#keep\] 5 more unread: history\|#keep\|50\|(\d+)$/);
    ok(m, marker);
    await bob.send(`history|#keep|50|${m![1]}`);
    const older: string[] = [];
    for (let i = 0; i < 5; i++) older.push((await bob.readLine())!);
    deepStrictEqual(older.map((l) => l.split(":").pop()), ["m1", "m2", "m3", "m4", "m5"]);
    strictEqual(await bob.readLine(), "history|end|5");

    await bob.send("topic|#keep");
    strictEqual(await bob.readLine(), "[#keep] topic: kept | forever");
    await bob.send("rooms");
    deepStrictEqual([await bob.readLine(), await bob.readLine()], [
      "#lobby|1|",
      "#keep|2|kept | forever",
    ]);
    // Still invite-only: a stranger cannot join and does not see it.
    using stranger = await connectText(server.port);
    await stranger.send("join|#keep");
    strictEqual(
      await stranger.readLine(),
      "#keep is invite-only: ask one of its operators to invite you",
    );
    await stranger.send("join|#guests");
    strictEqual(await stranger.readLine(), `[#guests] [${stranger.addr}], ${stranger.addr}:joined`);
    await stranger.send("history|#guests");
    strictEqual(await stranger.readLine(), "history|end|0");

    // alice is still the operator, and gets nothing missed (she was there till the end).
    using alice = await JsonClient.connect(server.port, {
      name: "alice",
      password: "alice-password",
    });
    deepStrictEqual(alice.welcome.rooms, [{
      room: "#keep",
      topic: "kept | forever",
      members: 2,
      inviteOnly: true,
      member: true,
      operator: true,
    }]);
    const joined = await alice.read();
    deepStrictEqual([joined.type, joined.event, joined.room, joined.name], [
      "room",
      "joined",
      "#keep",
      "alice",
    ]);
    const ops = await alice.request({ type: "op", room: "#keep", name: "bob" });
    strictEqual(ops.type, "ok");
    strictEqual(
      await bob.readUntil((l) => l.startsWith("[#keep]")),
      "[#keep] alice made bob an operator",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SIGKILL right after an acknowledgement loses no acknowledged room message", async () => {
  const dir = tempDir();
  const db = `${dir}/chat.db`;
  const acked: string[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      const server = await startServer(["--db", db, "--msg-rate", "0"]);
      const c = await JsonClient.connect(
        server.port,
        round === 0 ? { name: "w" } : { name: "w", password: "w-password" },
      );
      if (round === 0) {
        strictEqual((await c.request({ type: "register", password: "w-password" })).type, "ok");
        strictEqual((await c.request({ type: "join", room: "#durable" })).type, "ok");
      }
      const killAfter = 20 + Math.floor(Math.random() * 60);
      for (let i = 0; i < 200; i++) {
        await c.send({ type: "say", id: i, room: "#durable", text: `r${round}-${i}` });
      }
      let seen = 0;
      for (;;) {
        const f: Frame = await c.read();
        if (f.type === "ok" && typeof f.id === "number") {
          acked.push(`r${round}-${f.id}`);
          if (++seen >= killAfter) break;
        }
      }
      await server.stop("SIGKILL");
      c.close();
    }
    await using server = await startServer(["--db", db]);
    using c = await JsonClient.connect(server.port, { name: "w", password: "w-password" });
    const stored = new Set<string>();
    let before: number | undefined;
    for (;;) {
      const page = await c.request({ type: "history", room: "#durable", limit: 500, before });
      const messages = page.messages as { msgId: number; text: string }[];
      if (messages.length === 0) break;
      for (const m of messages) stored.add(m.text);
      before = messages[0].msgId;
    }
    const lost = acked.filter((t) => !stored.has(t));
    deepStrictEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
