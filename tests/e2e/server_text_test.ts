/**
 * The text dialect end to end: the real server on an ephemeral port, spoken to over real TCP
 * sockets exactly as `nc` or the Go original's client would.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  connectText,
  coreServerArgs,
  LineClient,
  presenceLine,
  readLines,
} from "../helpers/lines.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/** Starts the server with the core protocol alone (see {@link coreServerArgs}). */
async function start(args: string[] = []): Promise<TestServer> {
  return startServer([...await coreServerArgs(), ...args]);
}

const encoder = new TextEncoder();
const RULE_HINT = ": use letters, digits, _ - .";

/** Connects `a` and `b`, waits until both know of each other, and renames them. */
async function pair(port: number, names: [string?, string?] = ["alice", "bob"]) {
  const a = await connectText(port);
  const b = await connectText(port);
  strictEqual(await a.readLine(), presenceLine(b.addr, "online"));
  if (names[0]) {
    await a.send(`rename|${names[0]}`);
    strictEqual(await a.readLine(), `You renamed to ${names[0]}`);
    strictEqual(await b.readLine(), `[${a.addr}], ${a.addr}:renamed to ${names[0]}`);
  }
  if (names[1]) {
    await b.send(`rename|${names[1]}`);
    strictEqual(await b.readLine(), `You renamed to ${names[1]}`);
    strictEqual(await a.readLine(), `[${b.addr}], ${b.addr}:renamed to ${names[1]}`);
  }
  return { a, b };
}

/** A `who` reply line, `[ADDR],NAME:online` (no space after the comma, unlike events). */
const WHO_LINE = /^\[[^\]]+\],\S.*:online$/;

/**
 * Asserts nothing is waiting for `c`: it asks `who` and the next `online` lines it receives must
 * be the reply, with nothing before them.
 */
async function assertNothingPending(c: LineClient, online: number): Promise<void> {
  await c.send("who");
  const lines = await readLines(c, online);
  for (const line of lines) ok(WHO_LINE.test(line), `expected only who lines, got ${lines}`);
}

Deno.test("text: online is announced to everyone, the newcomer included, as [ADDR], NAME:online", async () => {
  await using server = await start();
  using a = await LineClient.connect(server.port);
  strictEqual(await a.readLine(), `[${a.addr}], ${a.addr}:online`);
  using b = await LineClient.connect(server.port);
  strictEqual(await b.readLine(), `[${b.addr}], ${b.addr}:online`);
  strictEqual(await a.readLine(), `[${b.addr}], ${b.addr}:online`);
  using c = await LineClient.connect(server.port);
  strictEqual(await c.readLine(), `[${c.addr}], ${c.addr}:online`);
  strictEqual(await a.readLine(), `[${c.addr}], ${c.addr}:online`);
  strictEqual(await b.readLine(), `[${c.addr}], ${c.addr}:online`);
  ok(/^127\.0\.0\.1:\d+$/.test(a.addr));
});

Deno.test("text: who answers one [ADDR],NAME:online line per user in join order", async () => {
  await using server = await start();
  const { a, b } = await pair(server.port, ["alice", undefined]);
  using _a = a, _b = b;
  await b.send("who");
  deepStrictEqual(await readLines(b, 2), [
    `[${a.addr}],alice:online`,
    `[${b.addr}],${b.addr}:online`,
  ]);
  strictEqual(await a.quietFor(100), null, "who is answered to the asker only");
});

