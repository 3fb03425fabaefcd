/**
 * Rooms in the JSON dialect and mixed with the text dialect, over real sockets; every room error
 * code and limit.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient, type LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

type Frame = Record<string, unknown>;

/** Reads frames up to the reply to `id`, and returns the reply and the frames before it. */
async function replyTo(
  c: JsonClient,
  id: number | string,
): Promise<{ reply: Frame; before: Frame[] }> {
  const before: Frame[] = [];
  for (;;) {
    const f = await c.read();
    if ((f.type === "ok" || f.type === "error") && f.id === id) return { reply: f, before };
    before.push(f);
  }
}

function strip(f: Frame): Frame {
  const { msgId: _m, ts: _t, ...rest } = f;
  return rest;
}

Deno.test("rooms (JSON): requests with ids and acks, typed events, mixed with a text user", async (t) => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
  using jane = await JsonClient.connect(server.port, { name: "jane" });
  using tom = await connectText(server.port);
  await tom.send("rename|tom");
  await tom.readUntil((l) => l === "You renamed to tom");
  await jane.readUntil((f) => f.type === "presence" && f.name === "tom");
  using eve = await JsonClient.connect(server.port, { name: "eve" });
  await jane.readUntil((f) => f.type === "presence" && f.name === "eve");
  await tom.readUntil((l) => l.endsWith("renamed to eve"));

  await t.step("join: ok with room, topic, members, operator; joined event first", async () => {
    await jane.send({ type: "join", id: 1, room: "#Mixed" });
    const { reply, before } = await replyTo(jane, 1);
    deepStrictEqual(before.map(strip), [
      { type: "room", room: "#Mixed", event: "joined", name: "jane", addr: jane.lines.addr },
    ]);
    deepStrictEqual(reply, {
      type: "ok",
      id: 1,
      room: "#Mixed",
      topic: "",
      members: 1,
      operator: true,
    });
  });

  await t.step("a text user joins: the JSON member gets a typed event", async () => {
    await tom.send("join|#mixed");
    strictEqual(await tom.readLine(), `[#Mixed] [${tom.addr}], tom:joined`);
    deepStrictEqual(strip(await jane.read()), {
      type: "room",
      room: "#Mixed",
      event: "joined",
      name: "tom",
      addr: tom.addr,
    });
  });

  await t.step("say with room: public event with room to members, acked", async () => {
    await jane.send({ type: "say", id: 2, room: "#mixed", text: "hi | tom" });
    const { reply, before } = await replyTo(jane, 2);
    strictEqual(reply.type, "ok");
    deepStrictEqual(before, [{
      type: "public",
      msgId: reply.msgId,
      ts: reply.ts,
      from: "jane",
      text: "hi | tom",
      room: "#Mixed",
    }]);
    strictEqual(await tom.readLine(), `[#Mixed] [${jane.lines.addr}], jane:hi | tom`);
    await tom.send("to|#mixed|hello jane");
    strictEqual(await tom.readLine(), `[#Mixed] [${tom.addr}], tom:hello jane`);
    const f = await jane.read();
    // It names jane, so her copy is marked as a mention.
    deepStrictEqual(strip(f), {
      type: "public",
      from: "tom",
      text: "hello jane",
      room: "#Mixed",
      mention: true,
    });
  });

  await t.step("nothing of the room reaches eve, who is only in the lobby", async () => {
    strictEqual(await eve.lines.quietFor(150), null);
    const lobby = await jane.request({ type: "say", id: 3, text: "lobby" });
    strictEqual(lobby.type, "ok");
    const f = await eve.read();
    deepStrictEqual(strip(f), { type: "public", from: "jane", text: "lobby" }, "no room field");
    strictEqual(await tom.readLine(), `[${jane.lines.addr}], jane:lobby`);
  });

  await t.step("who, topic, history, rooms with a room", async () => {
    const who = await jane.request({ type: "who", id: 4, room: "#mixed" });
    deepStrictEqual(who, {
      type: "ok",
      id: 4,
      room: "#Mixed",
      users: [{ name: "jane", addr: jane.lines.addr }, { name: "tom", addr: tom.addr }],
      operators: ["jane"],
    });
    await jane.send({ type: "topic", id: 5, room: "#mixed", text: "both dialects" });
    const { reply, before } = await replyTo(jane, 5);
    deepStrictEqual(reply, { type: "ok", id: 5, room: "#Mixed", topic: "both dialects" });
    deepStrictEqual(before.map(strip), [
      { type: "room", room: "#Mixed", event: "topic", name: "jane", text: "both dialects" },
    ]);
    strictEqual(await tom.readLine(), "[#Mixed] jane set the topic: both dialects");
    const history = await jane.request({ type: "history", id: 6, room: "#mixed", limit: 10 });
    deepStrictEqual(
      (history.messages as Frame[]).map((m) => m.text),
      ["hi | tom", "hello jane"],
    );
    const rooms = await eve.request({ type: "rooms", id: 7 });
    deepStrictEqual(rooms.rooms, [
      { room: "#lobby", topic: "", members: 3, inviteOnly: false, member: true, operator: false },
      {
        room: "#Mixed",
        topic: "both dialects",
        members: 2,
        inviteOnly: false,
        member: false,
        operator: false,
      },
    ]);
  });

  await t.step("mode, invite, op and kick as typed events", async () => {
    const mode = await jane.request({ type: "mode", id: 8, room: "#mixed", inviteOnly: true });
    deepStrictEqual(mode, { type: "ok", id: 8, room: "#Mixed" });
    strictEqual(await tom.readLine(), "[#Mixed] jane made the room invite-only");
    const refused = await eve.request({ type: "join", id: 9, room: "#mixed" });
    strictEqual(refused.code, "invite_only");
    const invite = await jane.request({ type: "invite", id: 10, room: "#mixed", name: "eve" });
    deepStrictEqual(invite, { type: "ok", id: 10, room: "#Mixed", name: "eve" });
    deepStrictEqual(strip(await eve.read()), {
      type: "room",
      room: "#Mixed",
      event: "invited",
      name: "eve",
      by: "jane",
    });
    strictEqual((await eve.request({ type: "join", id: 11, room: "#mixed" })).type, "ok");
    await tom.readLine(); // eve joined
    await jane.send({ type: "op", id: 12, room: "#mixed", name: "tom" });
    const op = await replyTo(jane, 12);
    deepStrictEqual(op.before.map(strip).filter((f) => f.event === "op"), [
      { type: "room", room: "#Mixed", event: "op", name: "tom", by: "jane" },
    ]);
    strictEqual(
      await tom.readUntil((l) => l.includes("operator")),
      "[#Mixed] jane made tom an operator",
    );
    await tom.send("kick|#mixed|eve|bye");
    const kicked = await eve.readUntil((f) => f.type === "room" && f.event === "kicked");
    deepStrictEqual(strip(kicked), {
      type: "room",
      room: "#Mixed",
      event: "kicked",
      name: "eve",
      by: "tom",
      text: "bye",
    });
    const after = await eve.request({ type: "say", id: 13, room: "#mixed", text: "x" });
    strictEqual(after.code, "no_such_room", "invite-only and not a member: hidden");
  });

  await t.step("bad frames and codes", async () => {
    const cases: [Frame, string][] = [
      [{ type: "join" }, "bad_request"],
      [{ type: "join", room: 5 }, "bad_request"],
      [{ type: "join", room: "dev" }, "room_invalid"],
      [{ type: "join", room: "#" + "x".repeat(33) }, "room_invalid"],
      [{ type: "part", room: "#lobby" }, "room_reserved"],
      [{ type: "part", room: "#nowhere" }, "no_such_room"],
      [{ type: "mode", room: "#mixed", inviteOnly: "yes" }, "bad_request"],
      [{ type: "topic", room: "#mixed", text: "x" }, "no_such_room"],
      [{ type: "close", room: "#mixed" }, "not_admin"],
      [{ type: "say", room: 1, text: "x" }, "bad_request"],
    ];
    let id = 100;
    for (const [frame, code] of cases) {
      const r = await eve.request({ ...frame, id: id++ });
      strictEqual(r.code, code, JSON.stringify(frame));
      ok(typeof r.message === "string" && r.message.length > 0);
    }
    const notOp = await JsonClient.connect(server.port, { name: "zed" });
    strictEqual((await notOp.request({ type: "join", id: 1, room: "#open" })).type, "ok");
    strictEqual((await jane.request({ type: "join", id: 200, room: "#open" })).type, "ok");
    const r = await jane.request({ type: "topic", id: 201, room: "#open", text: "x" });
    strictEqual(r.code, "not_room_operator");
    const who = await eve.request({ type: "who", id: 202, room: "#open" });
    strictEqual(who.code, "not_in_room");
    const kick = await jane.request({ type: "kick", id: 203, room: "#open", name: "zed" });
    strictEqual(kick.code, "not_room_operator");
    notOp.close();
  });
});

