/**
 * Hostile and unlucky clients against the real server: one that never reads, one that never ends
 * its line, escape sequences, invalid UTF-8, and idle connections.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  connectText,
  coreServerArgs,
  JsonClient,
  LineClient,
  presenceLine,
} from "../helpers/lines.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const encoder = new TextEncoder();

/** Starts the server with the core protocol alone (see {@link coreServerArgs}). */
async function start(args: string[] = []): Promise<TestServer> {
  return startServer([...await coreServerArgs(), ...args]);
}

Deno.test("a client that never reads is dropped and never slows the others", async () => {
  await using server = await start(["--max-queue", "64KiB"]);
  const sender = await connectText(server.port);
  const listener = await connectText(server.port);
  // A raw socket that never reads: the kernel's buffers fill (a few MiB on loopback), then its
  // outbox, and the server drops it.
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const stuckAddr = `127.0.0.1:${(stuck.localAddr as Deno.NetAddr).port}`;
  try {
    await sender.readUntil((l) => l === presenceLine(stuckAddr, "online"));
    await listener.readUntil((l) => l === presenceLine(stuckAddr, "online"));

    // Lines of ~100 bytes, 500 per write, until the stuck client is gone (at least 20,000 lines
    // and at most 200,000, so the kernel's buffers cannot hide the slow reader).
    const BATCH = 500;
    const pad = "x".repeat(80);
    const text = (i: number) => `m${String(i).padStart(6, "0")} ${pad}`;
    const prefix = `[${sender.addr}], ${sender.addr}:`;
    const offline = presenceLine(stuckAddr, "offline");
    const END = "end of the flood";
    let stuckGone = false;
    // Both chatting clients read while the sender writes. Failures are captured rather than
    // thrown so that none is left unhandled mid-test.
    const readAll = async (c: LineClient) => {
      const publics: string[] = [];
      try {
        while (true) {
          const line = await c.readLine(10_000);
          if (line === null) return { publics, error: "connection closed" };
          if (line === offline) stuckGone = true;
          if (line === prefix + END) return { publics, error: undefined };
          if (line.startsWith(prefix)) publics.push(line.slice(prefix.length));
        }
      } catch (e) {
        return { publics, error: (e as Error).message };
      }
    };
    const got = [readAll(sender), readAll(listener)];
    let sent = 0;
    let writeError: string | undefined;
    try {
      while ((sent < 20_000 || !stuckGone) && sent < 200_000) {
        const batch = Array.from({ length: BATCH }, (_, k) => text(sent + k));
        await sender.writeRaw(encoder.encode(batch.join("\n") + "\n"));
        sent += BATCH;
      }
      await sender.send(END);
    } catch (e) {
      writeError = (e as Error).message;
    }
    const [toSender, toListener] = await Promise.all(got);
    const drops = server.stderr().split("\n").filter((l) => l.includes("slow reader dropped"));
    const diagnosis =
      `${sent} lines sent; sender ${sender.addr}: ${toSender.error ?? "ok"} after ` +
      `${toSender.publics.length}; listener ${listener.addr}: ${toListener.error ?? "ok"} after ` +
      `${toListener.publics.length}; write: ${writeError ?? "ok"}; log: ${drops.join(" | ")}`;
    strictEqual(toSender.error, undefined, diagnosis);
    strictEqual(toListener.error, undefined, diagnosis);
    strictEqual(writeError, undefined, diagnosis);
    const expected = Array.from({ length: sent }, (_, i) => text(i));
    ok(toSender.publics.every((t, i) => t === expected[i]), "the sender got them in order");
    strictEqual(toSender.publics.length, sent, "the sender got every message");
    ok(toListener.publics.every((t, i) => t === expected[i]), "the listener got them in order");
    strictEqual(toListener.publics.length, sent, "the listener got every message");

    // The stuck client's departure is announced to the others, and logged.
    ok(stuckGone, `offline announced for ${stuckAddr} after ${sent} lines: ${diagnosis}`);
    ok(
      drops.length === 1 && drops[0].includes("WARN") && drops[0].includes(stuckAddr),
      `one WARN log line for the stuck client only: ${drops}`,
    );
  } finally {
    stuck.close();
    sender.close();
    listener.close();
  }
});

