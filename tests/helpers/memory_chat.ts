/**
 * The chat on in-memory storage, wired by lib/server/backend.ts's `wireChat` exactly as the server
 * wires it on SQLite, for unit tests of the dispatcher, the connection and the listener that need
 * no file.
 */

import { wireChat } from "../../lib/server/backend.ts";
import { SERVER_DEFAULTS } from "../../lib/server/config.ts";
import type { ConnectionLimits } from "../../lib/server/rate_limit.ts";
import { Logger } from "../../lib/shared/log.ts";
import { MemoryStorage } from "../../lib/store/memory.ts";

export interface MemoryChatOptions {
  /** Names of the operators. */
  admins?: string[];
  /** The most bytes of history one reply carries. */
  budget?: number;
  /** The clock of the core, the bans and the login limiter. */
  now?: () => number;
  conns?: ConnectionLimits;
}

/** A chat on a fresh {@link MemoryStorage}; `lines` collects what it logs. */
export function memoryChat(options: MemoryChatOptions = {}) {
  const store = new MemoryStorage();
  const lines: string[] = [];
  const log = new Logger("debug", (line) => lines.push(line));
  const wired = wireChat(store, {
    historyOnJoin: 50,
    replyBudgetBytes: options.budget ?? 1 << 20,
    admins: options.admins ?? [],
    conns: options.conns ?? SERVER_DEFAULTS.conns,
    clock: options.now,
  }, log);
  return { ...wired, store, log, lines };
}
