/**
 * Bots and bridges over real sockets and HTTP. Bot accounts: `--add-bot` and `--remove-bot` on a
 * database file. Outgoing webhooks: a local receiver gets the
 * matching public messages as Matterbridge-shaped JSON; a slow receiver costs a logged drop, never
 * the chat; a bad webhook flag is one line at start.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { tokenDigest } from "../../lib/core/bot_tokens.ts";
import { JsonClient } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";
import { MATTERBRIDGE_FIELDS } from "../helpers/matterbridge.ts";

type Frame = Record<string, unknown>;
const FAST = ["--msg-rate", "0", "--who-rate", "0"];

/** A local HTTP receiver that keeps each JSON body it is POSTed. */
function receiver(
  answer: (body: Frame) => Promise<Response> | Response = () => new Response("ok"),
) {
  const bodies: Frame[] = [];
  const waiting: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json() as Frame;
    bodies.push(body);
    waiting.splice(0).forEach((wake) => wake());
    return answer(body);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    bodies,
    /** Resolves once `n` bodies have arrived. */
    async until(n: number): Promise<Frame[]> {
      while (bodies.length < n) await new Promise<void>((wake) => waiting.push(wake));
      return bodies;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("webhooks: messages with the prefix reach the receiver in Matterbridge's shape", async () => {
  await using hook = receiver();
  await using server = await startServer([
    ...FAST,
    "--webhook",
    hook.url,
    "--webhook-prefix",
    "!",
  ]);
  using bob = await JsonClient.connect(server.port, { name: "bob" });
  strictEqual((await bob.request({ type: "say", text: "just chatting" })).type, "ok");
  const said = await bob.request({ type: "say", text: "!deploy now" });
  strictEqual(said.type, "ok");
  // One POST at a time, in order: had "just chatting" matched, it would have come first.
  const [body] = await hook.until(1);
  deepStrictEqual(Object.keys(body), MATTERBRIDGE_FIELDS);
  strictEqual(body.text, "!deploy now");
  strictEqual(body.username, "bob");
  strictEqual(body.channel, "lobby");
  strictEqual(body.protocol, "fastim");
  strictEqual(body.id, String(said.msgId));
  strictEqual(Date.parse(body.timestamp as string), said.ts);
  strictEqual(body.Extra, null);
  strictEqual(hook.bodies.length, 1);
});

Deno.test("webhooks: a receiver slower than --webhook-timeout costs a logged drop, not the chat", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  await using hook = receiver(async () => {
    await held;
    return new Response("late");
  });
  await using server = await startServer([
    ...FAST,
    "--webhook",
    hook.url,
    "--webhook-timeout",
    "200",
  ]);
  try {
    using bob = await JsonClient.connect(server.port, { name: "bob" });
    using ann = await JsonClient.connect(server.port, { name: "ann" });
    strictEqual((await bob.request({ type: "say", text: "first" })).type, "ok");
    await hook.until(1);
    // The chat goes on while the receiver hangs.
    strictEqual((await ann.request({ type: "say", text: "second" })).type, "ok");
    while (!server.stderr().includes("webhook message dropped")) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    strictEqual(server.stderr().includes("timed out"), true, server.stderr());
    // After the timeout the next message is sent.
    const bodies = await hook.until(2);
    strictEqual(bodies[1].text, "second");
  } finally {
    release();
  }
});

Deno.test("webhooks: bad webhook flags are refused with one line", async () => {
  const bad = await runServerToExit(["--db", ":memory:", "--webhook", "ftp://example.org/x"]);
  strictEqual(bad.code, 2, bad.stderr);
  strictEqual(
    bad.stderr.trim().split("\n").at(-1)?.includes(
      '--webhook expects an http:// or https:// URL; got "ftp://example.org/x"',
    ),
    true,
    bad.stderr,
  );
  const orphan = await runServerToExit(["--db", ":memory:", "--webhook-prefix", "!"]);
  strictEqual(orphan.code, 2, orphan.stderr);
  strictEqual(orphan.stderr.includes("--webhook-prefix needs --webhook URL"), true, orphan.stderr);
});

Deno.test("bot accounts: --add-bot prints a token once, keeps only its digest; --remove-bot revokes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-bots-" });
  const db = `${dir}/fastim.db`;
  try {
    const added = await runServerToExit(["--db", db, "--add-bot", "relay"]);
    strictEqual(added.code, 0, added.stderr);
    const token = /its token \(shown only now, keep it secret\): (fim_[A-Za-z0-9_-]{43})$/m
      .exec(added.stdout)?.[1];
    strictEqual(typeof token, "string", added.stdout);
    // The file holds the digest, never the token.
    const bytes = await Deno.readFile(db);
    const wal = await Deno.readFile(`${db}-wal`).catch(() => new Uint8Array());
    const text = new TextDecoder().decode(bytes) + new TextDecoder().decode(wal);
    strictEqual(text.includes(token!), false);
    const raw = new DatabaseSync(db);
    const row = raw.prepare("SELECT name, digest FROM bots").get() as {
      name: string;
      digest: Uint8Array;
    };
    raw.close();
    strictEqual(row.name, "relay");
    deepStrictEqual(new Uint8Array(row.digest), tokenDigest(token!));

    const again = await runServerToExit(["--db", db, "--add-bot", "RELAY"]);
    strictEqual(again.code, 1);
    strictEqual(again.stderr.trim(), 'server: --add-bot: the name "RELAY" is already taken');
    const bad = await runServerToExit(["--db", db, "--add-bot", "a|b"]);
    strictEqual(bad.code, 2);
    strictEqual(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    const memory = await runServerToExit(["--db", ":memory:", "--add-bot", "x"]);
    strictEqual(memory.stderr.trim(), "server: --add-bot needs a --db file");

    const removed = await runServerToExit(["--db", db, "--remove-bot", "relay"]);
    strictEqual(removed.code, 0, removed.stderr);
    strictEqual(removed.stdout.trim(), "bot relay removed; its token no longer works");
    const check = new DatabaseSync(db);
    strictEqual((check.prepare("SELECT count(*) AS n FROM bots").get() as { n: number }).n, 0);
    check.close();
    const gone = await runServerToExit(["--db", db, "--remove-bot", "relay"]);
    strictEqual(gone.code, 1);
    strictEqual(gone.stderr.trim(), 'server: --remove-bot: no bot is named "relay"');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