Deno.test("an oversized line gets an error and the connection is closed", async (t) => {
  await using server = await start(["--max-line", "1KiB"]);
  using other = await connectText(server.port);

  const sendHuge = async (c: LineClient) => {
    // 1 MiB without a newline; the server closes the socket long before it is all written.
    try {
      await c.writeRaw(new Uint8Array(1024 * 1024).fill(0x61));
    } catch { /* reset by the server: expected */ }
  };

  await t.step("text dialect: the limit message, then EOF", async () => {
    using big = await connectText(server.port);
    await other.readUntil((l) => l === presenceLine(big.addr, "online"));
    const writing = sendHuge(big);
    const lines = await big.readToEnd(10_000);
    await writing;
    deepStrictEqual(lines, ["line too long: the limit is 1024 bytes; closing the connection"]);
    strictEqual(await other.readLine(), presenceLine(big.addr, "offline"));
  });

  await t.step("JSON dialect: a line_too_long notice, then EOF", async () => {
    using big = await JsonClient.connect(server.port);
    await other.readUntil((l) => l === presenceLine(big.lines.addr, "online"));
    const writing = sendHuge(big.lines);
    const lines = await big.lines.readToEnd(10_000);
    await writing;
    deepStrictEqual(lines.map((l) => JSON.parse(l)), [{
      type: "notice",
      code: "line_too_long",
      text: "line too long: the limit is 1024 bytes; closing the connection",
    }]);
  });

  await t.step("a line of exactly the limit is fine", async () => {
    using c = await connectText(server.port);
    await c.send("y".repeat(1024));
    strictEqual(await c.readLine(), `[${c.addr}], ${c.addr}:${"y".repeat(1024)}`);
    await c.writeRaw(encoder.encode("z".repeat(1024) + "\r\n"));
    strictEqual(await c.readLine(), `[${c.addr}], ${c.addr}:${"z".repeat(1024)}`);
  });

  await t.step("the server is still serving the others", async () => {
    await other.send("who");
    const line = await other.readUntil((l) =>
      l.startsWith(`[${other.addr}],`) && !l.includes(", ")
    );
    strictEqual(line, `[${other.addr}],${other.addr}:online`);
    await other.send("still here");
    strictEqual(
      await other.readUntil((l) => l.endsWith("still here")),
      `[${other.addr}], ${other.addr}:still here`,
    );
  });
});

Deno.test("escape sequences, C1 controls and bidi overrides are stripped", async (t) => {
  await using server = await start();
  using text = await connectText(server.port);
  using json = await JsonClient.connect(server.port, { name: "jay" });
  await text.readUntil((l) => l.endsWith(":renamed to jay"));
  const jayAddr = json.lines.addr;

  const dirty: [string, string, string][] = [
    ["ESC[2J (clear screen)", "before\x1b[2Jafter", "beforeafter"],
    ["OSC window title", "\x1b]0;pwned\x07visible", "visible"],
    ["OSC ended by ST", "\x1b]2;title\x1b\\visible", "visible"],
    ["SGR colours", "\x1b[31mred\x1b[0m", "red"],
    ["C1 CSI", "a\u009b2Jb", "ab"],
    ["C1 controls", "a\u0085b\u009dtitle\u009cc", "abc"],
    ["bidi overrides", "abc\u202edcba\u2066x\u2069", "abcdcbax"],
    ["C0 controls and DEL, tab kept", "a\x00b\x07c\x08d\x7fe\tf", "abcde\tf"],
  ];
  for (const [what, input, clean] of dirty) {
    await t.step(`text dialect, public: ${what}`, async () => {
      await text.writeRaw(encoder.encode(input + "\n"));
      strictEqual(await text.readLine(), `[${text.addr}], ${text.addr}:${clean}`);
      const f = await json.readUntil((f) => f.type === "public");
      strictEqual(f.text, clean);
    });
    await t.step(`JSON dialect, public: ${what}`, async () => {
      await json.request({ type: "say", id: 1, text: input });
      strictEqual(await text.readLine(), `[${jayAddr}], jay:${clean}`);
    });
    await t.step(`JSON dialect, private: ${what}`, async () => {
      await json.request({ type: "msg", id: 2, to: text.addr, text: input });
      strictEqual(await text.readLine(), `jay sent you a message: ${clean}`);
    });
    await t.step(`text dialect, private: ${what}`, async () => {
      await text.writeRaw(encoder.encode(`to|jay|${input}\n`));
      strictEqual((await json.readUntil((f) => f.type === "private")).text, clean);
    });
  }

  await t.step("text dialect, names", async () => {
    await text.writeRaw(encoder.encode("rename|\x1b[31mev\u202eil\x1b]0;x\x07\n"));
    strictEqual(await text.readLine(), "You renamed to evil");
    const f = await json.readUntil((f) => f.type === "presence" && f.event === "renamed");
    strictEqual(f.name, "evil");
    await text.send("hi");
    strictEqual(await text.readLine(), `[${text.addr}], evil:hi`);
  });
  await t.step("JSON dialect, names", async () => {
    const r = await json.request({ type: "rename", id: 3, name: "\u001b[2Jj\u009b1mo\u202ey" });
    strictEqual(r.name, "joy");
    strictEqual(await text.readLine(), `[${jayAddr}], jay:renamed to joy`);
  });
  await t.step("JSON hello name", async () => {
    using k = await JsonClient.connect(server.port, { name: "\x1b]0;t\x07kay\u202e" });
    strictEqual(k.welcome.name, "kay");
    k.close();
    await text.readUntil((l) => l === presenceLine(k.lines.addr, "offline", "kay"));
  });
  await t.step("nothing but escapes is empty", async () => {
    await text.writeRaw(encoder.encode("\x1b[2J\x1b[H\n"));
    strictEqual(await text.readLine(), "Please input valid content");
  });
});

