/**
 * One client connection over a byte {@link Transport} (a TCP or TLS socket, or a WebSocket adapted
 * by `http/ws_transport.ts`): reads bytes, frames them into lines with a limit, picks the dialect
 * from the first line, hands requests to the core, and queues what the core and the codec produce
 * in the connection's outbox (outbox.ts).
 *
 * @module
 */

import type { ChatGateway } from "./chat_gateway.ts";
import type { Requester } from "../core/dispatcher.ts";
import type { ChatEvent, KickCode, NoticeEvent } from "../protocol/events.ts";
import { historyNotice } from "./retention.ts";
import {
  encodeWelcome,
  type Hello,
  jsonCodec,
  parseHello,
  PROTOCOL_VERSION,
} from "../protocol/json_codec.ts";
import { LineSplitter, LineTooLongError } from "../protocol/line_splitter.ts";
import type { Logger } from "../shared/log.ts";
import { ConnectionLifecycle } from "./connection_lifecycle.ts";
import { FloodGuard, type Verdict } from "./rate_limit.ts";
import type { Codec, Reply, Request } from "../protocol/requests.ts";
import type { ServerConfig } from "./config.ts";
import { textCodec } from "../protocol/text_codec.ts";
import type { Peer, User } from "../core/user.ts";
import { VERSION } from "../shared/version.ts";
import { counters, countRequest } from "./http/metrics.ts";

/**
 * Reads start small so that thousands of idle connections cost little memory, and grow for
 * connections that fill them (busy senders), up to this size.
 */
const FIRST_READ_BYTES = 256;
const MAX_READ_BYTES = 64 * 1024;
/**
 * With `--flood-backlog 0` nothing is delayed, yet lines still wait while a password is checked:
 * this many waiting is a flood.
 */
const MAX_UNDELAYED_BACKLOG = 1_000;
/** Events held back while a hello is answered (a password check takes ~100 ms). */
const MAX_HELD_EVENTS = 10_000;

/** Why a connection ended, for the log. */
export type CloseReason =
  | "eof"
  | "quit"
  | "idle_timeout"
  | "line_too_long"
  | "slow_reader"
  | "write_error"
  | "read_error"
  | "shutdown"
  | KickCode
  | "line_timeout"
  | "tls_on_plain"
  | "rate_limited"
  | "version_unsupported"
  | "bad_frame";

/**
 * What a connection reads from and writes to: a `Deno.Conn` is one, and a WebSocket is adapted to
 * one (`http/ws_transport.ts`), so both run the same framing, flood control, outbox and chat.
 */
export interface Transport {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  readonly remoteAddr: Deno.Addr;
}

/**
 * Thrown by a {@link Transport}'s `read` when the peer broke the transport's own framing (a binary
 * WebSocket frame): the connection is closed with `message` as a `bad_frame` notice.
 */
export class BadFrameError extends Error {
  override name = "BadFrameError";
}

/**
 * What the server's accept loop and sweep see of a connection, whatever it speaks: a
 * {@link ClientConnection} (the text and JSON dialects) or an IRC one (irc/irc_connection.ts).
 */
export interface ServedConnection {
  readonly addr: string;
  readonly user: User;
  /** When the last complete line arrived (ms since epoch); read by the idle sweep. */
  lastInputAt: number;
  /** Flood control; the sweep asks it about stalled lines. */
  readonly guard: FloodGuard;
  run(): Promise<void>;
  close(reason: CloseReason, last?: NoticeEvent): Promise<void>;
  /** Called by every sweep (an IRC connection pings a quiet client). */
  tick?(now: number): void;
}

/** What a connection needs from its server. */
export interface ServerContext {
  /** The chat, in this thread or over the bus to a hub. */
  chat: ChatGateway;
  config: ServerConfig;
  log: Logger;
  /** True once shutdown began: leaving users are not announced. */
  readonly shuttingDown: boolean;
  /** Called once when the connection has ended. */
  onClosed(connection: ServedConnection): void;
}

/**
 * Builds a notice event (shared by every connection it is sent to, so encoded once).
 *
 * @example
 * ```ts
 * import { notice } from "./connection.ts";
 *
 * const bye = notice("shutdown", "server is shutting down");
 * ```
 */
export function notice(code: NoticeEvent["code"], text: string): NoticeEvent {
  return { kind: "notice", code, text, wire: [] };
}

