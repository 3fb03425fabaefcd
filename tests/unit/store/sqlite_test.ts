import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  fillSkeletons,
  migrate,
  SCHEMA_VERSION,
  Store,
  StoreError,
  userVersion,
} from "../../../lib/store/sqlite.ts";
import { nameSkeletons } from "../../../lib/shared/names.ts";

function tempDb(): string {
  return Deno.makeTempFileSync({ suffix: ".db" });
}

function cleanup(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(path + suffix);
    } catch { /* not there */ }
  }
}

const msg = (msgId: number, text = `m${msgId}`) => ({
  msgId,
  ts: 1_000 + msgId,
  from: "alice",
  fromAddr: "127.0.0.1:5000",
  text,
});

Deno.test("Store keeps public messages across reopen, oldest first, paged by before-id", () => {
  const path = tempDb();
  try {
    const store = Store.open(path);
    for (let i = 1; i <= 10; i++) store.appendPublic(msg(i));
    store.close();
    const again = Store.open(path);
    deepStrictEqual(again.recentPublic(3).map((m) => m.msgId), [8, 9, 10]);
    deepStrictEqual(again.recentPublic(3, 8).map((m) => m.msgId), [5, 6, 7]);
    deepStrictEqual(again.recentPublic(3, 2), [msg(1)]);
    deepStrictEqual(again.recentPublic(0), []);
    again.close();
  } finally {
    cleanup(path);
  }
});

Deno.test("Store group-commits one turn's writes and calls afterCommit waiters after COMMIT", async () => {
  const path = tempDb();
  try {
    const store = Store.open(path);
    const order: string[] = [];
    store.appendPublic(msg(1));
    store.appendPublic(msg(2));
    strictEqual(store.pending, true);
    store.afterCommit((e) => order.push(`a:${e ?? "ok"}`));
    store.afterCommit((e) => order.push(`b:${e ?? "ok"}`));
    deepStrictEqual(order, []);
    // Another connection sees nothing until the commit (the contract tests cover the rest).
    const reader = new DatabaseSync(path);
    strictEqual((reader.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n, 0);
    await new Promise((r) => setTimeout(r, 20));
    deepStrictEqual(order, ["a:ok", "b:ok"]);
    strictEqual(store.pending, false);
    strictEqual((reader.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n, 2);
    // With nothing pending, the waiter runs at once.
    let now = false;
    store.afterCommit(() => now = true);
    strictEqual(now, true);
    reader.close();
    store.close();
  } finally {
    cleanup(path);
  }
});

Deno.test("Store reserves message ids durably, so they are never reused after a restart", () => {
  const path = tempDb();
  try {
    const a = Store.open(path);
    const first = a.reserveIds(1000);
    const second = a.reserveIds(1000);
    strictEqual(second, first + 1000);
    a.close();
    const b = Store.open(path);
    strictEqual(b.reserveIds(10), first + 2000);
    b.close();
  } finally {
    cleanup(path);
  }
});

Deno.test("Store migrates a version-1 database forward without losing history", () => {
  const path = tempDb();
  try {
    const db = new DatabaseSync(path);
    migrate(db, 1);
    strictEqual(userVersion(db), 1);
    db.prepare("INSERT INTO messages (id, ts, sender, sender_addr, text) VALUES (?, ?, ?, ?, ?)")
      .run(42, 1, "old", "1.2.3.4:5", "from v1");
    db.close();
    const store = Store.open(path);
    deepStrictEqual(store.recentPublic(10).map((m) => m.text), ["from v1"]);
    strictEqual(store.account("x"), undefined); // the v2 tables exist
    // Messages from before search existed are indexed when the store opens.
    deepStrictEqual(
      store.search([{ text: "V1", prefix: false }], { rooms: [] }, 1e9, 10).map((m) => m.msgId),
      [42],
    );
    store.close();
    const check = new DatabaseSync(path);
    strictEqual(userVersion(check), SCHEMA_VERSION);
    check.close();
  } finally {
    cleanup(path);
  }
});

Deno.test("Store refuses clearly: newer schema, corrupt file, unwritable path", async (t) => {
  await t.step("a newer schema than this build knows", () => {
    const path = tempDb();
    try {
      const db = new DatabaseSync(path);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      throws(() => Store.open(path), (e: Error) => {
        ok(e instanceof StoreError);
        ok(/newer than this FastIM understands/.test(e.message), e.message);
        return true;
      });
    } finally {
      cleanup(path);
    }
  });
  await t.step("a file that is not a database", () => {
    const path = tempDb();
    try {
      Deno.writeTextFileSync(path, "this is not sqlite ".repeat(100));
      throws(() => Store.open(path), (e: Error) => {
        ok(e instanceof StoreError);
        ok(/not a FastIM database or is corrupt/.test(e.message), e.message);
        return true;
      });
    } finally {
      cleanup(path);
    }
  });
  await t.step("a directory that does not exist", () => {
    throws(() => Store.open("/nonexistent-dir-fastim/x.db"), (e: Error) => {
      ok(e instanceof StoreError);
      ok(
        /cannot create or open database \/nonexistent-dir-fastim\/x\.db: the directory \/nonexistent-dir-fastim does not exist/
          .test(e.message),
        e.message,
      );
      return true;
    });
  });
});

Deno.test("Store gives accounts from before schema 4 their look-alike keys when it opens", () => {
  const path = tempDb();
  try {
    const db = new DatabaseSync(path);
    migrate(db, 3);
    db.prepare("INSERT INTO accounts (name_key, name, salt, hash, created) VALUES (?, ?, ?, ?, ?)")
      .run("alice", "alice", new Uint8Array([1]), new Uint8Array([2]), 0);
    db.close();
    const store = Store.open(path);
    strictEqual(store.accountLookingLike(nameSkeletons("aIice"))?.key, "alice");
    store.close();
    const check = new DatabaseSync(path);
    fillSkeletons(check); // nothing left to fill: a no-op
    strictEqual(
      (check.prepare("SELECT count(*) AS n FROM account_skeletons").get() as { n: number }).n,
      1,
    );
    check.close();
  } finally {
    cleanup(path);
  }
});
