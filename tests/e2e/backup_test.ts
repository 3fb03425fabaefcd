/**
 * `server --backup FILE`: a consistent copy of the database taken while the server runs (and
 * while it does not), that a server then starts from; every refusal is one line and exit 1.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { JsonClient } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";

async function say(c: JsonClient, text: string): Promise<void> {
  strictEqual((await c.request({ type: "say", text })).type, "ok");
}

Deno.test("a backup taken while the server runs holds every acknowledged message and account", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-backup-" });
  const db = `${dir}/chat.db`;
  try {
    {
      await using server = await startServer(["--db", db]);
      const alice = await JsonClient.connect(server.port, { name: "alice" });
      strictEqual((await alice.request({ type: "register", password: "pw-alice-1" })).type, "ok");
      for (const text of ["one", "two", "three"]) await say(alice, text);

      const backup = await runServerToExit(["--db", db, "--backup", `${dir}/copy.db`]);
      deepStrictEqual([backup.code, backup.stderr], [0, ""]);
      match(
        backup.stdout,
        /^backed up .*chat\.db to .*copy\.db: schema \d+, 3 messages, 1 accounts, \d+ bytes\n$/,
      );
      // The server goes on as before; what it writes now is not in the copy.
      await say(alice, "after the backup");
      alice.close();
      strictEqual((await server.stop()).code, 0);
    }
    await using restored = await startServer(["--db", `${dir}/copy.db`, "--history", "10"]);
    const bob = await JsonClient.connect(restored.port, { name: "bob" });
    const page = await bob.request({ type: "history", limit: 10 });
    deepStrictEqual((page.messages as { text: string }[]).map((m) => m.text), [
      "one",
      "two",
      "three",
    ]);
    // The account came along: alice's name is registered in the copy.
    const taken = await bob.request({ type: "rename", name: "alice" });
    deepStrictEqual([taken.type, taken.code], ["error", "name_registered"]);
    bob.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a backup of a stopped server's database leaves nothing behind beside it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-backup-" });
  const db = `${dir}/chat.db`;
  try {
    {
      await using server = await startServer(["--db", db]);
      const alice = await JsonClient.connect(server.port, { name: "alice" });
      await say(alice, "kept");
      alice.close();
      await server.stop();
    }
    const before = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    // The database may be named by the config file, as the server that uses it reads it.
    await Deno.writeTextFile(`${dir}/server.jsonc`, JSON.stringify({ db }));
    const viaConfig = await runServerToExit([
      "--config",
      `${dir}/server.jsonc`,
      "--backup",
      `${dir}/copy-via-config.db`,
    ]);
    strictEqual(viaConfig.code, 0, viaConfig.stderr);
    match(viaConfig.stdout, /chat\.db to .*copy-via-config\.db: schema \d+, 1 messages/);
    await Deno.remove(`${dir}/copy-via-config.db`);
    await Deno.remove(`${dir}/server.jsonc`);
    const backup = await runServerToExit(["--db", db, "--backup", `${dir}/copy.db`]);
    strictEqual(backup.code, 0, backup.stderr);
    match(backup.stdout, /: schema \d+, 1 messages, 0 accounts/);
    const after = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    deepStrictEqual(after, [...before, "copy.db"].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--backup refuses with one line what it cannot copy or would overwrite", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-backup-" });
  const db = `${dir}/chat.db`;
  try {
    {
      await using server = await startServer(["--db", db]);
      await server.stop();
    }
    await Deno.writeTextFile(`${dir}/exists.db`, "precious");
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a database at all, just some text\n");
    const cases: [string, string[], number, RegExp][] = [
      [
        "the target exists",
        ["--db", db, "--backup", `${dir}/exists.db`],
        1,
        /exists\.db already exists: a backup never overwrites/,
      ],
      [
        "no database",
        ["--db", `${dir}/missing.db`, "--backup", `${dir}/x.db`],
        1,
        /no database at .*missing\.db: check --db/,
      ],
      [
        "a :memory: database",
        ["--db", ":memory:", "--backup", `${dir}/x.db`],
        1,
        /--backup needs --db FILE/,
      ],
      [
        "not a FastIM database",
        ["--db", `${dir}/notes.txt`, "--backup", `${dir}/x.db`],
        1,
        /notes\.txt is not a FastIM database/,
      ],
      ["an empty file name", ["--db", db, "--backup", ""], 2, /--backup needs a file/],
      [
        "a target in a missing folder",
        ["--db", db, "--backup", `${dir}/no/such/x.db`],
        1,
        /cannot write the backup/,
      ],
    ];
    for (const [name, args, code, message] of cases) {
      await t.step(name, async () => {
        const r = await runServerToExit(args);
        strictEqual(r.code, code, r.stderr);
        match(r.stderr, message);
        strictEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
      });
    }
    strictEqual(await Deno.readTextFile(`${dir}/exists.db`), "precious");
    ok(!(await Deno.stat(`${dir}/x.db`).then(() => true, () => false)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