/** Formats a socket address the way the Go original does: `IP:PORT`, `[IPv6]:PORT`. */
export function formatAddr(addr: Deno.Addr): string {
  const a = addr as Deno.NetAddr;
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/**
 * One client connection, adapting a socket to the chat core.
 *
 * @example
 * ```ts
 * import { ClientConnection } from "./connection.ts";
 * import type { ServerContext } from "./connection.ts";
 *
 * // `ctx` is the server: see listener.ts.
 * async function serveOne(listener: Deno.Listener, ctx: ServerContext): Promise<void> {
 *   const c = new ClientConnection(await listener.accept(), ctx);
 *   await c.run();
 * }
 * ```
 */
export class ClientConnection implements Peer, Requester, ServedConnection {
  readonly addr: string;
  readonly ip: string;
  readonly user: User;
  /** When the last bytes arrived (ms since epoch); read by the server's idle sweep. */
  lastInputAt = Date.now();
  #codec: Codec = textCodec;
  /** The outbox and closing, shared with IRC connections (connection_lifecycle.ts). */
  readonly #life: ConnectionLifecycle;
  readonly #splitter: LineSplitter;
  #firstLine = true;
  /** Events that arrived while a hello was being answered; undefined otherwise. */
  #held: ChatEvent[] | undefined;
  /** Lines read and not yet carried out. */
  readonly #backlog: string[] = [];
  /**
   * A line waiting on something (a password check, the message rate), and the backlog behind it;
   * undefined otherwise, when lines are carried out as they are read.
   */
  #handling: Promise<void> | undefined;
  /** Whether the handler is holding a line back for the message rate (fakelag). */
  #rateDelayed = false;
  /** Wakes a reader paused by a backlog full of lines waiting for the chat. */
  #roomForLines: (() => void) | undefined;
  readonly #maxRead: number;
  /** Flood control: asked before each request; the server's sweep asks it about stalled lines. */
  readonly guard: FloodGuard;

  constructor(readonly conn: Transport, readonly ctx: ServerContext) {
    this.guard = new FloodGuard(ctx.config.flood, Date.now());
    this.addr = formatAddr(conn.remoteAddr);
    this.ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    this.#splitter = new LineSplitter(ctx.config.maxLineBytes);
    this.#maxRead = Math.min(MAX_READ_BYTES, ctx.config.maxQueueBytes / 8);
    this.#life = new ConnectionLifecycle(this, conn, ctx, (last) => {
      this.#life.outbox.push(this.#codec.encodeEvent(last));
    });
    this.user = ctx.chat.join(this, this.addr, this.ip);
  }

  /** Queues an event; called by the core. */
  deliver(event: ChatEvent): void {
    counters.delivered[event.kind]++;
    if (this.#held) {
      // Answering a hello: events wait so the welcome comes first, as the protocol promises.
      if (this.#held.length < MAX_HELD_EVENTS) this.#held.push(event);
      else this.#life.outbox.onFailure("overflow");
      return;
    }
    // Presence lines may wait a little to leave together (a connect storm announces n² of
    // them); whatever comes after them takes them along, so the order never changes.
    this.#life.outbox.push(this.#codec.encodeEvent(event), event.kind === "presence");
  }

  /** Ends the connection with a notice; called by the core. */
  kick(code: KickCode, text: string): void {
    void this.close(code, notice(code, text));
  }

  /** True once the connection is closing. */
  get closing(): boolean {
    return this.#life.closing;
  }

  /** JSON clients acknowledge offline messages; text clients cannot. */
  get sendsAcks(): boolean {
    return this.#codec === jsonCodec;
  }

  /**
   * Reads and handles lines until the client leaves or the connection is closed. The reader
   * carries each line out as it arrives; behind a line that must wait (a password check, or a
   * text connection over its message rate: see {@link #delayed}) the rest of {@link #backlog}
   * waits, in order, while the reader goes on filling it. A pasted screenful thus arrives whole, a
   * little late; a flood fills the backlog past its bound and is closed. An idle connection has
   * no loop but its reader: thousands of them cost less memory.
   */
  async run(): Promise<void> {
    let readError: unknown;
    try {
      await this.ctx.chat.joined(this);
      try {
        await this.#readLines();
      } catch (error) {
        readError = error;
        // A broken connection: what waits has nobody to answer. An over-long line: the lines
        // before it are carried out, then it is refused.
        if (!(error instanceof LineTooLongError)) this.#backlog.length = 0;
      }
      // Each wait, once over, may start the next: the lines read are carried out to the last.
      while (this.#handling) await this.#handling;
      if (readError !== undefined) throw readError;
      if (!this.#life.closing) {
        await this.close(this.#life.reason === "tls_on_plain" ? "tls_on_plain" : "eof");
      }
    } catch (error) {
      if (error instanceof LineTooLongError) {
        const limit = this.ctx.config.maxLineBytes;
        this.ctx.log.warn("line too long", { addr: this.addr, limit });
        await this.close(
          "line_too_long",
          notice(
            "line_too_long",
            `line too long: the limit is ${limit} bytes; closing the connection`,
          ),
        );
      } else if (error instanceof BadFrameError) {
        this.ctx.log.warn("bad frame", { addr: this.addr, error: error.message });
        await this.close("bad_frame", notice("bad_frame", error.message));
      } else if (!this.#life.closing) {
        this.#life.reason = "read_error";
        this.ctx.log.debug("read failed", { addr: this.addr, error });
      }
    } finally {
      await this.#life.closed;
      this.#life.finish();
    }
  }

  /** Reads lines into the backlog until EOF, a close, or a flood. */
  async #readLines(): Promise<void> {
    let buffer = new Uint8Array(FIRST_READ_BYTES);
    const { flood } = this.ctx.config;
    const bound = flood.backlog > 0 ? flood.backlog : MAX_UNDELAYED_BACKLOG;
    while (!this.#life.closing) {
      const n = await this.conn.read(buffer);
      if (n === null) return;
      if (this.#firstLine && this.#backlog.length === 0 && looksLikeTlsHandshake(buffer, n)) {
        // A TLS client on the plain port: its handshake is not chat, so never broadcast it.
        this.ctx.log.info("tls on plain port", { addr: this.addr });
        this.#life.reason = "tls_on_plain";
        return;
      }
      // A line of spaces is as empty as an empty line (which the splitter already skips).
      const lines = this.#splitter.push(buffer.subarray(0, n)).filter((l) => l.trim() !== "");
      const now = Date.now();
      // Only complete lines count as activity: blank lines and trickled bytes do not.
      if (lines.length > 0) this.lastInputAt = now;
      const verdict = this.guard.onRead(n, this.#splitter.pending, lines.length, now);
      if (verdict.action !== "allow") return this.#limited({ type: "quit" }, verdict);
      for (const line of lines) this.#backlog.push(line);
      this.#handleBacklog();
      // Lines that wait for the chat (a --workers hub, a password check), not for the message
      // rate, are backpressure, not a flood: stop reading until half are carried out, unless
      // the rate starts holding them back meanwhile.
      if (this.#backlog.length > bound) await this.#roomInBacklog(bound / 2);
      if (this.#backlog.length > bound && this.#rateDelayed) {
        return this.#limited({ type: "quit" }, {
          action: "disconnect",
          message: `more than ${bound} lines waiting (at most ${flood.msgRate} messages per ` +
            "second); closing the connection",
        });
      }
      // The lines before an over-long one are carried out; then it is refused.
      if (this.#splitter.overflowed) throw new LineTooLongError(this.ctx.config.maxLineBytes);
      // Grow for busy senders, but keep one read's broadcast well inside a recipient's queue.
      if (n === buffer.length && buffer.length * 4 <= this.#maxRead) {
        buffer = new Uint8Array(buffer.length * 4);
      }
    }
  }

  /**
   * Waits until the backlog holds at most `low` lines, the message rate holds a line back, or
   * the connection is closing.
   */
  async #roomInBacklog(low: number): Promise<void> {
    while (this.#backlog.length > low && !this.#rateDelayed && !this.#life.closing) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resume) => {
        this.#roomForLines = resume;
        // The handler wakes this; the timer only notices a close that happens meanwhile.
        timer = setTimeout(resume, 250);
      });
      clearTimeout(timer);
      this.#roomForLines = undefined;
    }
  }

  /**
   * Carries out the backlog's lines in order, at once, until one must wait; {@link #resumeAfter}
   * goes on from there once it is done. Does nothing while a line waits (the rest wait with it).
   */
  #handleBacklog(): void {
    if (this.#handling) return;
    try {
      for (let line; !this.#life.closing && (line = this.#backlog.shift()) !== undefined;) {
        const pending = this.#handleLine(line);
        if (pending) {
          this.#handling = this.#resumeAfter(pending);
          return;
        }
      }
    } catch (error) {
      this.#requestFailed(error);
    }
  }

  /**
   * Waits for `pending` (password hashing, a delayed line: replies keep order), then carries out
   * what arrived meanwhile, and wakes a reader that paused for room in the backlog.
   */
  async #resumeAfter(pending: Promise<void>): Promise<void> {
    try {
      await pending;
    } catch (error) {
      this.#requestFailed(error);
    } finally {
      this.#handling = undefined;
    }
    this.#handleBacklog();
    this.#roomForLines?.();
  }

  #requestFailed(error: unknown): void {
    this.ctx.log.debug("request failed", { addr: this.addr, error });
    void this.close("read_error");
  }

  /** Ends the connection (see {@link ConnectionLifecycle.close}). */
  close(reason: CloseReason, last?: NoticeEvent): Promise<void> {
    return this.#life.close(reason, last);
  }

  #handleLine(line: string): Promise<void> | void {
    if (this.#firstLine) {
      this.#firstLine = false;
      const hello = parseHello(line);
      if (hello) return this.#hello(hello);
    }
    const request = this.#codec.parse(line);
    countRequest(request.type);
    // Text clients (people, `nc`) are held back over the message rate; JSON clients are
    // programs, told `rate_limited` with retryAfterMs (docs/PROTOCOL.md).
    if (this.#codec === textCodec && this.guard.delayMs(request.type, Date.now()) > 0) {
      return this.#delayed(request);
    }
    return this.#carryOut(request);
  }

  #carryOut(request: Request): Promise<void> | void {
    const verdict = this.guard.check(request.type, Date.now());
    if (verdict.action !== "allow") return void this.#limited(request, verdict);
    return this.ctx.chat.execute(this, request, (reply) => this.#answer(request, reply));
  }

  /** Waits until `request` fits the message rate ("fakelag"), then carries it out. */
  async #delayed(request: Request): Promise<void> {
    this.#rateDelayed = true;
    this.#roomForLines?.();
    try {
      for (let wait; (wait = this.guard.delayMs(request.type, Date.now())) > 0;) {
        await new Promise((r) => setTimeout(r, wait));
        if (this.#life.closing) return;
      }
    } finally {
      this.#rateDelayed = false;
    }
    await this.#carryOut(request);
  }

  /**
   * Sends the final reply to `request` (the chat gateway calls this after the group commit, in
   * request order) and does what a successful request entails for the connection.
   */
  #answer(request: Request, reply: Reply): void {
    const bytes = this.#codec.encodeReply(request, reply);
    // A reply is this connection's alone: kept out of the log the broadcasts share.
    if (bytes) this.#life.outbox.push(bytes, false, true);
    if (!reply.ok) return;
    // After the reply, so "logged in" comes before what waited.
    if (request.type === "login") void this.#life.deliverInbox();
    if (request.type === "rename") {
      this.ctx.log.info("rename", { addr: this.addr, name: reply.name });
    }
    if (request.type === "quit") void this.close("quit");
  }

  /**
   * Refuses `request` for a rate limit (see rate_limit.ts); repeated abuse closes the connection.
   */
  #limited(request: Request, verdict: Exclude<Verdict, { action: "allow" }>): void {
    const { message } = verdict;
    counters.rateLimited++;
    const retryAfterMs = verdict.action === "reject" ? Math.ceil(verdict.waitMs) : undefined;
    const reply: Reply = { ok: false, code: "rate_limited", message, retryAfterMs };
    this.ctx.chat.respond(this, request, reply, (r) => this.#answer(request, r));
    if (verdict.action === "disconnect") {
      this.ctx.log.warn("flood", { addr: this.addr, message });
      void this.close("rate_limited");
    }
  }

  async #hello(hello: Hello): Promise<void> {
    const v = hello.version;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      const message = `this server speaks protocol version ${PROTOCOL_VERSION}; got ${
        JSON.stringify(v)
      }`;
      this.#life.outbox.push(
        jsonCodec.encodeReply(
          { type: "invalid", id: hello.id, code: "version_unsupported", message },
          { ok: false, code: "version_unsupported", message },
        )!,
      );
      void this.close("version_unsupported");
      return;
    }
    this.#codec = jsonCodec;
    this.#held = [];
    const { config, chat } = this.ctx;
    const { named, online, rooms, history } = await chat.hello(this, hello);
    const held = this.#held;
    this.#held = undefined;
    if (this.#life.closing) return;
    this.#life.outbox.push(encodeWelcome({
      version: Math.min(v, PROTOCOL_VERSION),
      server: `fastim ${VERSION}`,
      name: this.user.name,
      addr: this.addr,
      limits: {
        maxLine: config.maxLineBytes,
        idleTimeoutMs: config.idleTimeoutMs,
        msgRate: config.flood.msgRate,
        msgBurst: config.flood.msgBurst,
      },
      online,
      historyNotice: historyNotice(config.retention),
      ...(rooms.length > 0 ? { rooms } : {}),
      ...(this.user.account ? { account: this.user.name } : {}),
      ...(named && !named.ok ? { nameError: { code: named.code, message: named.message } } : {}),
    }));
    for (const event of history) this.deliver(event);
    for (const event of held) this.deliver(event);
    if (this.user.account) void this.#life.deliverInbox();
    this.ctx.log.info("hello", {
      addr: this.addr,
      name: this.user.name,
      client: hello.client ?? "",
    });
  }
}

/** A TLS record header for a handshake (content type 22, protocol version 3.x). */
function looksLikeTlsHandshake(bytes: Uint8Array, n: number): boolean {
  return n >= 3 && bytes[0] === 0x16 && bytes[1] === 0x03 && bytes[2] <= 0x04;
}