Deno.test("text: rename", async (t) => {
  await using server = await start();
  const { a, b } = await pair(server.port, [undefined, undefined]);
  using _a = a, _b = b;

  await t.step("ok: You renamed to NEW, others get [ADDR], OLD:renamed to NEW", async () => {
    await a.send("rename|Alice");
    strictEqual(await a.readLine(), "You renamed to Alice");
    strictEqual(await b.readLine(), `[${a.addr}], ${a.addr}:renamed to Alice`);
    await assertNothingPending(a, 2); // the renamer is not sent the renamed event
  });

  await t.step("renaming again announces the previous name as OLD", async () => {
    await a.send("rename|alicia");
    strictEqual(await a.readLine(), "You renamed to alicia");
    strictEqual(await b.readLine(), `[${a.addr}], Alice:renamed to alicia`);
    await a.send("rename|Alice");
    strictEqual(await a.readLine(), "You renamed to Alice");
    strictEqual(await b.readLine(), `[${a.addr}], alicia:renamed to Alice`);
  });

  for (const taken of ["Alice", "alice", "ALICE"]) {
    await t.step(`${taken} while Alice is online: this name is already used`, async () => {
      await b.send(`rename|${taken}`);
      strictEqual(await b.readLine(), "this name is already used");
    });
  }

  const invalid: [string, string][] = [
    ["a b", `name may not contain a space${RULE_HINT}`],
    ["a|b", `name may not contain "|"${RULE_HINT}`],
    ["x".repeat(33), "name may be at most 32 characters long."],
    ["", "name may not be empty."],
    ["a:b", `name may not contain ":"${RULE_HINT}`],
  ];
  for (const [name, message] of invalid) {
    await t.step(`invalid ${JSON.stringify(name)}: ${message}`, async () => {
      await b.send(`rename|${name}`);
      strictEqual(await b.readLine(), message);
    });
  }

  await t.step("refused renames change nothing and announce nothing", async () => {
    await b.send("who");
    deepStrictEqual(await readLines(b, 2), [
      `[${a.addr}],Alice:online`,
      `[${b.addr}],${b.addr}:online`,
    ]);
    await assertNothingPending(a, 2);
  });

  await t.step("exactly 32 characters, NFC, any script", async () => {
    await b.send(`rename|${"é".repeat(32)}`);
    strictEqual(await b.readLine(), `You renamed to ${"é".repeat(32)}`);
    strictEqual(await a.readLine(), `[${b.addr}], ${b.addr}:renamed to ${"é".repeat(32)}`);
    await b.send("rename|Zoe\u0308");
    strictEqual(await b.readLine(), "You renamed to Zo\u00eb");
    strictEqual(await a.readLine(), `[${b.addr}], ${"é".repeat(32)}:renamed to Zo\u00eb`);
  });

  await t.step("a freed name can be taken", async () => {
    await a.send("rename|alice2");
    strictEqual(await a.readLine(), "You renamed to alice2");
    strictEqual(await b.readLine(), `[${a.addr}], Alice:renamed to alice2`);
    await b.send("rename|alice");
    strictEqual(await b.readLine(), "You renamed to alice");
  });
});

