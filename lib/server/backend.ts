/**
 * Builds the server's backend from the configuration: opens the store, wires the core's
 * persistence hooks and the dispatcher to it, and puts the chat gateway and the gate in front.
 * The one place where core and store meet: {@link wireChat} does it over any `ChatStorage`
 * (SQLite here, memory in the tests).
 *
 * @module
 */

import { LoginLimiter } from "../core/accounts.ts";
import { ChatCore } from "../core/chat.ts";
import { Dispatcher } from "../core/dispatcher.ts";
import type { ChatStorage } from "../core/storage.ts";
import type { PublicEvent } from "../protocol/events.ts";
import { type Gate, LocalGate, LocalGateway } from "./chat_gateway.ts";
import type { Logger } from "../shared/log.ts";
import type { ConnectionLimits } from "./rate_limit.ts";
import { Store } from "../store/sqlite.ts";
import type { Backend } from "./listener.ts";
import { Bans } from "../core/bans.ts";
import { nameKey } from "../shared/names.ts";
import type { RoomLimits } from "../core/rooms.ts";
import { observeCommit } from "./http/metrics.ts";
import { type RetentionSettings, startRetention } from "./retention.ts";
import { WebhookSender, type WebhookSettings } from "./webhooks.ts";
import { BotSessions } from "./bot_sessions.ts";
import {
  BridgeStartError,
  MatterbridgeBridge,
  type MatterbridgeSettings,
} from "./matterbridge_bridge.ts";
import type { FloodLimits } from "./rate_limit.ts";
import { SERVER_DEFAULTS } from "./config.ts";

/** What the backend need from the configuration. */
export interface BackendConfig {
  /** SQLite file, or `:memory:` to keep nothing. */
  dbPath: string;
  /** Public messages sent to a joining JSON client. */
  historyOnJoin: number;
  /** Registered names that may kick and ban once logged in. */
  admins: string[];
  /** Each connection's outbound queue, which bounds a reply's size. */
  maxQueueBytes: number;
  /** ClientConnection limits, checked at accept by the gate. */
  conns: ConnectionLimits;
  /** Room limits, checked by the core (default: lib/core/rooms.ts's). */
  rooms?: RoomLimits;
  /** How long history is kept (default: for ever). */
  retention?: RetentionSettings;
  /** Where matching public messages are POSTed (lib/server/webhooks.ts); none by default. */
  webhook?: WebhookSettings;
  /** Flood control, which the bot API's posts are held to as a connection's lines are. */
  flood?: FloodLimits;
  /** The Matterbridge api gateway the lobby is bridged to (matterbridge_bridge.ts); none by default. */
  matterbridge?: MatterbridgeSettings;
  /** The longest line, in bytes of UTF-8, a bridged message is cut to (default: the server's). */
  maxLineBytes?: number;
}

/** The most private messages kept for one offline user; more are refused with `inbox_full`. */
export const MAX_INBOX_MESSAGES = 100;

/**
 * The backend of a one-process server: the chat gateway and gate connections use, and the chat
 * core, dispatcher and store behind them.
 */
export interface LocalBackend extends Backend, WiredChat {
  store: Store;
  chat: LocalGateway;
  /** The bots' sessions behind the bot HTTP API (bot_sessions.ts). */
  bots: BotSessions;
  /**
   * Stops the background work: the daily history clean-up, webhooks, the Matterbridge bridge and
   * the bots' sessions (before the store closes).
   */
  stopRetention: () => void;
}

/**
 * Opens the store (throwing `StoreError` with one line when it cannot) and builds the chat on it;
 * with a Matterbridge bridge whose bot is not in the store, throws `BridgeStartError`.
 *
 * @example
 * ```ts
 * import { openBackend } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const config = { ...SERVER_DEFAULTS, dbPath: ":memory:" };
 * const { core, dispatcher, store } = openBackend(config, new Logger("info"));
 * ```
 */
export function openBackend(config: BackendConfig, log: Logger): LocalBackend {
  const store = Store.open(config.dbPath);
  const bridged = config.matterbridge;
  if (bridged && store.botName(nameKey(bridged.bot)) === undefined) {
    store.close();
    throw new BridgeStartError(
      `--matterbridge-bot ${bridged.bot.slice(0, 40)}: no such bot in ${config.dbPath}; ` +
        "make it with --add-bot",
    );
  }
  store.onCommitError = (error) => log.error("store commit failed", { error });
  store.onCommitted = observeCommit;
  const webhook = config.webhook ? new WebhookSender(config.webhook, log) : undefined;
  const chat = wireChat(store, {
    historyOnJoin: config.historyOnJoin,
    // A reply must fit well inside the asker's queue, or asking would get them dropped.
    replyBudgetBytes: Math.floor(config.maxQueueBytes / 4),
    admins: config.admins,
    conns: config.conns,
    rooms: config.rooms,
    onPublic: webhook ? (e) => webhook.offer(e) : undefined,
  }, log);
  const stopCleanUp = config.retention ? startRetention(store, config.retention, log) : () => {};
  const bots = new BotSessions(chat.chat, config.flood ?? SERVER_DEFAULTS.flood, log);
  const bridge = bridged
    ? new MatterbridgeBridge(
      bridged,
      bots,
      config.maxLineBytes ?? SERVER_DEFAULTS.maxLineBytes,
      log,
    )
    : undefined;
  bridge?.start();
  const stopRetention = () => {
    stopCleanUp();
    webhook?.close();
    bridge?.close();
    bots.close();
  };
  return { ...chat, store, bots, stopRetention };
}

