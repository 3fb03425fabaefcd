/**
 * The bots' side of the bot HTTP API (docs/BOTS.md), where the chat core is: checks each
 * request's token with the store, keeps one {@link BotSession} per bot (signed in on first use,
 * gone after {@link BOT_SESSION_IDLE_MS} unused), and posts, empties buffers and opens streams for
 * it. The HTTP side (bot_api.ts) asks through {@link BotService}: {@link BotSessions} answers in
 * the same thread; with --workers an edge asks the hub's over the bus (workers/edge_bots.ts).
 *
 * @module
 */

import type { BotIdentity, LocalGateway } from "./chat_gateway.ts";
import type { FloodLimits } from "./rate_limit.ts";
import type { Logger } from "../shared/log.ts";
import type { Reply } from "../protocol/requests.ts";
import { afterSkip, type MatterbridgeMessage } from "../protocol/matterbridge.ts";
import { BotSession, type BotSink } from "./bot_session.ts";
import { nameKey } from "../shared/names.ts";

/** A session no request has used for this long, with no stream open, leaves the chat. */
export const BOT_SESSION_IDLE_MS = 10 * 60_000;
/** How often idle sessions are looked for. */
const SWEEP_MS = 30_000;

/** A refusal, with the HTTP status and the one-line error the API answers with. */
export interface BotRefusal {
  ok: false;
  status: number;
  error: string;
  /** With a 429: when to try again. */
  retryAfterMs?: number;
}

/** What a token is: its bot, signed in, or why not. */
export type BotAuth = { ok: true; key: string; name: string } | BotRefusal;

/** How a post went. */
export type BotOutcome = { ok: true } | BotRefusal;

/** Where the request came from: the first request's address names the bot's session. */
export interface BotWhere {
  addr: string;
  ip: string;
}

/** An open stream's link to its session. */
export interface BotSubscription {
  /** The buffered messages after `skip_before`, to send before the live ones. */
  replay: MatterbridgeMessage[];
  /** The stream ended on the HTTP side. */
  unsubscribe(): void;
}

/** What the HTTP API asks of the bots, in this thread or across the bus. */
export interface BotService {
  /** Checks `token` with the store and signs its bot in if it is not present. */
  authorize(token: string, where: BotWhere): Promise<BotAuth>;
  /** Posts `text` as the bot `key`, to `room` (the lobby when undefined). */
  post(key: string, text: string, room: string | undefined): Promise<BotOutcome>;
  /** The bot's buffered messages, now forgotten (without other bots' with `skipBots`). */
  take(key: string, skipBots?: boolean): Promise<MatterbridgeMessage[]>;
  /**
   * Opens a stream into `sink` (without other bots' messages with `skipBots`); undefined when
   * the session ended meanwhile.
   */
  subscribe(
    key: string,
    skipBefore: number | undefined,
    sink: BotSink,
    skipBots?: boolean,
  ): Promise<BotSubscription | undefined>;
}

/** The HTTP status for a chat request's error code. */
export function statusOf(reply: Extract<Reply, { ok: false }>): number {
  switch (reply.code) {
    case "rate_limited":
      return 429;
    case "name_banned":
    case "invite_only":
    case "not_in_room":
    case "room_full":
    case "too_many_rooms":
      return 403;
    case "no_such_room":
      return 404;
    case "busy":
    case "store_failed":
    case "connection_closed":
      return 503;
    default:
      return 400;
  }
}

/** How a new session signs in: with a token, or by name for the server's own bridges. */
type SignIn = (session: BotSession) => Promise<Reply>;

const GONE: BotRefusal = {
  ok: false,
  status: 503,
  error: "the bot's session ended meanwhile; try again",
};

/**
 * The bots' sessions in the chat's thread.
 *
 * @example
 * ```ts
 * import { BotSessions } from "./bot_sessions.ts";
 * import { openBackend } from "./backend.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const log = new Logger("info");
 * const { chat } = openBackend({ ...SERVER_DEFAULTS, dbPath: ":memory:" }, log);
 * const bots = new BotSessions(chat, SERVER_DEFAULTS.flood, log);
 * const auth = await bots.authorize("fim_not-a-real-token", { addr: "127.0.0.1:1", ip: "127.0.0.1" });
 * auth.ok; // false: a 401
 * bots.close();
 * ```
 */
