/**
 * One bot's presence in the chat behind the bot HTTP API (docs/BOTS.md): a {@link Peer} and
 * {@link Requester} joined through the {@link ChatGateway} like a connection, signed in under the
 * bot's name. It lives where the chat core is (the main thread, also with --workers), so a bot is
 * one presence with one buffer whichever thread answers its HTTP requests. It keeps a bounded
 * buffer of the public messages it saw (`GET /api/messages` empties it, `GET /api/stream` starts
 * with it) and hands each new one to the streams open now ({@link BotSink}s, bounded where they
 * write: lib/server/bot_stream.ts).
 *
 * @module
 */

import type { ChatGateway } from "./chat_gateway.ts";
import type { Requester } from "../core/dispatcher.ts";
import type { Peer, User } from "../core/user.ts";
import type { ChatEvent, KickCode } from "../protocol/events.ts";
import type { MatterbridgeMessage } from "../protocol/matterbridge.ts";
import type { Reply, Request } from "../protocol/requests.ts";
import type { Logger } from "../shared/log.ts";
import { FloodGuard, type FloodLimits } from "./rate_limit.ts";
import { webhookBody } from "./webhooks.ts";

/** Messages a bot session keeps for `GET /api/messages`; past this the oldest are dropped. */
export const BOT_BUFFER_MESSAGES = 1000;

/** Where an open stream's messages go; must not block or throw. */
export interface BotSink {
  push(message: MatterbridgeMessage): void;
  /** The session ended: no more messages. */
  close(): void;
}

/**
 * A bot, present in the chat while its HTTP clients use it.
 *
 * @example
 * ```ts
 * import { BotSession } from "./bot_session.ts";
 * import type { ChatGateway } from "./chat_gateway.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * async function signIn(chat: ChatGateway, token: string): Promise<BotSession | undefined> {
 *   const session = new BotSession(chat, SERVER_DEFAULTS.flood, new Logger("info"), {
 *     addr: "127.0.0.1:40000",
 *     ip: "127.0.0.1",
 *   });
 *   const reply = await session.signIn(token);
 *   return reply.ok ? session : undefined;
 * }
 * ```
 */
export class BotSession implements Peer, Requester {
  readonly user: User;
  readonly ip: string;
  readonly sendsAcks = false;
  /** Flood control, as for a connection: the message rate applies to posts. */
  readonly guard: FloodGuard;
  /** When an HTTP request last used the session (ms since epoch). */
  lastUsedAt = Date.now();
  #closing = false;
  readonly #buffer: MatterbridgeMessage[] = [];
  /** The buffered or streamed messages another bot sent, for readers that skip bots. */
  readonly #fromBots = new WeakSet<MatterbridgeMessage>();
  /** The open streams, each with whether it skips other bots' messages. */
  readonly #sinks = new Map<BotSink, boolean>();
  /** Called once when the session has ended (kicked or closed). */
  onEnd: () => void = () => {};

  constructor(
    readonly chat: ChatGateway,
    flood: FloodLimits,
    readonly log: Logger,
    where: { addr: string; ip: string },
  ) {
    this.ip = where.ip;
    this.guard = new FloodGuard(flood, Date.now());
    this.user = chat.join(this, where.addr, where.ip);
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** How many streams are open. */
  get streams(): number {
    return this.#sinks.size;
  }

  /** Signs in under the bot's name (the dispatcher checks the token against the store). */
  async signIn(token: string): Promise<Reply> {
    await this.chat.joined(this);
    return this.request({ type: "bot_login", token });
  }

  /** Carries out `request` through the chat and resolves with its final reply. */
  request(request: Request): Promise<Reply> {
    return new Promise((resolve) => {
      const pending = this.chat.execute(this, request, resolve);
      // A rejected wait is the gateway's own failure; the reply never comes.
      pending?.catch(() => resolve({ ok: false, code: "busy", message: "server error" }));
    });
  }

  /** Takes a public message the bot sees; never blocks or throws (the core calls it). */
  deliver(event: ChatEvent): void {
    // Only live public messages, and not the bot's own: a bridge must not read back its posts.
    if (event.kind !== "public" || event.history || event.from === this.user.name) return;
    const message = webhookBody(event);
    if (event.bot) this.#fromBots.add(message);
    if (this.#buffer.length >= BOT_BUFFER_MESSAGES) this.#buffer.shift();
    this.#buffer.push(message);
    for (const [sink, skipBots] of this.#sinks) {
      if (!(skipBots && event.bot)) sink.push(message);
    }
  }

  /** The chat ended the session (a ban, a kick): its streams end and it leaves. */
  kick(code: KickCode, text: string): void {
    this.log.info("bot session ended", { name: this.user.name, code, text });
    void this.close(false);
  }

  /** The buffered messages, which are forgotten; with `skipBots`, other bots' are left out. */
  takeBuffer(skipBots = false): MatterbridgeMessage[] {
    const taken = this.#buffer.splice(0);
    return skipBots ? taken.filter((m) => !this.#fromBots.has(m)) : taken;
  }

  /**
   * Adds a stream: returns the buffered messages `keep` lets through, to send first; every
   * message from now on goes to `sink` until {@link unsubscribe}. With `skipBots`, messages other
   * bots sent are left out of both (a bot that must not answer bots: no loops between them).
   */
  subscribe(
    sink: BotSink,
    keep: (message: MatterbridgeMessage) => boolean,
    skipBots = false,
  ): MatterbridgeMessage[] {
    this.#sinks.set(sink, skipBots);
    return this.#buffer.filter((m) => keep(m) && !(skipBots && this.#fromBots.has(m)));
  }

  unsubscribe(sink: BotSink): void {
    if (this.#sinks.delete(sink)) this.lastUsedAt = Date.now();
  }

  /** Ends the streams and leaves the chat (announced unless `silent`). Idempotent. */
  async close(silent: boolean): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const sink of this.#sinks.keys()) sink.close();
    this.#sinks.clear();
    this.onEnd();
    await this.chat.leave(this, silent);
  }
}
