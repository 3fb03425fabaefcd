/**
 * Rooms in the text dialect, over real sockets: joining, talking, topics, operators, invites,
 * kicks, admin close, and that a room's lines never reach anyone outside it.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, type LineClient, readLines } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

/** A text client that renamed itself to `name` (and read its own rename reply). */
async function named(port: number, name: string): Promise<LineClient> {
  const c = await connectText(port);
  await c.send(`rename|${name}`);
  await c.readUntil((l) => l === `You renamed to ${name}`);
  return c;
}

Deno.test("rooms (text): join, talk, who, topic, part; lines stay inside the room", async (t) => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
  using alice = await named(server.port, "alice");
  using bob = await named(server.port, "bob");
  using carol = await named(server.port, "carol");
  // Everyone saw everyone's renames; start each test step from a quiet line.
  await alice.readUntil((l) => l.endsWith(":renamed to carol"));
  await bob.readUntil((l) => l.endsWith(":renamed to carol"));

  await t.step("join creates the room; the creator sees its own joined line", async () => {
    await alice.send("join|#Dev");
    strictEqual(await alice.readLine(), `[#Dev] [${alice.addr}], alice:joined`);
    strictEqual(await alice.quietFor(100), null, "no topic line for a room without one");
  });

  await t.step("a second member is announced to the room only", async () => {
    await bob.send("join|#dev");
    strictEqual(await bob.readLine(), `[#Dev] [${bob.addr}], bob:joined`);
    strictEqual(await alice.readLine(), `[#Dev] [${bob.addr}], bob:joined`);
  });

  await t.step("to|#ROOM|TEXT reaches members only, | kept; lobby lines unchanged", async () => {
    await alice.send("to|#dev|hello | dev");
    const line = `[#Dev] [${alice.addr}], alice:hello | dev`;
    strictEqual(await alice.readLine(), line);
    strictEqual(await bob.readLine(), line);
    await carol.send("lobby talk");
    const lobby = `[${carol.addr}], carol:lobby talk`;
    strictEqual(await carol.readLine(), lobby, "carol got only her lobby line, not the room's");
    strictEqual(await alice.readLine(), lobby);
    strictEqual(await bob.readLine(), lobby);
  });

  await t.step("who|#ROOM lists online members, operators marked", async () => {
    await bob.send("who|#dev");
    deepStrictEqual(await readLines(bob, 2), [
      `[#Dev] [${alice.addr}],alice:operator`,
      `[#Dev] [${bob.addr}],bob:online`,
    ]);
  });

  await t.step("topic: operators set it, members see it; others may not", async () => {
    await bob.send("topic|#dev|not mine");
    strictEqual(await bob.readLine(), "only an operator of #Dev may do that");
    await alice.send("topic|#dev|release | friday");
    const line = "[#Dev] alice set the topic: release | friday";
    strictEqual(await alice.readLine(), line);
    strictEqual(await bob.readLine(), line);
    await carol.send("topic|#dev");
    strictEqual(await carol.readLine(), "[#Dev] topic: release | friday");
  });

  await t.step("rooms lists the lobby first, then visible rooms: #ROOM|MEMBERS|TOPIC", async () => {
    await carol.send("rooms");
    deepStrictEqual(await readLines(carol, 2), ["#lobby|3|", "#Dev|2|release | friday"]);
  });

  await t.step("history|#ROOM and paging with a before id", async () => {
    await alice.send("to|#dev|second");
    await alice.readLine();
    await bob.readLine();
    await bob.send("history|#dev|1");
    const replayed = (await bob.readLine())!;
    ok(/^history\|\d{4}-[\dT:.-]+Z\|/.test(replayed), replayed);
    strictEqual(replayed.replace(/^history\|[^|]*\|/, ""), `[#Dev] [${alice.addr}], alice:second`);
    strictEqual(await bob.readLine(), "history|end|1");
    await carol.send("history|#dev");
    strictEqual(await carol.readLine(), "you are not in #Dev: join|#Dev first");
  });

  await t.step("non-members cannot talk in it; a line never reaches carol", async () => {
    await carol.send("to|#dev|let me in");
    strictEqual(await carol.readLine(), "you are not in #Dev: join|#Dev first");
    strictEqual(await alice.quietFor(100), null);
  });

  await t.step("part: the room is told, the leaver told it left", async () => {
    await bob.send("part|#dev");
    strictEqual(await bob.readLine(), "You left #Dev");
    strictEqual(await alice.readLine(), `[#Dev] [${bob.addr}], bob:left`);
    await alice.send("to|#dev|alone");
    strictEqual(await alice.readLine(), `[#Dev] [${alice.addr}], alice:alone`);
    strictEqual(await bob.quietFor(100), null, "bob left: no more room lines");
  });

  await t.step("a guest room disappears with its last member", async () => {
    await alice.send("part|#dev");
    strictEqual(await alice.readLine(), "You left #Dev");
    await alice.send("topic|#dev");
    strictEqual(await alice.readLine(), "there is no room #dev: join|#dev creates it");
  });

  await t.step("bad names and the lobby's rules get clear errors", async () => {
    await alice.send("join|#");
    ok((await alice.readLine())!.startsWith('bad room name "#": use # and then'));
    await alice.send("join|#a b");
    ok((await alice.readLine())!.startsWith('bad room name "#a b"'));
    await alice.send("part|#lobby");
    strictEqual(
      await alice.readLine(),
      "#lobby is everyone's room: it has no members, topic or operators",
    );
    await alice.send("join|#lobby");
    strictEqual(await alice.readLine(), "You are in #lobby already");
    await alice.send("mode|#x|+q");
    strictEqual(await alice.readLine(), "Invalid mode format. Use: mode|#ROOM|+i or mode|#ROOM|-i");
    // A line whose first field does not start with # is what it always was: a public message.
    await alice.send("part|of the plan");
    strictEqual(await alice.readLine(), `[${alice.addr}], alice:part|of the plan`);
  });
});

