/**
 * Rooms and an account online from several connections: the membership is the account's, so
 * every connection of it is in the room, gets its lines, and leaves it together.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { connectText, type LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

async function loggedIn(port: number, name: string): Promise<LineClient> {
  const c = await connectText(port);
  await c.send(`login|${name}|${name}-password`);
  await c.readUntil((l) => l === `You logged in as ${name}`);
  return c;
}

Deno.test("rooms: every connection of an account is in its rooms", async (t) => {
  await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
  using first = await connectText(server.port);
  await first.send("rename|alice");
  await first.readUntil((l) => l === "You renamed to alice");
  await first.send("register|alice-password");
  await first.readUntil((l) => l === "You registered alice");
  using bob = await connectText(server.port);
  await bob.send("rename|bob");
  await bob.readUntil((l) => l === "You renamed to bob");

  await first.send("join|#multi");
  await first.readUntil((l) => l.startsWith("[#multi]"));
  await bob.send("join|#multi");
  await bob.readUntil((l) => l.startsWith("[#multi]"));
  await first.readUntil((l) => l.endsWith("bob:joined"));

  using second = await loggedIn(server.port, "alice");
  await t.step("a second connection logging in is in the room at once", async () => {
    strictEqual(
      await second.readUntil((l) => l.startsWith("[#multi]")),
      `[#multi] [${second.addr}], alice:joined`,
    );
    await bob.send("to|#multi|hi alice");
    const line = `[#multi] [${bob.addr}], bob:hi alice`;
    strictEqual(await first.readUntil((l) => l.startsWith("[#multi]")), line);
    strictEqual(await second.readUntil((l) => l.startsWith("[#multi]")), line);
  });

  await t.step("who lists the account once", async () => {
    await bob.send("who|#multi");
    await bob.readUntil((l) => l === line(bob.addr, "hi alice"));
    deepStrictEqual([await bob.readLine(), await bob.readLine()], [
      `[#multi] [${first.addr}],alice:operator`,
      `[#multi] [${bob.addr}],bob:online`,
    ]);
  });

  await t.step("parting from one connection takes the account out on all", async () => {
    await second.send("part|#multi");
    strictEqual(await second.readUntil((l) => l.startsWith("You left")), "You left #multi");
    strictEqual(
      await bob.readUntil((l) => l.startsWith("[#multi]")),
      `[#multi] [${second.addr}], alice:left`,
    );
    await bob.send("to|#multi|still there?");
    await bob.readUntil((l) => l.endsWith("still there?"));
    await first.send("to|#multi|x");
    strictEqual(
      await first.readUntil((l) => !l.startsWith("[") || l.startsWith("[#multi]")),
      "there is no room #multi: join|#multi creates it".replace(
        "there is no room",
        "you are not in",
      )
        .replace("creates it", "first"),
    );
  });
});

function line(addr: string, text: string): string {
  return `[#multi] [${addr}], bob:${text}`;
}
