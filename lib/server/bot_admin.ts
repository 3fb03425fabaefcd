/**
 * The admin commands for bot accounts (docs/BOTS.md): `server --add-bot NAME` makes a bot and
 * prints its token, the only time it is ever shown; `server --remove-bot NAME` deletes the bot and
 * so revokes the token. They write the `--db` file directly, like `--backup`, and are safe while
 * a server uses it (SQLite's locking; the server looks tokens up on each request).
 *
 * @module
 */

import { newBotToken } from "../core/bot_tokens.ts";
import { nameKey, validateName } from "../shared/names.ts";
import { Store, StoreError } from "../store/sqlite.ts";

/** The one line printed, and the exit status. */
export interface BotCommandResult {
  code: number;
  out?: string;
  err?: string;
}

/** `--add-bot NAME`: the token on stdout, or one line on stderr saying why not. */
export function addBotCommand(dbPath: string, raw: string, now = Date.now()): BotCommandResult {
  if (dbPath === ":memory:") return { code: 2, err: "server: --add-bot needs a --db file" };
  const valid = validateName(raw);
  if (!valid.ok) return { code: 2, err: `server: --add-bot: ${valid.error.message}` };
  return withStore(dbPath, (store) => {
    const { token, digest } = newBotToken();
    if (store.addBot(nameKey(valid.name), valid.name, digest, now) === "taken") {
      return { code: 1, err: `server: --add-bot: the name "${valid.name}" is already taken` };
    }
    return {
      code: 0,
      out: `bot ${valid.name} added; its token (shown only now, keep it secret): ${token}`,
    };
  });
}

/** `--remove-bot NAME`: one line saying the bot and its token are gone, or that there was none. */
export function removeBotCommand(dbPath: string, raw: string): BotCommandResult {
  if (dbPath === ":memory:") return { code: 2, err: "server: --remove-bot needs a --db file" };
  const name = raw.normalize("NFC").trim();
  return withStore(
    dbPath,
    (store) =>
      store.removeBot(nameKey(name))
        ? { code: 0, out: `bot ${name} removed; its token no longer works` }
        : { code: 1, err: `server: --remove-bot: no bot is named "${name}"` },
  );
}

function withStore(dbPath: string, run: (store: Store) => BotCommandResult): BotCommandResult {
  let store: Store;
  try {
    store = Store.open(dbPath);
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    return { code: 1, err: `server: ${e.message}` };
  }
  try {
    return run(store);
  } finally {
    store.close();
  }
}