export class BotSessions implements BotService {
  /** Each bot's session by name key, or its sign-in under way. */
  readonly #sessions = new Map<string, Promise<BotSession | BotRefusal>>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(
    readonly chat: LocalGateway,
    readonly flood: FloodLimits,
    readonly log: Logger,
  ) {
    this.#sweep = setInterval(() => void this.sweep(Date.now()), SWEEP_MS);
    Deno.unrefTimer(this.#sweep);
  }

  async authorize(token: string, where: BotWhere): Promise<BotAuth> {
    if (this.#closed) return { ok: false, status: 503, error: "server is shutting down" };
    const bot = this.chat.bot(token);
    if (!bot) return { ok: false, status: 401, error: "unknown or revoked bot token" };
    return await this.#present(bot, (s) => s.signIn(token), where);
  }

  /**
   * Signs the bot `name` in without its token, for the server's own bridges (the operator named
   * it on the command line: lib/server/matterbridge_bridge.ts). Never reachable from a request.
   */
  async signInByName(name: string, where: BotWhere): Promise<BotAuth> {
    if (this.#closed) return { ok: false, status: 503, error: "server is shutting down" };
    const bot = this.chat.botNamed(nameKey(name));
    if (!bot) return { ok: false, status: 401, error: `no bot named ${name} (see --add-bot)` };
    return await this.#present(bot, async (s) => {
      await this.chat.joined();
      return this.chat.dispatcher.signInBot(s, bot);
    }, where);
  }

  /** The bot's session, signed in with `login` if it is not present, marked as used now. */
  async #present(bot: BotIdentity, login: SignIn, where: BotWhere): Promise<BotAuth> {
    const session = await this.#session(bot, login, where);
    if (!(session instanceof BotSession)) return session;
    session.lastUsedAt = Date.now();
    return { ok: true, key: bot.key, name: session.user.name };
  }

  async post(key: string, text: string, room: string | undefined): Promise<BotOutcome> {
    const session = await this.#current(key);
    if (!session) return GONE;
    const verdict = session.guard.check("say", Date.now());
    if (verdict.action !== "allow") {
      const retryAfterMs = verdict.action === "reject" ? Math.ceil(verdict.waitMs) : 1000;
      return { ok: false, status: 429, error: verdict.message, retryAfterMs };
    }
    let reply = await session.request({ type: "say", text, ...(room ? { room } : {}) });
    if (!reply.ok && reply.code === "not_in_room" && room !== undefined) {
      // The bot joins a room the first time it posts there (and after it was made to leave).
      const joined = await session.request({ type: "join", room });
      if (!joined.ok) return { ok: false, status: statusOf(joined), error: joined.message };
      reply = await session.request({ type: "say", text, room });
    }
    if (!reply.ok) return { ok: false, status: statusOf(reply), error: reply.message };
    return { ok: true };
  }

  async take(key: string, skipBots = false): Promise<MatterbridgeMessage[]> {
    return (await this.#current(key))?.takeBuffer(skipBots) ?? [];
  }

  async subscribe(
    key: string,
    skipBefore: number | undefined,
    sink: BotSink,
    skipBots = false,
  ): Promise<BotSubscription | undefined> {
    const session = await this.#current(key);
    if (!session) return undefined;
    const replay = session.subscribe(sink, (m) => afterSkip(m, skipBefore), skipBots);
    return { replay, unsubscribe: () => session.unsubscribe(sink) };
  }

  /** Ends every session, silently (shutdown), before the store closes. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const pending of this.#sessions.values()) {
      void pending.then((s) => s instanceof BotSession ? s.close(true) : undefined);
    }
    this.#sessions.clear();
  }

  /** The bot's session if it is present. */
  async #current(key: string): Promise<BotSession | undefined> {
    const session = await this.#sessions.get(key);
    return session instanceof BotSession && !session.closing ? session : undefined;
  }

  /** The bot's session, signed in now if it is not present. */
  async #session(
    bot: BotIdentity,
    login: SignIn,
    where: BotWhere,
  ): Promise<BotSession | BotRefusal> {
    const existing = this.#sessions.get(bot.key);
    if (existing) {
      const session = await existing;
      if (session instanceof BotSession && !session.closing) return session;
      // It ended or failed meanwhile: sign in afresh, once however many requests wait here.
      if (this.#sessions.get(bot.key) === existing) this.#sessions.delete(bot.key);
    }
    let pending = this.#sessions.get(bot.key);
    if (!pending) {
      pending = this.#signIn(bot.key, login, where);
      this.#sessions.set(bot.key, pending);
    }
    return await pending;
  }

  async #signIn(key: string, login: SignIn, where: BotWhere): Promise<BotSession | BotRefusal> {
    const session = new BotSession(this.chat, this.flood, this.log, where);
    const reply = await login(session);
    if (!reply.ok) {
      this.#sessions.delete(key);
      await session.close(true);
      const status = reply.code === "login_failed" ? 401 : statusOf(reply);
      return { ok: false, status, error: reply.message };
    }
    session.onEnd = () => {
      // Only this session's entry: a newer one may have taken its place.
      const entry = this.#sessions.get(key);
      void entry?.then((s) => {
        if (s === session && this.#sessions.get(key) === entry) this.#sessions.delete(key);
      });
    };
    this.log.info("bot session", { name: reply.name, addr: where.addr });
    return session;
  }

  /**
   * Ends the sessions of bots removed since they signed in (their open streams end with them: a
   * revoked token is refused at once, an open stream within {@link SWEEP_MS}), and those unused for
   * {@link BOT_SESSION_IDLE_MS} with no stream open. Called by a timer; `now` is passed in.
   */
  async sweep(now: number): Promise<void> {
    const sessions = await Promise.all([...this.#sessions.entries()].map(async ([key, pending]) => {
      const session = await pending;
      return session instanceof BotSession ? { key, session } : undefined;
    }));
    for (const entry of sessions) {
      if (!entry) continue;
      const { key, session } = entry;
      if (this.chat.dispatcher.store.botName(key) === undefined) {
        this.log.info("bot session ended", { name: session.user.name, reason: "bot_removed" });
        await session.close(false);
      } else if (session.streams === 0 && now - session.lastUsedAt > BOT_SESSION_IDLE_MS) {
        this.log.info("bot session ended", { name: session.user.name, reason: "idle" });
        await session.close(false);
      }
    }
  }
}
