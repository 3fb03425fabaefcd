/** Accounts and the offline inbox under abuse: floods, guessing, oversized replies. */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const OPEN = ["--msg-rate", "0", "--byte-rate", "0", "--max-conns-per-ip", "0", "--conn-rate", "0"];

async function register(port: number, name: string, password: string): Promise<void> {
  const c = await JsonClient.connect(port, { name });
  strictEqual((await c.request({ type: "register", password })).type, "ok");
  c.close();
}

Deno.test("a full offline inbox refuses more, and a big one is delivered in pages without dropping the owner", async () => {
  await using server = await startServer([...OPEN, "--max-queue", "256KiB"]);
  const sender = await JsonClient.connect(server.port, { name: "sender" });
  await register(server.port, "victim", "victim password");
  await sender.readUntil((f) => f.event === "offline" && f.name === "victim");
  const text = "x".repeat(7000);
  for (let i = 0; i < 100; i++) {
    const r = await sender.request({ type: "msg", to: "victim", text: `${i} ${text}` });
    strictEqual(r.stored, true, JSON.stringify(r));
  }
  const full = await sender.request({ type: "msg", to: "victim", text: "one more" });
  deepStrictEqual([full.type, full.code], ["error", "inbox_full"]);
  // 700 KB waiting, a 256 KiB queue: all of it arrives, in order, and the owner stays.
  const v = await JsonClient.connect(server.port, { name: "victim", password: "victim password" });
  strictEqual(v.welcome.account, "victim");
  const got: number[] = [];
  while (got.length < 100) {
    const f = await v.readUntil((f) => f.type === "private", 5000);
    got.push(Number((f.text as string).split(" ")[0]));
  }
  deepStrictEqual(got, [...Array(100).keys()]);
  strictEqual((await v.request({ type: "ping" })).type, "ok");
  v.close();
  sender.close();
});

Deno.test("a history reply is trimmed to fit the asker's queue instead of dropping them", async () => {
  await using server = await startServer([...OPEN, "--max-queue", "64KiB", "--history", "0"]);
  const poster = await LineClient.connect(server.port);
  for (let i = 0; i < 40; i++) await poster.send(`${i} ${"h".repeat(4000)}`);
  await poster.readUntil((l) => l.includes(":39 "));
  const asker = await JsonClient.connect(server.port);
  const page = await asker.request({ type: "history", limit: 500 });
  const texts = (page.messages as { text: string }[]).map((m) => Number(m.text.split(" ")[0]));
  ok(texts.length > 0 && texts.length < 40, `${texts.length} messages`);
  strictEqual(texts.at(-1), 39, "the newest are kept");
  strictEqual((await asker.request({ type: "ping" })).type, "ok");
  asker.close();
  poster.close();
});

Deno.test("logging in to one's own account between guesses does not reset the failed-login count", async () => {
  await using server = await startServer(OPEN);
  await register(server.port, "target", "target password");
  await register(server.port, "mine", "my own password");
  const c = await JsonClient.connect(server.port);
  const codes: string[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 3; i++) {
      codes.push(
        (await c.request({ type: "login", name: "target", password: `guess ${i}`! }, 5000))
          .code as string,
      );
    }
    await c.request({ type: "login", name: "mine", password: "my own password" }, 5000);
  }
  deepStrictEqual(codes.slice(0, 5), Array(5).fill("login_failed"));
  strictEqual(codes[5], "rate_limited");
  // passwd is throttled the same way.
  const p = await c.request({ type: "passwd", old: "whatever", new: "new password" }, 5000);
  strictEqual(p.code, "rate_limited");
  c.close();
});

Deno.test("renaming away from a registered name logs out, and a takeover announces who left", async () => {
  await using server = await startServer(OPEN);
  const watcher = await JsonClient.connect(server.port, { name: "watcher" });
  const a = await JsonClient.connect(server.port, { name: "alice" });
  strictEqual((await a.request({ type: "register", password: "alice password" })).type, "ok");
  strictEqual((await a.request({ type: "rename", name: "notalice" })).type, "ok");
  strictEqual(
    (await a.request({ type: "passwd", old: "alice password", new: "x".repeat(9) })).code,
    "not_logged_in",
  );
  strictEqual(
    (await a.request({ type: "login", name: "alice", password: "alice password" })).name,
    "alice",
  );
  // A login asking for a takeover ends the other connections: the watcher sees alice leave,
  // then the newcomer renamed.
  const b = await JsonClient.connect(server.port, {
    name: "alice",
    password: "alice password",
    takeover: true,
  });
  strictEqual(b.welcome.account, "alice");
  const left = await watcher.readUntil((f) => f.event === "offline");
  strictEqual(left.name, "alice");
  strictEqual((await a.readUntil((f) => f.type === "notice")).code, "replaced");
  a.close();
  b.close();
  watcher.close();
});

Deno.test("a flood of password checks is bounded: extra ones are refused as busy", async () => {
  await using server = await startServer(OPEN);
  await register(server.port, "someone", "a fine password");
  const clients = await Promise.all(
    Array.from({ length: 60 }, () => JsonClient.connect(server.port)),
  );
  const replies = await Promise.all(
    clients.map((c, i) =>
      c.request({ type: "login", name: "someone", password: `wrong ${i}` }, 20_000)
    ),
  );
  const codes = new Set(replies.map((r) => r.code));
  ok(codes.has("busy"), `codes: ${[...codes]}`);
  const busy = replies.find((r) => r.code === "busy")!;
  strictEqual(busy.retryAfterMs, 1000);
  for (const c of clients) c.close();
});
