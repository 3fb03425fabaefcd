/**
 * The Matterbridge bridge (`--matterbridge URL`, docs/BOTS.md) against a fake Matterbridge api
 * gateway in the test: Deno.serve on 127.0.0.1 with the two endpoints a program uses, in the
 * shapes of Matterbridge's bridge/api/api.go (`POST /api/message` answers the message with the
 * fields Matterbridge fixes; `GET /api/stream` is NDJSON of config.Message, `api_connected`
 * first) and its bearer `Token` check. Covers: a lobby message reaching /api/message with the
 * token and fields; a streamed message shown to a text and a JSON user as the bot's
 * `<alice> hi`; no echo of the bridge's own posts; the fake going away and coming back (one log
 * line each way); hostile stream lines; bad flags and an unknown bot refused at start.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient, waitUntil } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";
import { MATTERBRIDGE_FIELDS } from "../helpers/matterbridge.ts";

type Frame = Record<string, unknown>;
const FAST = ["--msg-rate", "0", "--who-rate", "0"];
const TOKEN = "s3cret-api-token";

/** A config.Message with every field at Go's zero value, then `fields`. */
function message(fields: Frame): Frame {
  const zero: Frame = Object.fromEntries(MATTERBRIDGE_FIELDS.map((f) => [f, ""]));
  return { ...zero, timestamp: "0001-01-01T00:00:00Z", Extra: null, ...fields };
}

const encoder = new TextEncoder();