Deno.test("invalid UTF-8 becomes U+FFFD and the server survives", async (t) => {
  await using server = await start();
  using text = await connectText(server.port);
  using json = await JsonClient.connect(server.port);
  await text.readUntil((l) => l === presenceLine(json.lines.addr, "online"));

  await t.step("text dialect", async () => {
    // A lone continuation byte, a truncated sequence, an overlong encoding, a surrogate.
    await text.writeRaw(new Uint8Array([0x61, 0x80, 0x62, 0xe2, 0x82, 0x63, 0xc0, 0xaf, 0x0a]));
    const line = await text.readLine();
    ok(line!.startsWith(`[${text.addr}], ${text.addr}:a\ufffdb\ufffd`), line!);
    ok(!line!.includes("\u00c0") && line!.endsWith("\ufffd\ufffd"), JSON.stringify(line));
    await text.writeRaw(new Uint8Array([0xed, 0xa0, 0x80, 0xff, 0xfe, 0x0a]));
    ok(/^[^:]+:\d+\], [^:]+:\d+:\ufffd+$/.test((await text.readLine())!));
  });
  await t.step("JSON dialect, inside a string", async () => {
    const frame = encoder.encode('{"type":"say","id":1,"text":"a_b"}\n');
    frame[frame.indexOf(0x5f)] = 0xff;
    await json.lines.writeRaw(frame);
    const f = await json.readUntil((f) => f.type === "public" && f.from === json.lines.addr);
    strictEqual(f.text, "a\ufffdb");
    strictEqual(await text.readLine(), `[${json.lines.addr}], ${json.lines.addr}:a\ufffdb`);
  });
  await t.step("in a rename", async () => {
    await text.writeRaw(new Uint8Array([...encoder.encode("rename|x"), 0xff, 0x0a]));
    strictEqual(await text.readLine(), 'name may not contain "\ufffd": use letters, digits, _ - .');
  });
  await t.step("the server still serves", async () => {
    await text.send("who");
    strictEqual(await text.readLine(), `[${text.addr}],${text.addr}:online`);
    deepStrictEqual(await json.request({ type: "ping", id: 2 }), { type: "ok", id: 2 });
  });
});

Deno.test("idle timeout", async (t) => {
  await t.step("--idle-timeout 500ms: the message, then EOF; others see offline", async () => {
    await using server = await start(["--idle-timeout", "500ms"]);
    const since = Date.now();
    using watcher = await JsonClient.connect(server.port, { name: "watcher" });
    using idle = await connectText(server.port);
    using json = await JsonClient.connect(server.port);
    const idleAddrs = [idle.addr, json.lines.addr];
    // The watcher stays active (ping) and sees both idle users leave.
    const gone = new Set<string>();
    let pings = 0;
    while (gone.size < 2) {
      ok(Date.now() - since < 3000, `offline seen for ${[...gone]} only`);
      await watcher.send({ type: "ping", id: ++pings });
      const f = await watcher.readUntil((f) =>
        (f.type === "ok" && f.id === pings) || (f.type === "presence" && f.event === "offline")
      );
      if (f.type === "presence") gone.add(f.addr as string);
      else await new Promise((r) => setTimeout(r, 100));
    }
    deepStrictEqual([...gone].sort(), [...idleAddrs].sort());
    const lines = await idle.readToEnd(3000);
    const elapsed = Date.now() - since;
    strictEqual(lines.at(-1), "You are timeout due to inactivity for long time");
    ok(elapsed >= 450, `closed after ${elapsed} ms`);
    const frames = (await json.lines.readToEnd(3000)).map((l) => JSON.parse(l));
    deepStrictEqual(frames.at(-1), {
      type: "notice",
      code: "idle_timeout",
      text: "You are timeout due to inactivity for long time",
    });
  });

  await t.step("--idle-timeout 500ms: lines and pings keep a connection alive", async () => {
    await using server = await start(["--idle-timeout", "500ms"]);
    using text = await connectText(server.port);
    using json = await JsonClient.connect(server.port);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      await text.send("who");
      deepStrictEqual(await json.request({ type: "ping", id: i }), { type: "ok", id: i });
    }
    // 1 s has passed, twice the timeout: both are still there.
    const who = await json.request({ type: "who", id: "w" });
    strictEqual((who.users as unknown[]).length, 2);
  });

  await t.step("--idle-timeout 0 keeps an idle connection open", async () => {
    await using server = await start(["--idle-timeout", "0"]);
    using idle = await connectText(server.port);
    strictEqual(await idle.quietFor(800), null, "nothing arrives, not even a timeout");
    await idle.send("who");
    strictEqual(await idle.readLine(), `[${idle.addr}],${idle.addr}:online`);
  });
});

Deno.test("lines sent just before an over-long one in the same write are still delivered", async () => {
  await using server = await start(["--max-line", "1KiB"]);
  using watcher = await connectText(server.port);
  using sender = await connectText(server.port);
  await watcher.readUntil((l) => l === presenceLine(sender.addr, "online"));
  await sender.writeRaw(encoder.encode(`important\n${"z".repeat(2000)}\n`));
  strictEqual(await watcher.readLine(), `[${sender.addr}], ${sender.addr}:important`);
  strictEqual(await watcher.readLine(), presenceLine(sender.addr, "offline"));
});