Deno.test("text: rename race — concurrent renames to one name, exactly one wins", async () => {
  await using server = await start();
  const clients: LineClient[] = [];
  try {
    for (let i = 0; i < 5; i++) clients.push(await connectText(server.port));
    for (let round = 0; round < 10; round++) {
      // Different spellings of one name, so the uniqueness check must be case-insensitive.
      const spellings = ["racer", "Racer", "RACER", "rAcEr", "racER"].map((s) => `${s}${round}`);
      await Promise.all(clients.map((c, i) => c.send(`rename|${spellings[i]}`)));
      const replies = await Promise.all(
        clients.map((c) =>
          c.readUntil((l) => l.startsWith("You renamed to ") || l === "this name is already used")
        ),
      );
      const winners = replies.filter((r) => r.startsWith("You renamed to "));
      strictEqual(winners.length, 1, `round ${round}: ${replies}`);
      ok(spellings.includes(winners[0].slice("You renamed to ".length)));
    }
    const who = clients[0];
    await who.send("who");
    const first = await who.readUntil((l) => WHO_LINE.test(l));
    const lines = [first, ...await readLines(who, clients.length - 1)];
    const names = lines.map((l) => l.slice(l.indexOf("],") + 2, -":online".length).toLowerCase());
    strictEqual(new Set(names).size, clients.length, `names unique: ${names}`);
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("text: to|NAME|TEXT delivers SENDER sent you a message: TEXT", async (t) => {
  await using server = await start();
  const { a, b } = await pair(server.port);
  using _a = a, _b = b;
  using c = await connectText(server.port);
  await a.readUntil((l) => l === presenceLine(c.addr, "online"));
  await b.readUntil((l) => l === presenceLine(c.addr, "online"));

  await t.step("to the receiver only, with | kept in TEXT", async () => {
    await a.send("to|bob|psst | pipes are fine|x");
    strictEqual(await b.readLine(), "alice sent you a message: psst | pipes are fine|x");
    await assertNothingPending(a, 3);
    await assertNothingPending(c, 3);
  });
  await t.step("receiver name is case-insensitive", async () => {
    await a.send("to|BOB|hi");
    strictEqual(await b.readLine(), "alice sent you a message: hi");
  });
  await t.step("to a user still named after its address", async () => {
    await a.send(`to|${c.addr}|hello there`);
    strictEqual(await c.readLine(), "alice sent you a message: hello there");
  });
  await t.step("from a user still named after its address", async () => {
    await c.send("to|alice|back");
    strictEqual(await a.readLine(), `${c.addr} sent you a message: back`);
  });
});

Deno.test("text: to| errors", async (t) => {
  await using server = await start();
  const { a, b } = await pair(server.port);
  using _a = a, _b = b;
  const cases: [string, string][] = [
    ["to|carol|hi", "the receiver is not online"],
    ["to||hi", "Please input valid receiver name"],
    ["to|bob|", "Please input valid content"],
    ["to|bob", "Invalid message format. Use: to|<receiver_name>|<message_content>"],
    ["to|", "Invalid message format. Use: to|<receiver_name>|<message_content>"],
  ];
  for (const [line, reply] of cases) {
    await t.step(`${line} → ${reply}`, async () => {
      await a.send(line);
      strictEqual(await a.readLine(), reply);
    });
  }
  await t.step("nothing reached anyone else", () => assertNothingPending(b, 2));
});

Deno.test("text: any other line is broadcast to everyone as [ADDR], NAME:TEXT", async () => {
  await using server = await start();
  const { a, b } = await pair(server.port, ["alice", undefined]);
  using _a = a, _b = b;
  await a.send("hello everyone: to| who rename|x");
  const line = `[${a.addr}], alice:hello everyone: to| who rename|x`;
  strictEqual(await a.readLine(), line);
  strictEqual(await b.readLine(), line);
  await b.send("  spaced  ");
  strictEqual(await a.readLine(), `[${b.addr}], ${b.addr}:  spaced  `);
  strictEqual(await b.readLine(), `[${b.addr}], ${b.addr}:  spaced  `);
});

Deno.test("text: leaving is announced as [ADDR], NAME:offline", async () => {
  await using server = await start();
  const { a, b } = await pair(server.port);
  using _a = a;
  const addr = b.addr;
  b.close();
  strictEqual(await a.readLine(), `[${addr}], bob:offline`);
  await a.send("who");
  strictEqual(await a.readLine(), `[${a.addr}],alice:online`);
  strictEqual(await a.quietFor(100), null);
});

Deno.test("text: framing", async (t) => {
  await using server = await start();
  const { a, b } = await pair(server.port);
  using _a = a, _b = b;

  await t.step("a line split across TCP writes byte by byte", async () => {
    const bytes = encoder.encode("to|bob|héllo ✓ wörld 😀\n");
    for (let i = 0; i < bytes.length; i++) {
      await a.writeRaw(bytes.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 1));
    }
    strictEqual(await b.readLine(), "alice sent you a message: héllo ✓ wörld 😀");
  });

  await t.step("several lines in one write", async () => {
    await a.writeRaw(encoder.encode("one\nto|bob|two\nthree\nwho\n"));
    deepStrictEqual(await readLines(a, 4), [
      `[${a.addr}], alice:one`,
      `[${a.addr}], alice:three`,
      `[${a.addr}],alice:online`,
      `[${b.addr}],bob:online`,
    ]);
    deepStrictEqual(await readLines(b, 3), [
      `[${a.addr}], alice:one`,
      "alice sent you a message: two",
      `[${a.addr}], alice:three`,
    ]);
  });

  await t.step("lines and line ends split anywhere across writes", async () => {
    await a.writeRaw(encoder.encode("fo"));
    await new Promise((r) => setTimeout(r, 5));
    await a.writeRaw(encoder.encode("ur\nfi"));
    await new Promise((r) => setTimeout(r, 5));
    await a.writeRaw(encoder.encode("ve\r"));
    await new Promise((r) => setTimeout(r, 5));
    await a.writeRaw(encoder.encode("\n"));
    deepStrictEqual(await readLines(b, 2), [`[${a.addr}], alice:four`, `[${a.addr}], alice:five`]);
    deepStrictEqual(await readLines(a, 2), [`[${a.addr}], alice:four`, `[${a.addr}], alice:five`]);
  });

  await t.step(
    "CRLF line ends: commands are recognised, the \\r is not part of the line",
    async () => {
      await a.writeRaw(encoder.encode("who\r\n"));
      deepStrictEqual(await readLines(a, 2), [
        `[${a.addr}],alice:online`,
        `[${b.addr}],bob:online`,
      ]);
      await b.writeRaw(encoder.encode("to|alice|crlf\r\nrename|robert\r\n"));
      strictEqual(await a.readLine(), "bob sent you a message: crlf");
      strictEqual(await a.readLine(), `[${b.addr}], bob:renamed to robert`);
      strictEqual(await b.readLine(), "You renamed to robert");
      await a.writeRaw(encoder.encode("to|robert|x\r\n"));
      strictEqual(await b.readLine(), "alice sent you a message: x");
    },
  );

  await t.step("empty lines are ignored", async () => {
    await a.writeRaw(encoder.encode("\n\r\n\n\r\n"));
    await a.writeRaw(encoder.encode("\n"));
    await a.send("after");
    strictEqual(await a.readLine(), `[${a.addr}], alice:after`);
    strictEqual(await b.readLine(), `[${a.addr}], alice:after`);
  });
});