/** A fake Matterbridge api gateway: `[api.fastim]` with `Token`, on 127.0.0.1. */
function fakeMatterbridge(port = 0) {
  const posts: { body: Frame; authorization: string | null }[] = [];
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let streamsOpened = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    // echo's KeyAuth middleware: no key is a 400, a wrong one a 401.
    const auth = req.headers.get("authorization");
    if (auth === null) {
      return Response.json({ message: "missing key in request header" }, { status: 400 });
    }
    if (auth !== `Bearer ${TOKEN}`) {
      return Response.json({ message: "Unauthorized" }, { status: 401 });
    }
    if (req.method === "POST" && path === "/api/message") {
      const body = await req.json() as Frame;
      posts.push({ body, authorization: auth });
      // Matterbridge binds the body, then fixes these fields, and answers the message.
      return Response.json(message({
        ...body,
        channel: "api",
        protocol: "api",
        account: "api.fastim",
        id: "",
        timestamp: new Date().toISOString(),
      }));
    }
    if (req.method === "GET" && path === "/api/stream") {
      let mine: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          mine = controller;
          const greeting = message({
            event: "api_connected",
            timestamp: new Date().toISOString(),
          });
          controller.enqueue(encoder.encode(JSON.stringify(greeting) + "\n"));
          streams.add(controller);
          streamsOpened++;
        },
        cancel() {
          streams.delete(mine);
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    return Response.json({ message: "Not Found" }, { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    posts,
    /** Streams opened so far. */
    opened: () => streamsOpened,
    /** Writes `line` (an object as JSON, or raw text) to every open stream. */
    stream(line: Frame | string): void {
      const text = typeof line === "string" ? line : JSON.stringify(line) + "\n";
      for (const c of streams) c.enqueue(encoder.encode(text));
    },
    /** Goes away: the streams end and the port closes. */
    async close(): Promise<void> {
      for (const c of streams) {
        try {
          c.close();
        } catch { /* already cancelled */ }
      }
      streams.clear();
      await server.shutdown();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}

/** A database with the bot `relay`, and a server bridged to `url` as relay. */
async function bridgedServer(url: string, args: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "fastim-mb-" });
  const db = `${dir}/fastim.db`;
  const added = await runServerToExit(["--db", db, "--add-bot", "relay"]);
  strictEqual(added.code, 0, added.stderr);
  const server = await startServer([
    ...FAST,
    "--db",
    db,
    "--matterbridge",
    url,
    "--matterbridge-token",
    TOKEN,
    "--matterbridge-bot",
    "relay",
    ...args,
  ]);
  return {
    server,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Waits until `pred` holds (5 s by default), naming it when it does not. */
function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  return waitUntil(pred, pred.toString(), timeoutMs);
}

function count(text: string, pattern: RegExp): number {
  return text.split("\n").filter((l) => pattern.test(l)).length;
}

Deno.test("matterbridge: lobby messages go out with the token, streamed ones come in as the bot, no echo", async () => {
  await using mb = fakeMatterbridge();
  await using s = await bridgedServer(mb.url);
  using bob = await JsonClient.connect(s.server.port, { name: "bob" });
  using tom = await connectText(s.server.port);
  await until(() => mb.opened() === 1);
  // The bot is present in the chat under its name.
  await until(() => /matterbridge stream open/.test(s.server.stderr()));

  // A text user's lobby line.
  await tom.send("rename|tom");
  await tom.send("hello bridge");
  const seen = await bob.readUntil((f) => f.type === "public" && f.text === "hello bridge");
  await until(() => mb.posts.length === 1);
  const { body, authorization } = mb.posts[0];
  strictEqual(authorization, `Bearer ${TOKEN}`);
  deepStrictEqual(Object.keys(body), MATTERBRIDGE_FIELDS);
  strictEqual(body.text, "hello bridge");
  strictEqual(body.username, "tom");
  strictEqual(body.userid, "tom");
  strictEqual(body.gateway, "fastim");
  strictEqual(body.channel, "lobby");
  strictEqual(body.protocol, "fastim");
  strictEqual(body.id, String(seen.msgId));
  strictEqual(body.Extra, null);

  // A room's message stays in FastIM: the bridge carries the lobby.
  strictEqual((await bob.request({ type: "join", room: "#dev" })).type, "ok");
  strictEqual((await bob.request({ type: "say", text: "room talk", room: "#dev" })).type, "ok");

  // From Slack (say), through Matterbridge's gateway, as the api stream writes it.
  mb.stream(message({
    text: "hi",
    channel: "general",
    username: "alice",
    userid: "U024BE7LH",
    account: "slack.myteam",
    protocol: "slack",
    gateway: "fastim",
    timestamp: new Date().toISOString(),
    id: "1700000000.000100",
  }));
  const frame = await bob.readUntil((f) => f.type === "public" && f.text === "<alice> hi");
  strictEqual(frame.from, "relay");
  strictEqual(frame.bot, true);
  const line = await tom.readUntil((l) => l.endsWith("<alice> hi"));
  match(line, /^\[127\.0\.0\.1:\d+\], relay:<alice> hi$/);

  // No echo: the next message Matterbridge gets is bob's, not the bridge's own post.
  strictEqual((await bob.request({ type: "say", text: "after alice" })).type, "ok");
  await until(() => mb.posts.length === 2);
  strictEqual(mb.posts[1].body.text, "after alice");
  strictEqual(mb.posts.some((p) => String(p.body.text).includes("alice> hi")), false);
  strictEqual(mb.posts.some((p) => p.body.text === "room talk"), false);
});

Deno.test("matterbridge: hostile stream lines are cleaned, cut or skipped, and the bridge goes on", async () => {
  await using mb = fakeMatterbridge();
  await using s = await bridgedServer(mb.url, ["--max-line", "200"]);
  using bob = await JsonClient.connect(s.server.port, { name: "bob" });
  await until(() => mb.opened() === 1);

  // Escapes and control characters go; line breaks become spaces.
  mb.stream(message({
    text: "\x1b[31mred\x1b[0m\nline\x07two",
    username: "ev\x1b]0;pwned\x07il",
    gateway: "fastim",
  }));
  const clean = await bob.readUntil((f) => f.type === "public" && f.from === "relay");
  strictEqual(clean.text, "<evil> red linetwo");

  // Not JSON, not an object, an event, another gateway: skipped (logged where it is bad).
  mb.stream("this is not json\n");
  mb.stream("[1,2,3]\n");
  mb.stream(message({ event: "join_leave", text: "carol joins", username: "carol" }));
  mb.stream(message({ text: "elsewhere", username: "dave", gateway: "other" }));
  // Longer than --max-line: cut, with a log line.
  mb.stream(message({ text: "x".repeat(1000), username: "long", gateway: "fastim" }));
  const cut = await bob.readUntil((f) => f.type === "public" && f.from === "relay");
  ok(String(cut.text).startsWith("<long> xxx"));
  ok(String(cut.text).endsWith("…"));
  ok(encoder.encode(String(cut.text)).length <= 200);
  await until(() => /matterbridge message cut/.test(s.server.stderr()));
  match(s.server.stderr(), /matterbridge stream line skipped.*not JSON/);
  match(s.server.stderr(), /matterbridge stream line skipped.*not a JSON object/);

  // A line past the stream's limit (128 KiB) with no end: the stream is reopened, nothing kept.
  mb.stream("{" + '"text":"' + "y".repeat(200 * 1024));
  await until(() => mb.opened() === 2, 10_000);
  match(s.server.stderr(), /matterbridge stream line too long/);
  mb.stream(message({ text: "still here", username: "alice", gateway: "fastim" }));
  const after = await bob.readUntil((f) => f.type === "public" && f.from === "relay");
  strictEqual(after.text, "<alice> still here");
  // The skipped ones never showed.
  strictEqual(/elsewhere|carol joins/.test(bob.lines.received.join("\n")), false);
  // Still serving.
  strictEqual((await bob.request({ type: "say", text: "alive" })).type, "ok");
});

Deno.test("matterbridge: down and back: reconnects, logs the outage once and its end once", async () => {
  let mb = fakeMatterbridge();
  const port = mb.port;
  await using s = await bridgedServer(mb.url);
  using bob = await JsonClient.connect(s.server.port, { name: "bob" });
  await until(() => mb.opened() === 1);

  await mb.close();
  // Several tries fail while it is away (500 ms, 1 s, 2 s...): one line says so.
  await until(() => /matterbridge unreachable/.test(s.server.stderr()));
  await new Promise((r) => setTimeout(r, 2000));
  // Said while it is away: dropped, one line.
  strictEqual((await bob.request({ type: "say", text: "into the void" })).type, "ok");
  strictEqual((await bob.request({ type: "say", text: "and again" })).type, "ok");
  await until(() => /matterbridge messages dropped/.test(s.server.stderr()));

  mb = fakeMatterbridge(port);
  try {
    await until(() => mb.opened() === 1, 20_000);
    await until(() => /matterbridge reachable again/.test(s.server.stderr()));
    const log = s.server.stderr();
    strictEqual(count(log, /matterbridge unreachable/), 1, log);
    strictEqual(count(log, /matterbridge reachable again/), 1, log);
    strictEqual(count(log, /matterbridge messages dropped/), 1, log);

    // Both ways work again.
    mb.stream(message({ text: "back", username: "alice", gateway: "fastim" }));
    const frame = await bob.readUntil((f) => f.type === "public" && f.text === "<alice> back");
    strictEqual(frame.from, "relay");
    strictEqual((await bob.request({ type: "say", text: "welcome back" })).type, "ok");
    await until(() => mb.posts.some((p) => p.body.text === "welcome back"));
    await until(() => /matterbridge messages delivered again/.test(s.server.stderr()));
  } finally {
    await mb.close();
  }
  // Shutdown ends the stream promptly.
  const stopped = await s.server.stop("SIGTERM");
  strictEqual(stopped.code, 0, s.server.stderr());
});

Deno.test("matterbridge: a kicked bridge signs in again and carries on", async () => {
  await using mb = fakeMatterbridge();
  await using s = await bridgedServer(mb.url, ["--admin", "root"]);
  using root = await JsonClient.connect(s.server.port, { name: "root" });
  strictEqual((await root.request({ type: "register", password: "operator pass" })).type, "ok");
  await until(() => mb.opened() === 1);
  await until(() => /bot signed in/.test(s.server.stderr()));
  strictEqual((await root.request({ type: "kick", name: "relay", reason: "test" })).type, "ok");
  await until(() => /matterbridge bot session ended; signing in again/.test(s.server.stderr()));
  // Back under its name, and both ways work.
  await until(() => count(s.server.stderr(), /bot signed in/) === 2);
  mb.stream(message({ text: "still bridged", username: "alice", gateway: "fastim" }));
  const frame = await root.readUntil((f) =>
    f.type === "public" && f.text === "<alice> still bridged"
  );
  strictEqual(frame.from, "relay");
  strictEqual((await root.request({ type: "say", text: "good" })).type, "ok");
  await until(() => mb.posts.some((p) => p.body.text === "good"));
});

Deno.test("matterbridge: a wrong token is an outage with the status, logged once", async () => {
  await using mb = fakeMatterbridge();
  const dir = await Deno.makeTempDir({ prefix: "fastim-mb-" });
  const db = `${dir}/fastim.db`;
  try {
    strictEqual((await runServerToExit(["--db", db, "--add-bot", "relay"])).code, 0);
    await using server = await startServer([
      "--db",
      db,
      "--matterbridge",
      mb.url,
      "--matterbridge-token",
      "wrong",
      "--matterbridge-bot",
      "relay",
    ]);
    await until(() => /matterbridge unreachable.*answered 401/.test(server.stderr()));
    await new Promise((r) => setTimeout(r, 1600));
    strictEqual(count(server.stderr(), /matterbridge unreachable/), 1);
    strictEqual(mb.opened(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("matterbridge: bad flags and an unknown bot are refused at start with one line", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-mb-" });
  const db = `${dir}/fastim.db`;
  try {
    const cases: [string, string[], RegExp][] = [
      ["no bot", ["--matterbridge", "http://127.0.0.1:4242"], /needs --matterbridge-bot NAME/],
      [
        "bot without URL",
        ["--matterbridge-bot", "relay"],
        /--matterbridge-bot needs --matterbridge URL/,
      ],
      [
        "not http",
        ["--matterbridge", "ftp://x", "--matterbridge-bot", "relay"],
        /http:\/\/ or https:\/\/ URL/,
      ],
      [
        "with --redis",
        [
          "--redis",
          "redis://127.0.0.1:1",
          "--matterbridge",
          "http://127.0.0.1:4242",
          "--matterbridge-bot",
          "relay",
        ],
        /--matterbridge does not apply to a cluster/,
      ],
      [
        "unknown bot",
        ["--db", db, "--matterbridge", "http://127.0.0.1:4242", "--matterbridge-bot", "ghost"],
        /--matterbridge-bot ghost: no such bot in .*; make it with --add-bot/,
      ],
    ];
    for (const [name, args, expected] of cases) {
      await t.step(name, async () => {
        const r = await runServerToExit(args);
        strictEqual(r.code, 2, r.stderr);
        match(r.stderr, expected);
        strictEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
      });
    }
    // The refused start left no empty database behind.
    strictEqual(await Deno.stat(db).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
