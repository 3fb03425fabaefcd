/**
 * Rooms in the terminal client, end to end with piped stdin: the real client, a text-dialect
 * user (as with `nc`) and a JSON user in one room, and a lobby user who must never see the room's
 * lines. `/join` switches the current room, plain lines go to it, lines from elsewhere carry their
 * room, `/who` `/topic` `/rooms` `/part` act on the current room; a registered user's rooms come
 * back with the welcome. (The menu item and the status line are in client_tty_rooms_test.ts.)
 */

import assert from "node:assert/strict";
import { ClientProcess } from "../helpers/client.ts";
import { connectText, JsonClient, type LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const at = (port: number) => ["-ip", "127.0.0.1", "-port", String(port)];
const env = { FASTIM_PASSWORD: "" };
/** Display lines of stdout without their `HH:MM ` time. */
const shown = (stdout: string) =>
  stdout.split("\n").filter((l) => /^\d\d:\d\d /.test(l)).map((l) => l.slice(6));

async function textUser(port: number, name: string): Promise<LineClient> {
  const c = await connectText(port);
  await c.send(`rename|${name}`);
  await c.readUntil((l) => l === `You renamed to ${name}`);
  return c;
}

Deno.test("client rooms: the client, a text user and a JSON user in one room", async (t) => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  using dave = await JsonClient.connect(server.port, { name: "dave" }); // lobby only
  using carol = await textUser(server.port, "carol");
  // In the lobby only, read once at the end: it must have got no line of the room.
  using erin = await textUser(server.port, "erin");
  assert.equal((await bob.request({ type: "join", room: "#dev" })).type, "ok");
  await bob.request({ type: "topic", room: "#dev", text: "release | friday" });
  await carol.send("join|#dev");
  await carol.readUntil((l) => l === `[#dev] [${carol.addr}], carol:joined`);

  await using alice = ClientProcess.spawn([...at(server.port), "--name", "alice"], { env });
  await alice.waitForStderr("connected to");
  const step = async (line: string, want: string | RegExp, where: "stdout" | "stderr") => {
    await alice.write(`${line}\n`);
    await (where === "stdout" ? alice.waitForStdout(want) : alice.waitForStderr(want));
  };

  await t.step("/join #dev joins, says so, and shows the topic", async () => {
    await step("/join dev", "you are in #dev now (3 members); lines you type go to it", "stderr");
    await alice.waitForStderr("topic of #dev: release | friday");
    await bob.readUntil((f) => f.type === "room" && f.event === "joined" && f.name === "alice");
  });

  await t.step(
    "plain text goes to the current room: the JSON and text members get it",
    async () => {
      await alice.write("hello room | pipes kept\n");
      const got = await bob.readUntil((f) => f.type === "public");
      assert.deepEqual([got.room, got.from, got.text], [
        "#dev",
        "alice",
        "hello room | pipes kept",
      ]);
      assert.match(
        await carol.readUntil((l) => l.includes("alice:hello")),
        /^\[#dev\] \[127\.0\.0\.1:\d+\], alice:hello room \| pipes kept$/,
      );
      await alice.waitForStdout("<alice> hello room | pipes kept");
    },
  );

  await t.step("the room's lines are shown plainly, the lobby's with their room", async () => {
    await bob.send({ type: "say", room: "#dev", text: "from json" });
    await carol.send("to|#dev|from text");
    await alice.waitForStdout("<carol> from text");
    await dave.send({ type: "say", text: "lobby news" });
    await alice.waitForStdout("[#lobby] <dave> lobby news");
    const lines = shown(alice.stdout);
    assert.ok(lines.includes("<bob> from json"), lines.join("\n"));
    assert.ok(lines.includes("<carol> from text"), lines.join("\n"));
  });

  await t.step("/who and /topic are about the current room", async () => {
    await step("/who", /^in #dev \(3\): .*alice \(you\)/m, "stdout");
    assert.match(alice.stdout, /^in #dev \(3\): .*bob \(operator\)/m);
    await step("/topic", "topic of #dev: release | friday", "stdout");
    await step(
      "/topic mine now",
      "! could not set the topic of #dev: only an operator of #dev may do that",
      "stderr",
    );
  });

  await t.step("/rooms marks the current room", async () => {
    await step("/rooms", "* #dev (3 members, joined): release | friday", "stdout");
    assert.match(alice.stdout, /^ {2}#lobby \(5 online, 1 unread\)$/m);
  });

  await t.step("/part leaves; lines go to the lobby again", async () => {
    await step("/part", "you left #dev; lines you type go to #lobby", "stderr");
    await bob.readUntil((f) => f.type === "room" && f.event === "left" && f.name === "alice");
    await alice.write("back in the lobby\n");
    const got = await dave.readUntil((f) => f.type === "public" && f.from === "alice");
    assert.deepEqual([got.room, got.text], [undefined, "back in the lobby"]);
  });

  await t.step("the lobby-only users never saw a room line", async () => {
    await dave.send({ type: "say", text: "done" });
    await alice.waitForStdout("<dave> done");
    const lines: string[] = [];
    await erin.readUntil((l) => (lines.push(l), l.endsWith("dave:done")));
    assert.ok(lines.some((l) => l.endsWith("alice:back in the lobby")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.startsWith("[#") || l.includes("pipes kept")), lines.join("\n"));
    await alice.closeStdin();
    const r = await alice.finish();
    assert.equal(r.code, 1, "one request (the topic) was refused");
  });
});

Deno.test("client rooms: a registered user's rooms come back with the welcome", async () => {
  await using server = await startServer(["--msg-rate", "0"]);
  const password = "alice-password";
  const first = await (async () => {
    await using c = ClientProcess.spawn([...at(server.port), "--name", "alice"], { env });
    await c.write(`/register ${password}\n/join #dev\n`);
    await c.closeStdin();
    return await c.finish();
  })();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^you are in #dev now/m);

  using bob = await JsonClient.connect(server.port, { name: "bob" });
  await bob.request({ type: "join", room: "#dev" });
  await bob.request({ type: "say", room: "#dev", text: "while you were away" });

  await using alice = ClientProcess.spawn([...at(server.port), "--name", "alice"], {
    env: { FASTIM_PASSWORD: password },
  });
  await alice.waitForStderr(/^connected to .* as alice \(2 online; your rooms: #dev\)$/m);
  await alice.write("/join #dev\nback again\n");
  const got = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
  assert.deepEqual([got.room, got.text], ["#dev", "back again"]);
  await alice.closeStdin();
  const r = await alice.finish();
  assert.equal(r.code, 0, r.stderr);
  // Already a member: /join only switched, without asking the server.
  assert.match(r.stderr, /^lines you type go to #dev now$/m);
  assert.doesNotMatch(r.stderr, /you are in #dev now/);
});

Deno.test("client rooms: after the server restarts, a guest's rooms are joined again", async () => {
  const first = await startServer();
  const port = first.port;
  await using alice = ClientProcess.spawn([...at(port), "--name", "alice"], { env });
  try {
    await alice.waitForStderr("connected to");
    await alice.write("/join #dev\n");
    await alice.waitForStderr("you are in #dev now");
  } finally {
    await first.stop("SIGKILL"); // the rooms of guests, in memory, are gone with it
  }
  await using second = await startServer([], { port });
  await alice.waitForStderr(/reconnected to 127\.0\.0\.1:\d+ as alice/, 10_000);
  using bob = await JsonClient.connect(second.port, { name: "bob" });
  await bob.request({ type: "join", room: "#dev" });
  // The client joins again on its own, soon after it is back: ask until alice is listed.
  for (let tries = 0;; tries++) {
    const who = await bob.request({ type: "who", room: "#dev" });
    const users = Array.isArray(who.users) ? who.users : [];
    if (users.some((u) => u.name === "alice")) break;
    assert.ok(tries < 100, `alice not back in #dev: ${JSON.stringify(who)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // The server has her in #dev before her client has the join's reply, and until then the lobby
  // is her current room (tests/unit/client/rooms_test.ts): ask her client until #dev is current.
  for (let tries = 0;; tries++) {
    await alice.write("/rooms\n");
    const current = (out: string, err: string) => /^\* \S*#dev\b/m.test(out + "\n" + err);
    try {
      await alice.waitFor(current, "#dev current again", 500);
      break;
    } catch (e) {
      if (tries >= 20) throw e;
    }
  }
  await alice.write("still in dev\n");
  const got = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
  assert.deepEqual([got.room, got.text], ["#dev", "still in dev"]);
  await alice.closeStdin();
  assert.equal((await alice.finish()).code, 0, alice.stderr);
});

Deno.test("client rooms: a server admin joins an invite-only room, takes over as operator, closes it", async () => {
  await using server = await startServer(["--msg-rate", "0", "--admin", "root"]);
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  await bob.request({ type: "join", room: "#locked" });
  await bob.request({ type: "mode", room: "#locked", inviteOnly: true });
  using carol = await JsonClient.connect(server.port, { name: "carol" });
  assert.equal((await carol.request({ type: "join", room: "#locked" })).code, "invite_only");

  await using root = ClientProcess.spawn([...at(server.port), "--name", "root"], { env });
  await root.waitForStderr("connected to");
  await root.write("/register root-password\n/join #locked\n");
  await root.waitForStderr("you are in #locked now (2 members)");
  await root.write("/op root\n");
  const op = await bob.readUntil((f) => f.type === "room" && f.event === "op");
  assert.deepEqual([op.name, op.by], ["root", "root"]);
  await root.write("/close\nback in the lobby\n");
  const closed = await bob.readUntil((f) => f.type === "room" && f.event === "closed");
  assert.equal(closed.name, "root");
  const said = await bob.readUntil((f) => f.type === "public" && f.from === "root");
  assert.deepEqual([said.room, said.text], [undefined, "back in the lobby"], "closed: the lobby");
  assert.equal((await bob.request({ type: "who", room: "#locked" })).code, "no_such_room");
  await root.closeStdin();
  const r = await root.finish();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^you closed #locked$/m);
  assert.match(r.stdout, /^\d\d:\d\d \* root made you an operator$/m);
});