Deno.test("rooms: every limit is a flag with a clear error", async (t) => {
  await using server = await startServer([
    "--msg-rate",
    "0",
    "--max-rooms-per-user",
    "2",
    "--max-room-members",
    "2",
    "--max-rooms",
    "3",
    "--room-create-rate",
    "2",
  ]);
  using a = await JsonClient.connect(server.port, { name: "a" });
  using b = await JsonClient.connect(server.port, { name: "b" });
  using c = await JsonClient.connect(server.port, { name: "c" });
  const join = (who: JsonClient, room: string) => who.request({ type: "join", room });

  await t.step("rooms per user", async () => {
    strictEqual((await join(a, "#a1")).type, "ok");
    strictEqual((await join(a, "#a2")).type, "ok");
    const r = await join(a, "#a3");
    strictEqual(r.code, "too_many_rooms");
    strictEqual(r.message, "you may be in at most 2 rooms: part one first");
  });

  await t.step("members per room", async () => {
    strictEqual((await join(b, "#a1")).type, "ok");
    const r = await join(c, "#a1");
    strictEqual(r.code, "room_full");
    strictEqual(r.message, "#a1 is full (2 members)");
  });

  await t.step("room creations per connection per minute", async () => {
    strictEqual((await a.request({ type: "part", room: "#a2" })).type, "ok");
    const r = await join(a, "#a4");
    strictEqual(r.code, "rate_limited");
    ok((r.message as string).startsWith("slow down: at most 2 new rooms per minute"));
    ok((r.retryAfterMs as number) > 0);
  });

  await t.step("rooms on the server", async () => {
    strictEqual((await join(b, "#b1")).type, "ok");
    strictEqual((await join(c, "#c1")).type, "ok");
    const r = await join(c, "#c2");
    strictEqual(r.code, "server_rooms_full");
    strictEqual(r.message, "the server has 3 rooms, its limit: join one");
  });
});

Deno.test("rooms: a room message counts against --msg-rate like a lobby message", async () => {
  // --flood-backlog 0: over the rate is refused rather than delayed, so the count shows at once.
  const limits = ["--msg-rate", "1", "--msg-burst", "3", "--flood-backlog", "0"];
  await using server = await startServer(limits);
  using a: LineClient = await connectText(server.port);
  await a.send("join|#flood");
  await a.readLine();
  const replies: string[] = [];
  for (let i = 0; i < 4; i++) await a.send(`to|#flood|m${i}`);
  for (let i = 0; i < 4; i++) replies.push((await a.readLine())!);
  deepStrictEqual(replies.slice(0, 2), [
    `[#flood] [${a.addr}], ${a.addr}:m0`,
    `[#flood] [${a.addr}], ${a.addr}:m1`,
  ]);
  ok(replies[2].startsWith("slow down: at most 1 messages per second"), replies[2]);
});
