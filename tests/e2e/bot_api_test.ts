/**
 * The bot HTTP API over real HTTP and sockets (docs/BOTS.md): bearer tokens (missing, bad,
 * revoked: 401 JSON), `POST /api/message` reaching text, JSON, WebSocket and IRC users as the
 * bot's public message (marked `bot: true` in JSON, the `bot` tag in IRC), `GET /api/stream`
 * (api_connected first, Matterbridge's exact fields, skip_before, a reader that stops reading
 * dropped), `GET /api/messages` (buffered since the last call, then empty), `?skip_bots=true`
 * leaving other bots out, the limits of a post,
 * shutdown with a stream open, and the 501 of a cluster node.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient } from "../helpers/lines.ts";
import { IrcClient } from "../helpers/irc.ts";
import { hasRedis, startRedis } from "../helpers/redis.ts";
import { httpPort, ircPort, runServerToExit, startServer } from "../helpers/server.ts";
import { rawRequest, WsClient } from "../helpers/ws.ts";
import { MATTERBRIDGE_FIELDS } from "../helpers/matterbridge.ts";

type Frame = Record<string, unknown>;

/** A database file with the bot `relay`, its token, and a way to remove it. */
async function botDatabase(): Promise<{ db: string; token: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-botapi-" });
  const db = `${dir}/fastim.db`;
  const added = await runServerToExit(["--db", db, "--add-bot", "relay"]);
  strictEqual(added.code, 0, added.stderr);
  const token = /: (fim_[A-Za-z0-9_-]{43})$/m.exec(added.stdout)?.[1];
  ok(token, added.stdout);
  return { db, token, dir };
}

/** A server on a fresh database with the bot `relay`; removes the files afterwards. */
async function botServer(args: string[] = []) {
  const { db, token, dir } = await botDatabase();
  const server = await startServer(["--db", db, ...args]);
  const port = await httpPort(server);
  const api = (path: string, init: RequestInit = {}, bearer: string | null = token) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      headers: {
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
        ...init.headers as Record<string, string>,
      },
    });
  const post = (body: unknown, bearer: string | null = token) =>
    api("/api/message", {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json" },
    }, bearer);
  return {
    server,
    port,
    db,
    token,
    api,
    post,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Reads an NDJSON body one object at a time. */
function ndjson(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    async next(timeoutMs = 5000): Promise<Frame> {
      const deadline = Date.now() + timeoutMs;
      while (!buffered.includes("\n")) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("no stream line in time")),
            deadline - Date.now(),
          );
        });
        try {
          const { value, done } = await Promise.race([reader.read(), timeout]);
          if (done) throw new Error("stream ended");
          buffered += value;
        } finally {
          clearTimeout(timer);
        }
      }
      const at = buffered.indexOf("\n");
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return JSON.parse(line);
    },
    cancel: () => reader.cancel(),
  };
}

async function jsonBody(res: Response): Promise<Frame> {
  strictEqual(res.headers.get("content-type")?.startsWith("application/json"), true);
  return await res.json() as Frame;
}

Deno.test("bot API: a missing, bad or revoked token is a 401 with a JSON error", async () => {
  await using s = await botServer();
  const missing = await s.api("/api/health", {}, null);
  strictEqual(missing.status, 401);
  strictEqual(missing.headers.get("www-authenticate"), 'Bearer realm="fastim"');
  strictEqual(missing.headers.get("x-content-type-options"), "nosniff");
  strictEqual(missing.headers.get("access-control-allow-origin"), null);
  match(String((await jsonBody(missing)).error), /missing bearer token/);
  const malformed = await s.api("/api/messages", {}, "not-a-token");
  strictEqual(malformed.status, 401);
  match(String((await jsonBody(malformed)).error), /unknown or revoked bot token/);
  const unknown = await s.post({ text: "hi" }, "fim_" + "A".repeat(43));
  strictEqual(unknown.status, 401);
  match(String((await jsonBody(unknown)).error), /unknown or revoked bot token/);

  const health = await s.api("/api/health");
  strictEqual(health.status, 200);
  strictEqual(await health.text(), "OK");
  const nowhere = await s.api("/api/nowhere");
  strictEqual(nowhere.status, 404);
  match(String((await jsonBody(nowhere)).error), /no such endpoint/);
  const wrongMethod = await s.api("/api/message");
  strictEqual(wrongMethod.status, 405);
  match(String((await jsonBody(wrongMethod)).error), /takes POST/);

  // Revoked while the server runs: the next request is refused.
  const removed = await runServerToExit(["--db", s.db, "--remove-bot", "relay"]);
  strictEqual(removed.code, 0, removed.stderr);
  const revoked = await s.post({ text: "still here?" });
  strictEqual(revoked.status, 401);
  match(String((await jsonBody(revoked)).error), /unknown or revoked bot token/);
});