/** What {@link wireCore} needs besides the storage. */
export interface CoreWiring {
  /** Public messages sent to a joining JSON client. */
  historyOnJoin: number;
  /** The most bytes of history one reply carries. */
  replyBudgetBytes: number;
  /** Registered names that may kick and ban once logged in. */
  admins: readonly string[];
  /** Room limits, checked by the core (default: lib/core/rooms.ts's). */
  rooms?: RoomLimits;
  /** The clock of the core, the bans and the login limiter (default `Date.now`; tests fix it). */
  clock?: () => number;
  /**
   * The login limiter's clock when it must differ from {@link clock} (default: `clock`): a
   * cluster replica runs its core on the log's time, but limits logins on the node's own time.
   */
  loginClock?: () => number;
  /** Also receives every public message, after it is stored (the webhooks). */
  onPublic?: (event: PublicEvent) => void;
}

/** What {@link wireChat} needs besides the storage. */
export interface ChatWiring extends CoreWiring {
  /** Connection limits, checked at accept by the gate. */
  conns: ConnectionLimits;
}

/** The core, the dispatcher and the bans, wired over one storage by {@link wireCore}. */
export interface WiredCore {
  core: ChatCore;
  dispatcher: Dispatcher;
  bans: Bans;
}

/**
 * A chat wired over a storage: the core, the dispatcher and the bans, and in front of them the
 * chat gateway and the gate that connections use.
 */
export interface WiredChat extends WiredCore {
  chat: LocalGateway;
  gate: Gate;
}

/**
 * Wires a chat over any {@link ChatStorage}: the core's persistence hooks (history, offline
 * messages up to {@link MAX_INBOX_MESSAGES}, registered names and their look-alikes, rooms), the
 * dispatcher, bans and login limiter on the same storage ({@link wireCore}), and the gateway and
 * gate in front. The one place this wiring is written: {@link openBackend} uses it over SQLite,
 * the tests over `lib/store/memory.ts`, a cluster's replica its core part.
 *
 * @example
 * ```ts
 * import { wireChat } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { MemoryStorage } from "../store/memory.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const { core, chat } = wireChat(new MemoryStorage(), {
 *   historyOnJoin: 50,
 *   replyBudgetBytes: 256 * 1024,
 *   admins: ["alice"],
 *   conns: SERVER_DEFAULTS.conns,
 * }, new Logger("info"));
 * ```
 */
export function wireChat(store: ChatStorage, wiring: ChatWiring, log: Logger): WiredChat {
  const wired = wireCore(store, wiring, log);
  const chat = new LocalGateway(wired.core, wired.dispatcher);
  const gate = new LocalGate(wired.bans, wiring.conns);
  return { ...wired, chat, gate };
}

/**
 * The part of {@link wireChat} under the gateway: the core's persistence hooks on `store`, the
 * bans, the login limiter and the dispatcher. A cluster's replica (lib/cluster/replica.ts) uses
 * it alone, with its own gateway and gate in front.
 *
 * @example
 * ```ts
 * import { wireCore } from "./backend.ts";
 * import { MemoryStorage } from "../store/memory.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const { core, dispatcher } = wireCore(new MemoryStorage(), {
 *   historyOnJoin: 50,
 *   replyBudgetBytes: 256 * 1024,
 *   admins: [],
 * }, new Logger("info"));
 * ```
 */
export function wireCore(store: ChatStorage, wiring: CoreWiring, log: Logger): WiredCore {
  const clock = wiring.clock ?? Date.now;
  const core = new ChatCore({
    clock,
    reserveIds: (n) => store.reserveIds(n),
    registeredName: (key) => store.account(key)?.name,
    registeredLookalike: (skeletons) => store.accountLookingLike(skeletons),
    botName: (key) => store.botName(key),
    onPublic: wiring.onPublic
      ? (e) => {
        store.appendPublic(e);
        wiring.onPublic!(e);
      }
      : (e) => store.appendPublic(e),
    onOffline: (e, key) => {
      if (store.inboxSize(key) >= MAX_INBOX_MESSAGES) return false;
      store.appendInbox(e, key);
      return true;
    },
    // Private messages of accounts, for catch-up and search (lib/core/history.ts).
    onPrivate: (e, fromKey, toKey) => store.appendPrivate(e, fromKey, toKey),
    roomStore: store,
    roomLimits: wiring.rooms,
  });
  const bans = new Bans(store, clock);
  const dispatcher = new Dispatcher({
    core,
    store,
    log,
    historyOnJoin: wiring.historyOnJoin,
    replyBudgetBytes: wiring.replyBudgetBytes,
    admins: new Set(wiring.admins.map((name) => nameKey(name))),
    bans,
    // The limiter's own defaults (5 failures a minute).
    limiter: new LoginLimiter(undefined, undefined, wiring.loginClock ?? clock),
  });
  return { core, dispatcher, bans };
}