Deno.test("rooms (text): invite-only, invites, kick, operator handover, admin close", async (t) => {
  await using server = await startServer([
    "--msg-rate",
    "0",
    "--admin",
    "root",
  ]);
  using alice = await named(server.port, "alice");
  using bob = await named(server.port, "bob");
  using root = await named(server.port, "root");
  await root.send("register|rootpassword");
  await root.readUntil((l) => l === "You registered root");
  await alice.readUntil((l) => l.endsWith(":renamed to root"));
  await bob.readUntil((l) => l.endsWith(":renamed to root"));

  await alice.send("join|#ops");
  await alice.readUntil((l) => l.endsWith("alice:joined"));

  await t.step("mode +i: the room is hidden from non-members and refuses joins", async () => {
    await alice.send("mode|#ops|+i");
    strictEqual(await alice.readLine(), "[#ops] alice made the room invite-only");
    await bob.send("rooms");
    strictEqual(await bob.readLine(), "#lobby|3|");
    strictEqual(await bob.quietFor(100), null, "#ops is not listed to bob");
    await bob.send("join|#ops");
    strictEqual(
      await bob.readLine(),
      "#ops is invite-only: ask one of its operators to invite you",
    );
    await bob.send("topic|#ops");
    strictEqual(await bob.readLine(), "there is no room #ops: join|#ops creates it");
  });

  await t.step("invite: the invitee is told and may join once", async () => {
    await bob.send("invite|#ops|alice");
    strictEqual(await bob.readLine(), "there is no room #ops: join|#ops creates it");
    await alice.send("invite|#ops|BOB");
    strictEqual(await bob.readLine(), "[#ops] alice invited you: join|#ops");
    strictEqual(await alice.readLine(), "You invited bob to #ops");
    await bob.send("join|#ops");
    strictEqual(await bob.readLine(), `[#ops] [${bob.addr}], bob:joined`);
    strictEqual(await alice.readLine(), `[#ops] [${bob.addr}], bob:joined`);
  });

  await t.step(
    "kick: the room sees why; the kicked one is out and needs a new invite",
    async () => {
      await bob.send("kick|#ops|alice|no");
      strictEqual(await bob.readLine(), "only an operator of #ops may do that");
      await alice.send("kick|#ops|bob|too loud | sorry");
      const line = "[#ops] alice kicked bob: too loud | sorry";
      strictEqual(await bob.readLine(), line);
      strictEqual(await alice.readLine(), line);
      strictEqual(await alice.readLine(), "You kicked bob from #ops");
      await bob.send("to|#ops|hey");
      strictEqual(await bob.readLine(), "there is no room #ops: join|#ops creates it");
      await bob.send("join|#ops");
      strictEqual(
        await bob.readLine(),
        "#ops is invite-only: ask one of its operators to invite you",
      );
      await alice.send("kick|#ops|nobody");
      strictEqual(await alice.readLine(), "nobody is not in #ops");
    },
  );

  await t.step("operator handover: op, then the old operator parts", async () => {
    await alice.send("invite|#ops|bob");
    await bob.readUntil((l) => l.includes("invited you"));
    await alice.readLine();
    await bob.send("join|#ops");
    await bob.readLine();
    await alice.readLine();
    await alice.send("op|#ops|bob");
    const line = "[#ops] alice made bob an operator";
    strictEqual(await alice.readLine(), line);
    strictEqual(await bob.readLine(), line);
    await alice.send("part|#ops");
    strictEqual(await alice.readLine(), "You left #ops");
    await bob.readLine(); // alice left
    await bob.send("mode|#ops|-i");
    strictEqual(await bob.readLine(), "[#ops] bob opened the room to everyone");
  });

  await t.step("admin: only server admins close rooms; an admin may op itself", async () => {
    await alice.send("close|#ops");
    strictEqual(
      await alice.readLine(),
      "only server operators (--admin, logged in) may close a room",
    );
    await root.send("join|#ops");
    await root.readUntil((l) => l.endsWith("root:joined"));
    await bob.readLine();
    await root.send("op|#ops|root");
    strictEqual(await root.readLine(), "[#ops] root made root an operator");
    await bob.readLine();
    await root.send("close|#ops");
    strictEqual(await root.readLine(), "[#ops] root closed the room");
    strictEqual(await root.readLine(), "You closed #ops");
    strictEqual(await bob.readLine(), "[#ops] root closed the room");
    await bob.send("to|#ops|anyone?");
    strictEqual(await bob.readLine(), "there is no room #ops: join|#ops creates it");
  });
});
