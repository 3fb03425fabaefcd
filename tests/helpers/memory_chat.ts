/**
 * The chat on in-memory storage, wired as lib/server/backend.ts wires it on SQLite, for unit
 * tests of the dispatcher, the connection and the listener that need no file.
 */

import { LoginLimiter } from "../../lib/core/accounts.ts";
import { Bans } from "../../lib/core/bans.ts";
import { ChatCore } from "../../lib/core/chat.ts";
import { Dispatcher } from "../../lib/core/dispatcher.ts";
import { LocalGate, LocalGateway } from "../../lib/server/chat_gateway.ts";
import { SERVER_DEFAULTS } from "../../lib/server/config.ts";
import type { ConnectionLimits } from "../../lib/server/rate_limit.ts";
import { Logger } from "../../lib/shared/log.ts";
import { MemoryStorage } from "../../lib/store/memory.ts";

export interface MemoryChatOptions {
  /** Name keys of the operators. */
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
  const clock = options.now ?? Date.now;
  const core = new ChatCore({
    clock,
    reserveIds: (n) => store.reserveIds(n),
    registeredName: (key) => store.account(key)?.name,
    onPublic: (e) => store.appendPublic(e),
    onOffline: (e, key) => (store.appendInbox(e, key), true),
  });
  const lines: string[] = [];
  const log = new Logger("debug", (line) => lines.push(line));
  const bans = new Bans(store, clock);
  const dispatcher = new Dispatcher({
    core,
    store,
    log,
    historyOnJoin: 50,
    replyBudgetBytes: options.budget ?? 1 << 20,
    admins: new Set(options.admins ?? []),
    bans,
    limiter: new LoginLimiter(5, 60_000, clock),
  });
  const chat = new LocalGateway(core, dispatcher);
  const gate = new LocalGate(bans, options.conns ?? SERVER_DEFAULTS.conns);
  return { store, core, dispatcher, bans, chat, gate, log, lines };
}
