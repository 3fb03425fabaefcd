/**
 * `server --backup FILE`: a consistent copy of the database, safe while a server is using it.
 *
 * SQLite's online backup API (`backup` of `node:sqlite`) copies every page in one step, inside
 * one read transaction: in WAL mode it does not block the server's writes, nor they it, and the
 * copy is a snapshot of one moment, with every committed message and nothing half-written.
 * (`VACUUM INTO` would do the same, but Deno forbids the ATTACH it needs without --allow-all.)
 *
 * @module
 */

import { backup, DatabaseSync } from "node:sqlite";
import { SCHEMA_VERSION, StoreError, userVersion } from "./sqlite.ts";

/** What a backup copied. */
export interface BackupSummary {
  /** The schema version of the copy (the server's, at the time). */
  schemaVersion: number;
  messages: number;
  accounts: number;
  /** Size of the backup file. */
  bytes: number;
}

/**
 * Copies the database at `dbPath` into the new file `target`, then checks the copy's integrity.
 * Throws {@link StoreError} with one line when there is no database, `target` already exists
 * (a backup never overwrites), the file is not FastIM's, or the copy fails.
 *
 * @example
 * ```ts
 * import { backupDatabase } from "./backup.ts";
 *
 * const summary = await backupDatabase("fastim.db", "backups/fastim-2026-11-29.db");
 * ```
 */
export async function backupDatabase(dbPath: string, target: string): Promise<BackupSummary> {
  if (dbPath === ":memory:") {
    throw new StoreError("--backup needs --db FILE: a :memory: database keeps nothing to copy");
  }
  if (!exists(dbPath)) throw new StoreError(`no database at ${dbPath}: check --db`);
  if (exists(target)) {
    throw new StoreError(`${target} already exists: a backup never overwrites, choose a new file`);
  }
  let db: DatabaseSync;
  try {
    // Read-write, not read-only: when the server is not running, the last connection to close
    // removes the -wal and -shm files it made, so a backup run by root leaves no root-owned
    // files the server could not open. (The file exists: checked above.)
    db = new DatabaseSync(dbPath);
  } catch (e) {
    throw new StoreError(`cannot open database ${dbPath}: ${(e as Error).message}`);
  }
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const version = fastimSchema(db, dbPath);
    try {
      // rate -1: all pages in one step, so no write of the server's can fall in between.
      await backup(db, target, { rate: -1 });
    } catch (e) {
      throw new StoreError(`cannot write the backup ${target}: ${(e as Error).message}`);
    }
    return { ...checkCopy(target), schemaVersion: version };
  } finally {
    db.close();
  }
}

/** The schema version of a FastIM database; throws when `db` is not one. */
function fastimSchema(db: DatabaseSync, path: string): number {
  let version: number;
  let tables: string[];
  try {
    version = userVersion(db);
    tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as {
      name: string;
    }[]).map((r) => r.name);
  } catch (e) {
    throw new StoreError(`${path} is not a FastIM database: ${(e as Error).message}`);
  }
  if (version < 1 || !tables.includes("messages")) {
    throw new StoreError(`${path} is not a FastIM database (no messages table)`);
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `${path} has schema version ${version}, newer than this FastIM (${SCHEMA_VERSION}): back it up with the server that wrote it`,
    );
  }
  return version;
}

/**
 * Makes the copy one self-contained file (journal mode DELETE: no -wal or -shm beside it; a
 * server started on it turns WAL back on), checks its integrity, and counts what it holds.
 */
function checkCopy(target: string): Omit<BackupSummary, "schemaVersion"> {
  const copy = new DatabaseSync(target);
  try {
    copy.exec("PRAGMA journal_mode = DELETE");
    const check = copy.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
    if (check.integrity_check !== "ok") {
      throw new StoreError(
        `the backup ${target} failed its integrity check: ${check.integrity_check}`,
      );
    }
    const count = (table: string) =>
      Number((copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    const hasAccounts = copy.prepare(
      "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'accounts'",
    ).get() !== undefined;
    return {
      messages: count("messages"),
      accounts: hasAccounts ? count("accounts") : 0,
      bytes: Deno.statSync(target).size,
    };
  } finally {
    copy.close();
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new StoreError(`cannot check ${path}: ${(e as Error).message}`);
  }
}
