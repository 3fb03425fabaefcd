/**
 * One account, several connections (laptop, phone, scripts): each gets what the account
 * receives, presence is per account, and a takeover happens only when asked. Text and JSON
 * connections mix freely.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const OPEN = ["--msg-rate", "0", "--byte-rate", "0", "--max-conns-per-ip", "0", "--conn-rate", "0"];
const PASSWORD = "alice password";

async function registerAlice(port: number): Promise<void> {
  const c = await JsonClient.connect(port, { name: "alice" });
  strictEqual((await c.request({ type: "register", password: PASSWORD })).type, "ok");
  c.close();
}

function names(who: Record<string, unknown>): string[] {
  return (who.users as { name: string }[]).map((u) => u.name);
}

Deno.test("multiclient JSON: two logins share the account; presence once; PMs reach both", async () => {
  await using server = await startServer(OPEN);
  const bob = await JsonClient.connect(server.port, { name: "bob" });
  await registerAlice(server.port);
  await bob.readUntil((f) => f.event === "offline" && f.name === "alice");
  const laptop = await JsonClient.connect(server.port, { name: "alice", password: PASSWORD });
  strictEqual(laptop.welcome.account, "alice");
  await bob.readUntil((f) => f.event === "renamed" && f.name === "alice");
  const phone = await JsonClient.connect(server.port, { name: "alice", password: PASSWORD });
  strictEqual(phone.welcome.account, "alice");
  // Bob sees the phone come and its address name go; alice does not come online a second time.
  const came = await bob.readUntil((f) => f.type === "presence");
  deepStrictEqual([came.event, came.name], ["online", came.addr]);
  const gone = await bob.readUntil((f) => f.type === "presence");
  deepStrictEqual([gone.event, gone.name], ["offline", came.addr]);
  ok(gone.name !== "alice", "alice does not go offline or come online again");
  deepStrictEqual(names(await bob.request({ type: "who" })).filter((n) => n === "alice"), [
    "alice",
  ]);
  // The first connection is not told to leave.
  await laptop.readUntil((f) => f.event === "offline" && f.name === came.addr);
  strictEqual(await laptop.read(300).catch(() => "nothing"), "nothing");

  strictEqual(
    (await bob.request({ type: "msg", to: "ALICE", text: "for every device" })).type,
    "ok",
  );
  for (const c of [laptop, phone]) {
    const pm = await c.readUntil((f) => f.type === "private");
    deepStrictEqual([pm.from, pm.text, pm.echo], ["bob", "for every device", undefined]);
  }
  // What alice sends from the phone, the laptop sees as sent by itself.
  strictEqual((await phone.request({ type: "msg", to: "bob", text: "from my phone" })).type, "ok");
  const echo = await laptop.readUntil((f) => f.type === "private");
  deepStrictEqual([echo.from, echo.to, echo.text, echo.echo], [
    "alice",
    "bob",
    "from my phone",
    true,
  ]);
  strictEqual((await bob.readUntil((f) => f.type === "private")).text, "from my phone");

  // The laptop leaves: alice stays online; the phone leaves: alice goes offline.
  laptop.close();
  await bob.send({ type: "say", text: "still there?" });
  const seen = await bob.readUntil((f) => f.type === "public" || f.type === "presence");
  strictEqual(seen.type, "public", "no presence event when one of several connections leaves");
  ok(names(await bob.request({ type: "who" })).includes("alice"));
  phone.close();
  const off = await bob.readUntil((f) => f.type === "presence");
  deepStrictEqual([off.event, off.name], ["offline", "alice"]);
  bob.close();
});

Deno.test("multiclient text and mixed: text logins join JSON ones; takeover|NAME|PW ends them", async () => {
  await using server = await startServer(OPEN);
  await registerAlice(server.port);
  const json = await JsonClient.connect(server.port, { name: "alice", password: PASSWORD });
  const text = await LineClient.connect(server.port);
  await text.send(`login|alice|${PASSWORD}`);
  strictEqual(await text.readUntil((l) => l.startsWith("You logged in")), "You logged in as alice");
  const text2 = await LineClient.connect(server.port);
  await text2.send(`login|Alice|${PASSWORD}`);
  await text2.readUntil((l) => l.startsWith("You logged in"));

  const bob = await LineClient.connect(server.port);
  await bob.send("rename|bob");
  await bob.readUntil((l) => l.includes("renamed") || l.startsWith("You"));
  await bob.send("to|alice|hi all three");
  strictEqual(
    (await json.readUntil((f) => f.type === "private" && f.text === "hi all three")).from,
    "bob",
  );
  await text.readUntil((l) => l === "bob sent you a message: hi all three");
  await text2.readUntil((l) => l === "bob sent you a message: hi all three");
  // The text connection's private message shows on the others as sent by alice.
  await text.send("to|bob|from the terminal");
  await bob.readUntil((l) => l === "alice sent you a message: from the terminal");
  await text2.readUntil((l) => l === "You sent bob a message: from the terminal");
  strictEqual(
    (await json.readUntil((f) => f.type === "private" && f.echo === true)).text,
    "from the terminal",
  );
  await bob.send("who");
  const listed = await bob.readUntil((l) => l.includes("alice"));
  strictEqual(listed.split("alice").length - 1, 1, `alice listed once: ${listed}`);

  // A guest cannot join a registered name, and a guest's name has one connection.
  const guest = await LineClient.connect(server.port);
  await guest.send("rename|alice");
  await guest.readUntil((l) => l.includes("registered"));
  await guest.send("rename|bob");
  await guest.readUntil((l) => l.includes("already used"));

  // A takeover, asked for in the text dialect, ends all of alice's other connections.
  const taker = await LineClient.connect(server.port);
  await taker.send(`takeover|alice|${PASSWORD}`);
  await taker.readUntil((l) => l.startsWith("You logged in"));
  strictEqual((await json.readUntil((f) => f.type === "notice")).code, "replaced");
  await text.readUntil((l) => l.includes("another connection"));
  await text2.readUntil((l) => l.includes("another connection"));
  for (const c of [json, text, text2, bob, guest, taker]) c.close();
});

Deno.test("multiclient: a JSON login with takeover: true ends the others; bad takeover is refused", async () => {
  await using server = await startServer(OPEN);
  await registerAlice(server.port);
  const old = await JsonClient.connect(server.port, { name: "alice", password: PASSWORD });
  const fresh = await JsonClient.connect(server.port, {});
  const bad = await fresh.request({
    type: "login",
    name: "alice",
    password: PASSWORD,
    takeover: "yes",
  });
  deepStrictEqual([bad.type, bad.code], ["error", "bad_request"]);
  const r = await fresh.request({
    type: "login",
    name: "alice",
    password: PASSWORD,
    takeover: true,
  });
  deepStrictEqual([r.type, r.name], ["ok", "alice"]);
  strictEqual((await old.readUntil((f) => f.type === "notice")).code, "replaced");
  old.close();
  fresh.close();
});
