/** Operators (`--admin`): kick and ban, with bans kept across a restart. */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

async function registeredAdmin(port: number): Promise<JsonClient> {
  const admin = await JsonClient.connect(port, { name: "root" });
  strictEqual((await admin.request({ type: "register", password: "operator pass" })).type, "ok");
  return admin;
}

Deno.test("an operator kicks; others may not", async () => {
  await using server = await startServer(["--admin", "root"]);
  const admin = await registeredAdmin(server.port);
  const mallory = await LineClient.connect(server.port);
  await mallory.send("rename|mallory");
  await mallory.readUntil((l) => l === "You renamed to mallory");
  await mallory.send("kick|root|no");
  strictEqual(
    await mallory.readUntil((l) => l.startsWith("only")),
    "only operators (--admin, logged in) may do that",
  );
  await admin.send({ type: "kick", id: "k", name: "Mallory", reason: "spam" });
  // The reply and mallory's offline notice both come, in either order.
  const seen: Record<string, unknown>[] = [];
  while (!seen.some((f) => f.id === "k") || !seen.some((f) => f.event === "offline")) {
    seen.push(await admin.read());
  }
  deepStrictEqual(seen.find((f) => f.id === "k"), { type: "ok", id: "k", name: "mallory" });
  strictEqual(seen.find((f) => f.event === "offline")!.name, "mallory");
  strictEqual(
    await mallory.readUntil((l) => l.startsWith("you were")),
    "you were kicked by root: spam",
  );
  strictEqual(await mallory.readLine(), null);
  strictEqual((await admin.request({ type: "kick", name: "nobody" })).code, "not_online");
  admin.close();
});

Deno.test("a name ban kicks, blocks the name, and survives a restart", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "fastim-ops-" });
  try {
    {
      await using server = await startServer(["--admin", "root", "--db", `${dir}/x.db`]);
      const admin = await registeredAdmin(server.port);
      const eve = await LineClient.connect(server.port);
      await eve.send("rename|eve");
      await eve.readUntil((l) => l === "You renamed to eve");
      await admin.send({ type: "ban", id: 1, target: "EVE", reason: "abuse" });
      strictEqual(
        await eve.readUntil((l) => l.startsWith("you are")),
        "you are banned from this server",
      );
      admin.close();
      eve.close();
    }
    await using server = await startServer(["--admin", "root", "--db", `${dir}/x.db`]);
    const again = await LineClient.connect(server.port);
    await again.send("rename|eve");
    strictEqual(
      await again.readUntil((l) => l.includes("banned")),
      "this name is banned from this server",
    );
    // The operator lifts it; the name is free again.
    const admin = await JsonClient.connect(server.port, {
      name: "root",
      password: "operator pass",
    });
    strictEqual(admin.welcome.account, "root");
    strictEqual((await admin.request({ type: "unban", target: "eve" })).type, "ok");
    await again.send("rename|eve");
    await again.readUntil((l) => l === "You renamed to eve");
    admin.close();
    again.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an IP ban refuses new connections from that address until it expires", async () => {
  await using server = await startServer(["--admin", "root"]);
  const admin = await registeredAdmin(server.port);
  const other = await LineClient.connect(server.port);
  await other.readLine();
  const r = await admin.request({ type: "ban", target: "127.0.0.1", duration: "1s" });
  deepStrictEqual([r.type, r.name], ["ok", "127.0.0.1"]);
  // Everyone else from that address is dropped; the operator is not.
  strictEqual(
    await other.readUntil((l) => l.startsWith("you are")),
    "you are banned from this server",
  );
  const refused = await LineClient.connect(server.port);
  strictEqual(await refused.readLine(), "you are banned from this server");
  strictEqual(await refused.readLine(), null);
  refused.close();
  strictEqual((await admin.request({ type: "ping" })).type, "ok");
  // After the duration, the address may connect again.
  await new Promise((r) => setTimeout(r, 1100));
  const back = await LineClient.connect(server.port);
  ok(/online$/.test((await back.readLine())!));
  // A bad duration is refused with a reason.
  const bad = await admin.request({ type: "ban", target: "10.0.0.1", duration: "soon" });
  deepStrictEqual([bad.type, bad.code], ["error", "bad_request"]);
  back.close();
  other.close();
  admin.close();
});
