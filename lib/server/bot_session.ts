/**
 * One bot's presence in the chat behind the bot HTTP API (docs/BOTS.md): a {@link Peer} and
 * {@link Requester} joined through the {@link ChatGateway} like a connection, signed in under the
 * bot's name. It keeps what the bot's HTTP clients read: a bounded buffer of the public messages
 * it saw (`GET /api/messages` empties it, `GET /api/stream` starts with it) and the streams open
 * now, each with a bounded queue: a stream whose reader does not keep up is dropped, as a slow
 * connection is, never buffered without bound.
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

const encoder = new TextEncoder();

/**
 * One open `GET /api/stream`: NDJSON lines, the greeting, then the replayed buffer, then live
 * messages. The HTTP server takes lines off the stream's queue as the socket accepts them, and
 * the replay is fed in only as that queue drains. Live messages wait behind it up to
 * `maxQueueBytes`; past that the reader is too slow and the stream is ended with an error (the
 * connection is cut), as a slow connection is, never buffered without bound.
 */
export class BotStream {
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Buffered messages still to send (the session's own objects, encoded when sent). */
  readonly #replay: MatterbridgeMessage[];
  /** Live lines waiting behind the replay or a full queue, and their bytes. */
  readonly #live: Uint8Array[] = [];
  #liveBytes = 0;
  #closed = false;
  /** Called once when the stream ends, however it ends. */
  onEnd: () => void = () => {};

  constructor(
    readonly maxQueueBytes: number,
    greeting: MatterbridgeMessage,
    replay: MatterbridgeMessage[],
    readonly onSlow: () => void,
  ) {
    this.#replay = replay.reverse();
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        controller.enqueue(encodeLine(greeting));
      },
      pull: () => this.#feed(),
      cancel: () => this.#end(),
    }, new ByteLengthQueuingStrategy({ highWaterMark: maxQueueBytes }));
  }

  /** Queues one live message; drops the stream when too much waits. */
  push(message: MatterbridgeMessage): void {
    if (this.#closed) return;
    const line = encodeLine(message);
    this.#live.push(line);
    this.#liveBytes += line.length;
    this.#feed();
    if (this.#liveBytes > this.maxQueueBytes) {
      this.onSlow();
      this.#end();
      this.#controller.error(new Error("slow reader: the stream's queue is full"));
    }
  }

  /** Ends the stream after what is queued (shutdown, the session ended). */
  close(): void {
    if (this.#closed) return;
    this.#end();
    this.#controller.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Moves lines into the stream's queue while it has room: the replay first, then live ones. */
  #feed(): void {
    while (!this.#closed && (this.#controller.desiredSize ?? 0) > 0) {
      const replayed = this.#replay.pop();
      if (replayed) {
        this.#controller.enqueue(encodeLine(replayed));
        continue;
      }
      const line = this.#live.shift();
      if (!line) return;
      this.#liveBytes -= line.length;
      this.#controller.enqueue(line);
    }
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#replay.length = 0;
    this.#live.length = 0;
    this.onEnd();
  }
}

function encodeLine(message: MatterbridgeMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message) + "\n");
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
  readonly #streams = new Set<BotStream>();
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
    return this.#streams.size;
  }

  /** Signs in under the bot's name (the chat checks the token again). */
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
    if (this.#buffer.length >= BOT_BUFFER_MESSAGES) this.#buffer.shift();
    this.#buffer.push(message);
    for (const stream of this.#streams) stream.push(message);
  }

  /** The chat ended the session (a ban, a kick): its streams end and it leaves. */
  kick(code: KickCode, text: string): void {
    this.log.info("bot session ended", { name: this.user.name, code, text });
    void this.close(false);
  }

  /** The buffered messages, which are forgotten. */
  takeBuffer(): MatterbridgeMessage[] {
    return this.#buffer.splice(0);
  }

  /**
   * Opens a stream: `greeting`, the buffered messages `keep` lets through, then every message
   * from now on, with up to `maxQueueBytes` waiting.
   */
  openStream(
    maxQueueBytes: number,
    greeting: MatterbridgeMessage,
    keep: (message: MatterbridgeMessage) => boolean,
  ): BotStream {
    const replay = this.#buffer.filter(keep);
    const stream = new BotStream(maxQueueBytes, greeting, replay, () => {
      this.log.warn("bot stream dropped", { name: this.user.name, reason: "slow_reader" });
    });
    stream.onEnd = () => {
      this.#streams.delete(stream);
      this.lastUsedAt = Date.now();
    };
    this.#streams.add(stream);
    return stream;
  }

  /** Ends the streams and leaves the chat (announced unless `silent`). Idempotent. */
  async close(silent: boolean): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const stream of [...this.#streams]) stream.close();
    this.onEnd();
    await this.chat.leave(this, silent);
  }
}