Deno.test("bot API: a post reaches text, JSON, WebSocket and IRC users as the bot's message, marked in JSON and IRC", async () => {
  await using s = await botServer();
  using bob = await JsonClient.connect(s.server.port, { name: "bob" });
  using tom = await connectText(s.server.port);
  await tom.send("rename|tom");
  using irc = await IrcClient.register(await ircPort(s.server), "ira", [
    "CAP REQ :message-tags",
    "CAP END",
  ]);
  using wendy = await WsClient.connect(s.port, { name: "wendy" });

  const res = await s.post({ text: "deploy finished", username: "ci", gateway: "" });
  strictEqual(res.status, 200);
  const reply = await jsonBody(res);
  deepStrictEqual(Object.keys(reply), MATTERBRIDGE_FIELDS);
  strictEqual(reply.text, "deploy finished");
  strictEqual(reply.username, "ci");
  strictEqual(reply.channel, "api");
  strictEqual(reply.protocol, "api");
  strictEqual(reply.account, "api.relay");
  strictEqual(reply.id, "");
  strictEqual(reply.Extra, null);

  const frame = await bob.readUntil((f) => f.type === "public" && f.text === "deploy finished");
  strictEqual(frame.from, "relay");
  strictEqual(frame.bot, true);
  // The text line is the original's format, unchanged for a bot.
  const line = await tom.readUntil((l) => l.endsWith("deploy finished"));
  match(line, /^\[127\.0\.0\.1:\d+\], relay:deploy finished$/);
  const overWs = await wendy.readUntil((f) => f.type === "public" && f.text === "deploy finished");
  strictEqual(overWs.from, "relay");
  strictEqual(overWs.bot, true);
  const privmsg = await irc.expect(/PRIVMSG #lobby :deploy finished$/);
  match(privmsg, /^@(\S*;)?bot[; ]/);

  // A person's message carries no mark.
  await bob.send({ type: "say", text: "thanks" });
  const own = await bob.readUntil((f) => f.type === "public" && f.text === "thanks");
  strictEqual(own.bot, undefined);

  // A bot's name is the bot's: nobody else may take it.
  const taken = await bob.request({ type: "rename", name: "Relay" });
  strictEqual(taken.type, "error");
  strictEqual(taken.code, "name_registered");
  match(String(taken.message), /bot's name/);

  // `gateway` names a room: the bot joins it and posts there.
  strictEqual((await bob.request({ type: "join", room: "#dev" })).type, "ok");
  const inRoom = await s.post({ text: "build is green", gateway: "dev" });
  strictEqual(inRoom.status, 200, await inRoom.clone().text());
  const roomFrame = await bob.readUntil((f) => f.type === "public" && f.text === "build is green");
  strictEqual(roomFrame.room, "#dev");
  strictEqual(roomFrame.bot, true);
});

Deno.test("bot API: a post is held to --max-line and the message rate, and a bad body is a 400", async () => {
  await using s = await botServer(["--max-line", "1KiB", "--msg-rate", "1", "--msg-burst", "2"]);
  const long = await s.post({ text: "x".repeat(1025) });
  strictEqual(long.status, 413);
  match(String((await jsonBody(long)).error), /text too long: the limit is 1024 bytes/);
  const notJson = await s.post("{text:");
  strictEqual(notJson.status, 400);
  strictEqual((await jsonBody(notJson)).error, "body is not JSON");
  const empty = await s.post({ username: "ci" });
  strictEqual(empty.status, 400);
  match(String((await jsonBody(empty)).error), /"text" is missing or empty/);
  const huge = await s.post(JSON.stringify({ text: "x", avatar: "y".repeat(70_000) }));
  strictEqual(huge.status, 413);
  await huge.body?.cancel();
  // The burst of 2, then the rate refuses with a retry time.
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const res = await s.post({ text: `quick ${i}` });
    statuses.push(res.status);
    const body = await jsonBody(res);
    if (res.status === 429) {
      match(String(body.error), /slow down/);
      ok(Number(body.retryAfterMs) > 0);
      ok(Number(res.headers.get("retry-after")) >= 1);
    }
  }
  strictEqual(statuses.slice(0, 2).join(), "200,200");
  ok(statuses.includes(429), statuses.join());
});

Deno.test("bot API: the stream starts with api_connected, then carries what others say in Matterbridge's shape; /api/messages buffers", async () => {
  await using s = await botServer();
  // The first request signs the bot in; from then on it sees the chat.
  strictEqual((await s.api("/api/health")).status, 200);
  using tom = await connectText(s.server.port);
  await tom.send("rename|tom");
  await tom.send("before the stream");
  using bob = await JsonClient.connect(s.server.port, { name: "bob" });
  const said = await bob.request({ type: "say", text: "from bob" });
  strictEqual(said.type, "ok");

  // skip_before at bob's message: the buffered "before the stream" and "from bob" are skipped.
  const skipping = await s.api("/api/stream", {
    headers: { skip_before: new Date(said.ts as number).toISOString() },
  });
  strictEqual(skipping.status, 200);
  strictEqual(skipping.headers.get("content-type"), "application/json");
  const skipped = ndjson(skipping);
  const hello = await skipped.next();
  deepStrictEqual(Object.keys(hello), MATTERBRIDGE_FIELDS);
  strictEqual(hello.event, "api_connected");
  strictEqual(hello.text, "");

  const stream = ndjson(await s.api("/api/stream"));
  strictEqual((await stream.next()).event, "api_connected");
  // Without skip_before the buffer comes first, in order.
  strictEqual((await stream.next()).text, "before the stream");
  strictEqual((await stream.next()).text, "from bob");

  await tom.send("hello bots");
  const live = await stream.next();
  deepStrictEqual(Object.keys(live), MATTERBRIDGE_FIELDS);
  strictEqual(live.text, "hello bots");
  strictEqual(live.channel, "lobby");
  strictEqual(live.username, "tom");
  strictEqual(live.userid, "tom");
  strictEqual(live.protocol, "fastim");
  strictEqual(live.event, "");
  strictEqual(live.gateway, "");
  match(String(live.id), /^\d+$/);
  match(String(live.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  strictEqual(live.Extra, null);
  // The skipping stream gets live messages too.
  strictEqual((await skipped.next()).text, "hello bots");

  // The bot's own posts are not read back.
  strictEqual((await s.post({ text: "my own" })).status, 200);
  await tom.send("after the post");
  strictEqual((await stream.next()).text, "after the post");

  // /api/messages: everything buffered, then emptied.
  const first = await s.api("/api/messages");
  strictEqual(first.status, 200);
  const messages = await first.json() as Frame[];
  deepStrictEqual(messages.map((m) => m.text), [
    "before the stream",
    "from bob",
    "hello bots",
    "after the post",
  ]);
  for (const m of messages) deepStrictEqual(Object.keys(m), MATTERBRIDGE_FIELDS);
  deepStrictEqual(await (await s.api("/api/messages")).json(), []);
  await tom.send("later");
  await stream.next();
  const skip = await s.api("/api/messages", {
    headers: { skip_before: new Date(Date.now() + 60_000).toISOString() },
  });
  deepStrictEqual(await skip.json(), []);
  const badSkip = await s.api("/api/messages", { headers: { skip_before: "yesterday" } });
  strictEqual(badSkip.status, 400);
  match(String((await jsonBody(badSkip)).error), /skip_before/);
  await stream.cancel();
  await skipped.cancel();
});

Deno.test("bot API: ?skip_bots=true leaves other bots' messages out of the buffer and the stream", async () => {
  await using s = await botServer();
  // A second bot, added while the server runs (as an operator would).
  const added = await runServerToExit(["--db", s.db, "--add-bot", "echo"]);
  strictEqual(added.code, 0, added.stderr);
  const echoToken = /: (fim_[A-Za-z0-9_-]{43})$/m.exec(added.stdout)?.[1];
  ok(echoToken, added.stdout);
  // The first request signs relay in; from then on it sees the chat.
  strictEqual((await s.api("/api/health")).status, 200);
  using tom = await connectText(s.server.port);
  await tom.send("rename|tom");
  await tom.readUntil((l) => l === "You renamed to tom");
  await tom.send("from a person");
  await tom.readUntil((l) => l.endsWith("tom:from a person"));
  strictEqual((await s.post({ text: "from another bot" }, echoToken)).status, 200);
  await tom.readUntil((l) => l.endsWith("echo:from another bot"));

  // The replay of a stream, with and without other bots.
  const all = ndjson(await s.api("/api/stream"));
  strictEqual((await all.next()).event, "api_connected");
  strictEqual((await all.next()).text, "from a person");
  strictEqual((await all.next()).text, "from another bot");
  const people = ndjson(await s.api("/api/stream?skip_bots=true"));
  strictEqual((await people.next()).event, "api_connected");
  strictEqual((await people.next()).text, "from a person");
  // Live: the bot's next message reaches only the stream that takes bots.
  strictEqual((await s.post({ text: "bot again" }, echoToken)).status, 200);
  await tom.send("person again");
  strictEqual((await all.next()).text, "bot again");
  strictEqual((await all.next()).text, "person again");
  strictEqual((await people.next()).text, "person again");

  // /api/messages the same way (it empties the buffer either way).
  const taken = await (await s.api("/api/messages?skip_bots=1")).json() as Frame[];
  deepStrictEqual(taken.map((m) => m.text), ["from a person", "person again"]);
  deepStrictEqual(await (await s.api("/api/messages")).json(), []);
  const bad = await s.api("/api/messages?skip_bots=maybe");
  strictEqual(bad.status, 400);
  match(String((await jsonBody(bad)).error), /skip_bots/);
  await all.cancel();
  await people.cancel();
});

Deno.test("bot API: a stream reader that stops reading is dropped by its bounded queue", async () => {
  await using s = await botServer(["--max-queue", "64KiB", "--msg-rate", "0", "--byte-rate", "0"]);
  const stalled = await rawRequest(s.port, "/api/stream", { Authorization: `Bearer ${s.token}` });
  strictEqual(stalled.status, 200);
  using talker = await JsonClient.connect(s.server.port, { name: "talker" });
  const text = "z".repeat(4000);
  const deadline = Date.now() + 20_000;
  for (let round = 0; !/bot stream dropped/.test(s.server.stderr()); round++) {
    ok(Date.now() < deadline, "the stalled stream was not dropped within 20 s");
    for (let i = 0; i < 11; i++) await talker.send({ type: "say", text });
    const last = `${round} ${text}`;
    await talker.send({ type: "say", text: last });
    await talker.readUntil((f) => f.type === "public" && f.text === last, 10_000);
  }
  match(s.server.stderr(), /bot stream dropped .*name=relay .*reason=slow_reader/);
  // The chat went on, and the bot with it: a new stream works.
  const fresh = ndjson(
    await s.api("/api/stream", {
      headers: { skip_before: new Date().toISOString() },
    }),
  );
  strictEqual((await fresh.next()).event, "api_connected");
  await talker.send({ type: "say", text: "still flowing" });
  strictEqual((await fresh.next()).text, "still flowing");
  await fresh.cancel();
  stalled.conn.close();
});

Deno.test("bot API: shutdown ends open streams and the server exits", async () => {
  await using s = await botServer();
  const res = await s.api("/api/stream");
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  match((await reader.read()).value ?? "", /"event":"api_connected"/);
  const stopped = await s.server.stop();
  strictEqual(stopped.code, 0, s.server.stderr());
  let ended = false;
  try {
    ended = (await reader.read()).done;
  } catch {
    ended = true; // cut rather than ended: still ended
  }
  strictEqual(ended, true);
});

Deno.test({
  name: "bot API: a cluster node (--redis) refuses it with a JSON 501",
  ignore: !hasRedis() && !Deno.env.get("CI"),
  async fn() {
    await using redis = await startRedis();
    await using node = await startServer([
      "--redis",
      redis.url,
      "--cluster",
      "b",
      "--workers",
      "1",
    ]);
    const res = await fetch(`http://127.0.0.1:${await httpPort(node)}/api/stream`, {
      headers: { authorization: `Bearer fim_${"A".repeat(43)}` },
    });
    strictEqual(res.status, 501);
    match(String((await jsonBody(res)).error), /not served with --redis/);
  },
});
