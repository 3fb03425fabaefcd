/**
 * The client's side of the JSON dialect (docs/PROTOCOL.md): a {@linkcode ServerConnection} is one TCP
 * connection (hello, welcome, requests answered by `ok`/`error` with the same `id`, events), and a
 * {@linkcode ServerLink} keeps a connection alive across drops, reconnecting with backoff and taking
 * back the user's chosen name.
 *
 * @example
 * ```ts
 * import { ServerLink } from "./connection.ts";
 *
 * const conn = await ServerLink.open({ host: "127.0.0.1", port: 8888, onFrame: console.log });
 * await conn.request({ type: "say", text: "hello" });
 * await conn.quit();
 * ```
 * @module
 */

import {
  CLIENT_VERSION,
  MAX_SERVER_LINE_BYTES,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  REQUEST_TIMEOUT_MS,
  WELCOME_TIMEOUT_MS,
} from "./config.ts";
import { LineTooLongError } from "../protocol/line_splitter.ts";
import { readLines } from "./line_reader.ts";
import { writeAll } from "../shared/bytes.ts";
import { closeQuietly } from "../shared/close_quietly.ts";
import { TIMED_OUT, within } from "../shared/deadline.ts";
import { TokenBucket } from "../shared/token_bucket.ts";
import { type Frame, safe } from "./render.ts";
import { connectTls, TlsHandshakeError } from "./tls.ts";

export type { Frame };

/** The server answered a request with an `error` frame. */
export class ServerError extends Error {
  override name = "ServerError";
  /** The stable error code, e.g. `name_taken`. */
  readonly code: string;
  constructor(readonly frame: Frame) {
    super(safe(frame.message) || safe(frame.code) || "the server refused the request");
    this.code = typeof frame.code === "string" ? frame.code : "unknown";
  }
}

/** Connecting or the handshake failed; the message is one line for the user. */
export class ConnectError extends Error {
  override name = "ConnectError";
  /** Trying again cannot help (a TLS certificate the client does not trust): do not retry. */
  readonly final: boolean;
  constructor(message: string, opts: { final?: boolean } = {}) {
    super(message);
    this.final = opts.final ?? false;
  }
}

/** A request could not be answered because the connection is down. */
export class DisconnectedError extends Error {
  override name = "DisconnectedError";
}

/** The connection ended before the request was written: sending it again is safe. */
export class NotSentError extends DisconnectedError {
  override name = "NotSentError";
}

/** A request would be a line longer than the server accepts (it would hang up); not sent. */
export class TooLongError extends Error {
  override name = "TooLongError";
  constructor(readonly bytes: number, readonly limit: number) {
    super(`message too long: ${bytes} bytes, the limit is ${limit}`);
  }
}

/** How to reach the server and what to say in the hello. */
export interface ServerConnectionOptions {
  host: string;
  port: number;
  /** Connect with TLS, verifying the server against the public roots and `caCerts`. */
  tls?: boolean;
  /** PEM certificates of private CAs to trust besides the public roots (with `tls`). */
  caCerts?: string[];
  /** Ask for this name in the hello. */
  name?: string;
  /** With `name`: log in as that registered name. */
  password?: string;
  maxLineBytes?: number;
  /** How long connecting (TCP, TLS) and then the welcome may each take. */
  welcomeTimeoutMs?: number;
  /**
   * How long a request waits for its reply before the connection is given up as dead (and, in a
   * {@linkcode ServerLink}, at most for a reconnect before it is sent); default
   * {@linkcode REQUEST_TIMEOUT_MS}.
   */
  requestTimeoutMs?: number;
  /** Every frame after the welcome that is not a reply to a pending request. */
  onFrame?: (frame: Frame) => void;
  /** Every frame received, replies and welcome included (for `--json`). */
  onWire?: (frame: Frame) => void;
}

/** Why a connection ended. */
export interface CloseInfo {
  /** One line for the user. */
  reason: string;
  /** `close()` was called (or `quit` acknowledged): not a drop. */
  byUs: boolean;
  /** The server meant it (kicked, banned, logged in elsewhere): reconnecting would be wrong. */
  final: boolean;
}

/**
 * Notices after which the server does not want this client back: an operator kicked or banned it,
 * or its account logged in from another connection (two clients reconnecting would take turns
 * throwing each other out forever).
 */
export const FINAL_NOTICES: ReadonlySet<string> = new Set(["kicked", "banned", "replaced"]);

const encoder = new TextEncoder();

/** Called with a request's `ok` or `error` frame as soon as it is read, before later frames. */
export type ReplyHook = (reply: Frame) => void;

interface Pending {
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  hook?: ReplyHook;
  /** Its bytes were handed to the connection (the server may have carried it out). */
  written: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

function parseFrame(line: string): Frame | null {
  try {
    const v = JSON.parse(line);
    return v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.type === "string"
      ? v
      : null;
  } catch {
    return null;
  }
}

function describeConnectError(e: unknown, host: string, port: number): string {
  const where = `${host}:${port}`;
  if (e instanceof Deno.errors.ConnectionRefused) {
    return `cannot connect to ${where}: connection refused (is the server running?)`;
  }
  if (e instanceof Deno.errors.TimedOut) return `cannot connect to ${where}: timed out`;
  const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return `cannot connect to ${where}: ${msg}`;
}

/** One TCP connection speaking the JSON dialect. */
export class ServerConnection {
  readonly #conn: Deno.Conn;
  readonly #lines: AsyncGenerator<string>;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #writing: Promise<void> = Promise.resolve();
  #closing = false;
  /** Closed by {@linkcode ServerConnection.#drop}: a failure, not the user leaving. */
  #dropped = false;
  #dropReason: string | undefined;
  readonly #requestTimeoutMs: number;
  #lastNotice = "";
  #lastNoticeCode = "";
  #lastSent = Date.now();
  /** Resolves once the connection is gone, however it ended. */
  readonly closed: Promise<CloseInfo>;
  onFrame: (frame: Frame) => void;
  onWire: (frame: Frame) => void;

  private constructor(
    conn: Deno.Conn,
    lines: AsyncGenerator<string>,
    readonly welcome: Frame,
    opts: ServerConnectionOptions,
  ) {
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#conn = conn;
    this.#lines = lines;
    this.onFrame = opts.onFrame ?? (() => {});
    this.onWire = opts.onWire ?? (() => {});
    this.closed = this.#readLoop();
  }

  /**
   * Connects, sends the hello and waits for the welcome, skipping the text-dialect lines the
   * server may send first. Throws {@linkcode ConnectError}.
   */
  static async open(opts: ServerConnectionOptions): Promise<ServerConnection> {
    const timeoutMs = opts.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS;
    let conn: Deno.Conn;
    try {
      conn = opts.tls
        ? await withDeadline(
          connectTls(opts),
          timeoutMs,
          "no TLS handshake",
          (late) => late.close(),
        )
        : await withDeadline(
          Deno.connect({ hostname: opts.host, port: opts.port }),
          timeoutMs,
          "no answer",
          (late) => late.close(),
        );
    } catch (e) {
      if (!(e instanceof TlsHandshakeError)) {
        throw new ConnectError(describeConnectError(e, opts.host, opts.port));
      }
      throw new ConnectError(`cannot connect to ${opts.host}:${opts.port} with TLS: ${e.message}`, {
        final: true,
      });
    }
    const hello: Record<string, unknown> = {
      type: "hello",
      version: 1,
      client: `fastim-client/${CLIENT_VERSION}`,
    };
    if (opts.name !== undefined) hello.name = opts.name;
    if (opts.name !== undefined && opts.password !== undefined) hello.password = opts.password;
    const lines = readLines(conn.readable, opts.maxLineBytes ?? MAX_SERVER_LINE_BYTES);
    try {
      await writeAll(conn, encoder.encode(JSON.stringify(hello) + "\n"));
      const welcome = await within(awaitWelcome(lines, opts), timeoutMs);
      if (welcome === TIMED_OUT) {
        throw new ConnectError(
          `no welcome from the server within ${timeoutMs} ms (is it a FastIM server?)`,
        );
      }
      return new ServerConnection(conn, lines, welcome, opts);
    } catch (e) {
      closeQuietly(conn);
      if (e instanceof ConnectError) throw e;
      const why = e instanceof LineTooLongError
        ? `the server sent ${e.message}`
        : describeConnectError(e, opts.host, opts.port);
      throw new ConnectError(why);
    }
  }

  /** Milliseconds since this connection last sent anything. */
  get idleMs(): number {
    return Date.now() - this.#lastSent;
  }

  /**
   * Sends a request with a fresh `id`; resolves with the `ok` frame, rejects with
   * {@linkcode ServerError} on an `error` frame or {@linkcode DisconnectedError} if the connection
   * ends first. `hook` sees the reply synchronously, in order with the events around it (a
   * promise continuation would run after events that were read in the same chunk).
   */
  request(frame: Record<string, unknown> & { type: string }, hook?: ReplyHook): Promise<Frame> {
    if (this.#closing) return Promise.reject(new NotSentError("not connected"));
    const id = this.#nextId++;
    let pending!: Pending;
    const reply = new Promise<Frame>((resolve, reject) => {
      pending = { resolve, reject, hook, written: false };
      this.#pending.set(id, pending);
    });
    // A server that stops answering (but keeps the connection open) must not hang the caller:
    // the request fails and the connection is dropped, so a ServerLink reconnects.
    const ms = this.#requestTimeoutMs;
    if (ms > 0) {
      pending.timer = setTimeout(() => {
        if (this.#pending.get(id) !== pending) return;
        this.#pending.delete(id);
        const why = `no reply from the server within ${formatSeconds(ms)}`;
        pending.reject(new DisconnectedError(why));
        this.#drop(why);
      }, ms);
    }
    this.#send({ ...frame, id }, pending);
    return reply;
  }

  /** Closes the connection; pending requests fail. */
  close(): void {
    this.#closing = true;
    closeQuietly(this.#conn);
  }

  #send(frame: Record<string, unknown>, pending: Pending): void {
    this.#lastSent = Date.now();
    const bytes = encoder.encode(JSON.stringify(frame) + "\n");
    // Writes are chained so concurrent requests never interleave their bytes.
    this.#writing = this.#writing.then(() => {
      if (this.#closing) return; // never written: the caller may send it again elsewhere
      pending.written = true;
      return writeAll(this.#conn, bytes);
    }).catch(() => {
      this.#drop(); // the read loop reports the drop
    });
  }

  /** Closes after a failure (not at the user's wish), so the connection reconnects. */
  #drop(reason?: string): void {
    if (this.#closing) return;
    this.#dropReason ??= reason;
    this.#dropped = true;
    this.close();
  }

  async #readLoop(): Promise<CloseInfo> {
    let reason = "the server closed the connection";
    try {
      for await (const line of this.#lines) {
        const frame = parseFrame(line);
        if (frame) this.#dispatch(frame);
      }
    } catch (e) {
      if (e instanceof LineTooLongError) reason = `the server sent ${e.message}; disconnected`;
      else if (!this.#closing) reason = `connection error: ${e instanceof Error ? e.message : e}`;
    }
    if (this.#lastNotice) reason = this.#lastNotice;
    if (this.#dropReason) reason = this.#dropReason;
    const byUs = this.#closing && !this.#dropped;
    this.close();
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(
        p.written
          ? new DisconnectedError("the connection was lost")
          : new NotSentError("the connection was lost before the request was sent"),
      );
    }
    this.#pending.clear();
    return { reason, byUs, final: FINAL_NOTICES.has(this.#lastNoticeCode) };
  }

  #dispatch(frame: Frame): void {
    // A display callback that throws (stdout closed, say) must not end the connection.
    callIgnoringErrors(() => this.onWire(frame));
    if ((frame.type === "ok" || frame.type === "error") && typeof frame.id === "number") {
      const p = this.#pending.get(frame.id);
      if (p) {
        this.#pending.delete(frame.id);
        clearTimeout(p.timer);
        if (p.hook) callIgnoringErrors(() => p.hook!(frame));
        if (frame.type === "ok") p.resolve(frame);
        else p.reject(new ServerError(frame));
        return;
      }
    }
    if (frame.type === "notice") {
      this.#lastNotice = safe(frame.text) || safe(frame.code);
      this.#lastNoticeCode = typeof frame.code === "string" ? frame.code : "";
    }
    callIgnoringErrors(() => this.onFrame(frame));
  }
}

/**
 * Runs a callback that displays something. What it throws is dropped: unwinding the read loop
 * would end the connection as if the network had failed, and reconnect (the client itself exits
 * when its stdout is closed).
 */
function callIgnoringErrors(f: () => void): void {
  try {
    f();
  } catch { /* a display failure is not a connection failure */ }
}

/** `15 s`, `0.3 s`. */
function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** A text-dialect presence line (`[ADDR], NAME:online`): not a reason for hanging up. */
const PRESENCE_LINE = /^\[[^\]]*\], .*:(online|offline)$/;

async function awaitWelcome(
  lines: AsyncGenerator<string>,
  opts: ServerConnectionOptions,
): Promise<Frame> {
  let said = ""; // the last text line, which may say why the server hangs up
  // Not `for await`: leaving that loop would finish the generator the connection keeps reading.
  while (true) {
    const next = await lines.next();
    if (next.done) break;
    const frame = parseFrame(next.value);
    if (!frame) {
      // Text-dialect lines sent before our hello; binary (a TLS alert) is not worth quoting.
      const text = safe(next.value);
      const readable = text === next.value && !text.includes("\ufffd");
      if (readable && !PRESENCE_LINE.test(text)) said = text.trim().slice(0, 200);
      continue;
    }
    callIgnoringErrors(() => opts.onWire?.(frame));
    if (frame.type === "welcome") return frame;
    if (frame.type === "error") {
      throw new ConnectError(`the server refused the handshake: ${new ServerError(frame).message}`);
    }
  }
  // A TLS listener hangs up on a plain hello without a word.
  const why = said ? `: ${said}` : opts.tls ? "" : " (if that is a TLS port, use --tls)";
  throw new ConnectError(`the server closed the connection before the welcome${why}`);
}

/**
 * `promise`, or a {@linkcode Deno.errors.TimedOut} after `ms`; a value that arrives too late is
 * handed to `discard` (a connection nobody will use).
 */
async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  discard: (late: T) => void,
): Promise<T> {
  const result = await within(promise, ms);
  if (result !== TIMED_OUT) return result;
  promise.then(discard, () => {});
  throw new Deno.errors.TimedOut(`${what} within ${ms} ms`);
}

/** What the user should hear about the connection. */
export type ConnectionStatus =
  /** The connection dropped; the next attempt is in `retryInMs`. */
  | { kind: "lost"; reason: string; retryInMs: number }
  /** A reconnect attempt failed; the next one is in `retryInMs`. */
  | { kind: "retry_failed"; attempt: number; reason: string; retryInMs: number }
  /** Connected again, as `name`; `nameError` says why the old name could not be taken back. */
  | { kind: "back"; name: string; nameError?: string; server?: string }
  /** The connection dropped and reconnecting is off. */
  | { kind: "closed"; reason: string };

/** Options of {@linkcode ServerLink.open}. */
export interface ServerLinkOptions extends ServerConnectionOptions {
  /**
   * The servers of a cluster (`host`/`port` being the first): the first that answers is used,
   * and each reconnect attempt tries the next, so a dead node is failed over.
   */
  servers?: { host: string; port: number }[];
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  onStatus?: (status: ConnectionStatus) => void;
  /**
   * Acknowledge offline private messages once handed to `onFrame` (default true). Off when the
   * caller does not show them (`--send`): an acknowledged message is deleted on the server.
   */
  ackOffline?: boolean;
  /**
   * Hand the history that comes with the first welcome to `onFrame` (default true). Line mode
   * turns it off: it prints what happens while it runs. Those messages still count as seen, so the
   * backlog after a reconnect brings to `onFrame` only the ones sent while the client was away.
   * `onWire` gets `public` and `private` events once each, like `onFrame` (replays after a
   * reconnect dropped), and gets the first backlog either way.
   */
  firstBacklog?: boolean;
  /**
   * Called once the frames that come with a welcome (history, offline messages) were all handed
   * to `onFrame`: after {@linkcode ServerLink.start}, and after each reconnect.
   */
  onBacklogEnd?: () => void;
}

/** A connection that survives drops: reconnects with backoff and renames back. */
export class ServerLink {
  #connection: ServerConnection | null;
  #welcome: Frame;
  #name: string;
  /** The name the user chose (--name or a rename); asked for again after a reconnect. */
  #chosen: string | undefined;
  /** The registered name the hello logged in as; logged in again after a reconnect. */
  #account: string | undefined;
  /** The password of `#account` (FASTIM_PASSWORD, or as typed for /login or /register). */
  #password: string | undefined;
  /** Messages already shown, so history and offline messages replayed after a reconnect are not. */
  readonly #seen = new RecentKeys(SEEN_MESSAGES);
  /** Offline private messages shown but not yet acknowledged. */
  #toAck: number[] = [];
  /**
   * Events that arrived before {@linkcode ServerLink.start} (history right after the welcome),
   * each with whether `onFrame` gets it.
   */
  #held: { frame: Frame; show: boolean }[] | null = [];
  /** Connections watched so far (the first one's backlog may be left out). */
  #connections = 0;
  /** Which of `servers` the last attempt used. */
  #server: number | undefined;
  #stopped = false;
  #wake: (() => void) | null = null;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  /** Wakes the requests waiting for a connection (on reconnect or for good). */
  #waiting = new Set<() => void>();
  /** Paces requests to the current connection's message rate. */
  #pacer = Pacer.unlimited();
  readonly #opts: ServerLinkOptions;
  /** Resolves when the connection is over for good (closed, quit, or dropped without reconnect). */
  readonly done: Promise<void>;
  #finish!: () => void;

  private constructor(connection: ServerConnection, opts: ServerLinkOptions) {
    this.#opts = opts;
    this.#connection = connection;
    this.#welcome = connection.welcome;
    this.#name = safe(connection.welcome.name);
    this.#chosen = connection.welcome.nameError === undefined ? opts.name : undefined;
    this.#account = accountOf(connection.welcome);
    this.#password = opts.password;
    this.done = new Promise((r) =>
      this.#finish = () => {
        this.#stopped = true;
        this.#wakeWaiting();
        r();
      }
    );
    this.#watch(connection);
  }

  /**
   * Starts delivering events to `onFrame`, and resolves once everything that came with the welcome
   * (the history, and the offline messages after a login) was delivered, so the caller can print
   * its greeting first and its menu after. Those frames are held until then. The server sends
   * them before it reads the next request, so the reply to a `ping` comes after the last of them
   * however the bytes were split.
   */
  async start(): Promise<void> {
    const release = () => {
      const held = this.#held;
      if (held === null) return;
      this.#held = null;
      for (const { frame, show } of held) this.#deliver(frame, show);
      callIgnoringErrors(() => this.#opts.onBacklogEnd?.());
    };
    // Released from the reply hook, so no frame read after the reply can overtake the held ones.
    // Asked of this connection only: if it drops first, what came is shown and no more is held.
    const connection = this.#connection;
    if (connection) {
      this.#pacer.charge();
      await connection.request({ type: "ping" }, release).catch(() => {});
    }
    release();
  }

  /**
   * Connects to the first of the servers that answers (no retry: if none does, the last failure
   * is reported); throws {@linkcode ConnectError}.
   */
  static async open(opts: ServerLinkOptions): Promise<ServerLink> {
    const servers = opts.servers ?? [];
    for (let i = 0; i < servers.length - 1; i++) {
      try {
        const link = new ServerLink(await ServerConnection.open({ ...opts, ...servers[i] }), opts);
        link.#server = i;
        return link;
      } catch (e) {
        if (!(e instanceof ConnectError) || e.final) throw e;
      }
    }
    const link = new ServerLink(await ServerConnection.open({ ...opts, ...servers.at(-1) }), opts);
    link.#server = Math.max(0, servers.length - 1);
    return link;
  }

  /** The welcome of the first connection (its `nameError` tells whether `name` was refused). */
  get welcome(): Frame {
    return this.#welcome;
  }

  /** The welcome of the current connection (after a reconnect, the latest one). */
  get lastWelcome(): Frame {
    return this.#connection?.welcome ?? this.#welcome;
  }

  /** `HOST:PORT` of the server in use (of `servers`, the last one tried), if several. */
  get server(): string | undefined {
    const s = this.#opts.servers?.[this.#server ?? 0];
    return s && this.#opts.servers!.length > 1 ? `${s.host}:${s.port}` : undefined;
  }

  /** The current name as the server knows it. */
  get name(): string {
    return this.#name;
  }

  /** The account the connection is logged in as; undefined for a guest. */
  get account(): string | undefined {
    return this.#account;
  }

  /** Whether a connection is up right now. */
  get online(): boolean {
    return this.#connection !== null;
  }

  /**
   * Sends a request on the current connection; see {@linkcode ServerConnection.request}. Requests are paced to
   * the server's message rate (the welcome's `limits.msgRate`, burst `msgBurst`), so a fast
   * producer waits here instead of collecting refusals until the server hangs up.
   */
  async request(
    frame: Record<string, unknown> & { type: string },
    hook?: ReplyHook,
  ): Promise<Frame> {
    // A line over the server's limit would make it close the connection: refuse it here.
    const limits = (this.#connection?.welcome ?? this.#welcome).limits as
      | Record<string, unknown>
      | undefined;
    const maxLine = limits?.maxLine;
    if (typeof maxLine === "number" && maxLine > 0) {
      // The id is not known yet: count one as long as any this client will use.
      const bytes = encoder.encode(JSON.stringify({ ...frame, id: 999_999_999 })).length;
      if (bytes > maxLine) throw new TooLongError(bytes, maxLine);
    }
    // While reconnecting, a request waits (up to the request timeout) instead of failing.
    const deadline = Date.now() + this.#requestTimeoutMs;
    while (true) {
      await this.#online(deadline);
      await this.#pacer.take();
      const connection = this.#connection;
      if (!connection) continue; // dropped while waiting for a token
      try {
        return await connection.request(frame, (reply) => {
          if (reply.type === "ok") this.#accept(frame, reply);
          // Refused for the rate: the server's bucket is empty, so ours should be too.
          if (reply.type === "error" && reply.code === "rate_limited") this.#pacer.drain();
          hook?.(reply);
        });
      } catch (e) {
        // Never written, so never carried out: send it on the next connection.
        if (e instanceof NotSentError && !this.#stopped) continue;
        throw e;
      }
    }
  }

  get #requestTimeoutMs(): number {
    return this.#opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** Resolves once a connection is up; throws {@linkcode DisconnectedError} at `deadline` or for good. */
  async #online(deadline: number): Promise<void> {
    while (!this.#connection) {
      if (this.#stopped) throw new DisconnectedError("not connected");
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DisconnectedError(
          `not connected (still reconnecting after ${formatSeconds(this.#requestTimeoutMs)})`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiting.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        this.#waiting.add(wake);
        timer = setTimeout(wake, left);
      });
    }
  }

  #wakeWaiting(): void {
    for (const wake of [...this.#waiting]) wake();
  }

  /**
   * Learns from an accepted request what to ask for after a reconnect: the name, and the account
   * and password to log in with. Runs before the next event is rendered, so that event already
   * sees the new name.
   */
  #accept(frame: Record<string, unknown>, ok: Frame): void {
    const name = typeof ok.name === "string" ? ok.name : undefined;
    const password = (key: string) => typeof frame[key] === "string" ? frame[key] : undefined;
    switch (frame.type) {
      case "rename":
        if (name !== undefined) [this.#name, this.#chosen] = [safe(name), name];
        break;
      case "login":
        if (name !== undefined) {
          [this.#name, this.#chosen, this.#account] = [safe(name), name, name];
        }
        this.#password = password("password");
        break;
      case "register":
        if (name !== undefined) [this.#chosen, this.#account] = [name, name];
        this.#password = password("password");
        break;
      case "passwd":
        this.#password = password("new");
        break;
    }
  }

  /** Says `quit`, waits briefly for the `ok`, and closes for good. */
  async quit(timeoutMs = 2000): Promise<void> {
    const connection = this.#connection;
    this.#stopped = true;
    if (connection) {
      await within(connection.request({ type: "quit" }).catch(() => {}), timeoutMs);
    }
    this.close();
  }

  /** Closes for good, without saying goodbye. */
  close(): void {
    this.#stopped = true;
    clearInterval(this.#keepalive);
    this.#connection?.close();
    this.#connection = null;
    this.#wake?.();
    this.#finish();
  }

  #watch(connection: ServerConnection): void {
    const first = this.#connections++ === 0;
    connection.onFrame = (f) => {
      // Checked as it arrives, so `onWire` (--json) keeps the server's order and skips replays.
      const fresh = this.#firstSight(f);
      if (fresh && isMessage(f)) callIgnoringErrors(() => this.#opts.onWire?.(f));
      const backlog = first && f.history === true && this.#opts.firstBacklog === false;
      const show = fresh && !backlog;
      if (this.#held) this.#held.push({ frame: f, show });
      else this.#deliver(f, show);
    };
    // Messages reach `onWire` from `onFrame` above, after the duplicate check.
    connection.onWire = (f) => {
      if (!isMessage(f)) this.#opts.onWire?.(f);
    };
    this.#pacer = Pacer.forWelcome(connection.welcome); // a new connection starts with a full bucket
    this.#startKeepalive(connection);
    connection.closed.then((info) => this.#onClosed(connection, info));
  }

  /**
   * Whether an event is news: false for a replay (history or offline message after a reconnect)
   * of a message already received. Remembers the message either way.
   */
  #firstSight(f: Frame): boolean {
    if (!isMessage(f)) return true;
    const key = `${f.msgId}/${f.ts}`;
    const replayed = f.history === true || f.offline === true;
    const shownBefore = replayed && this.#seen.has(key);
    this.#seen.add(key);
    return !shownBefore;
  }

  /** Hands an event to `onFrame` if `show` (not a replay), and acknowledges offline messages. */
  #deliver(f: Frame, show: boolean): void {
    if (show) callIgnoringErrors(() => this.#opts.onFrame?.(f));
    // A waiting message delivered again (its first ack was lost) is acknowledged again, shown
    // or not this time.
    const connection = this.#connection;
    if (
      f.type === "private" && f.offline === true && typeof f.msgId === "number" && connection &&
      this.#opts.ackOffline !== false
    ) {
      this.#acknowledge(connection, f.msgId);
    }
  }

  /** Pings when idle so the server's idle timeout does not end a connection that is only reading. */
  #startKeepalive(connection: ServerConnection): void {
    clearInterval(this.#keepalive);
    const limits = connection.welcome.limits as Record<string, unknown> | undefined;
    const idle = typeof limits?.idleTimeoutMs === "number" ? limits.idleTimeoutMs : 0;
    if (idle <= 0) return;
    const every = Math.max(250, Math.floor(idle / 3));
    this.#keepalive = setInterval(() => {
      if (connection.idleMs < every) return;
      this.#pacer.charge(); // a ping costs a message token too
      connection.request({ type: "ping" }).catch(() => {});
    }, every);
  }

  async #onClosed(connection: ServerConnection, info: CloseInfo): Promise<void> {
    if (this.#connection !== connection) return;
    this.#connection = null;
    clearInterval(this.#keepalive);
    if (this.#stopped || info.byUs) return this.#finish();
    const reconnect = this.#opts.reconnect ?? true;
    if (!reconnect || info.final) {
      this.#stopped = true;
      this.#opts.onStatus?.({ kind: "closed", reason: info.reason });
      return this.#finish();
    }
    const min = this.#opts.reconnectMinMs ?? RECONNECT_MIN_MS;
    const max = this.#opts.reconnectMaxMs ?? RECONNECT_MAX_MS;
    let delay = min;
    this.#opts.onStatus?.({ kind: "lost", reason: info.reason, retryInMs: delay });
    for (let attempt = 1; !this.#stopped; attempt++) {
      await this.#sleep(delay);
      if (this.#stopped) return;
      try {
        const login = this.#chosen !== undefined && this.#chosen === this.#account;
        const next = await ServerConnection.open({
          ...this.#opts,
          ...this.#failover(),
          name: this.#chosen,
          password: login ? this.#password : undefined,
        });
        if (this.#stopped) return next.close();
        this.#connection = next;
        this.#name = safe(next.welcome.name);
        this.#account = accountOf(next.welcome);
        const nameError = next.welcome.nameError as Record<string, unknown> | undefined;
        this.#watch(next);
        this.#wakeWaiting();
        // The backlog of this welcome ends where the reply to a ping begins (see start()).
        this.#pacer.charge();
        next.request({ type: "ping" }, () => callIgnoringErrors(() => this.#opts.onBacklogEnd?.()))
          .catch(() => {});
        this.#opts.onStatus?.({
          kind: "back",
          name: this.#name,
          ...(this.server ? { server: this.server } : {}),
          nameError: nameError ? safe(nameError.message) || safe(nameError.code) : undefined,
        });
        return;
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        if (e instanceof ConnectError && e.final) {
          // An untrusted certificate stays untrusted: retrying would only hide the problem.
          this.#stopped = true;
          this.#opts.onStatus?.({ kind: "closed", reason });
          return this.#finish();
        }
        delay = Math.min(delay * 2, max);
        this.#opts.onStatus?.({ kind: "retry_failed", attempt, reason, retryInMs: delay });
      }
    }
  }

  /**
   * Acknowledges offline messages once shown (batched per event-loop turn), so the server stops
   * delivering them at every login.
   */
  #acknowledge(connection: ServerConnection, msgId: number): void {
    this.#toAck.push(msgId);
    if (this.#toAck.length > 1) return;
    queueMicrotask(() => {
      const all = this.#toAck;
      this.#toAck = [];
      for (let i = 0; i < all.length; i += ACK_BATCH) {
        const msgIds = all.slice(i, i + ACK_BATCH);
        this.#pacer.charge();
        connection.request({ type: "ack", msgIds }).catch(() => {}); // lost: delivered again next login
      }
    });
  }

  /** The server for the next reconnect attempt: the one after the last used. */
  #failover(): { host: string; port: number } | undefined {
    const servers = this.#opts.servers ?? [];
    if (servers.length < 2) return undefined;
    const next = ((this.#server ?? 0) + 1) % servers.length;
    this.#server = next;
    return servers[next];
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/**
 * Paces the client's requests to the server's per-connection message limit (`burst` at once,
 * then `rate` per second), counting with the same {@link TokenBucket} as the server. A rate of 0
 * means no limit.
 */
export class Pacer {
  readonly #bucket?: TokenBucket;
  #queue: Promise<void> = Promise.resolve();
  constructor(readonly rate: number, readonly burst: number) {
    if (rate > 0) this.#bucket = new TokenBucket(rate, burst, Date.now());
  }

  static unlimited(): Pacer {
    return new Pacer(0, 0);
  }

  /** The pacer for the limits a welcome announces (`msgRate`, `msgBurst`; 0 or absent: none). */
  static forWelcome(welcome: Frame): Pacer {
    const limits = welcome.limits as Record<string, unknown> | undefined;
    const num = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0;
    const rate = num(limits?.msgRate);
    return new Pacer(rate, Math.max(1, Math.floor(num(limits?.msgBurst)) || 1));
  }

  /** Waits for a token (in order with earlier callers) and takes it. */
  take(): Promise<void> {
    const bucket = this.#bucket;
    if (!bucket) return Promise.resolve();
    const turn = this.#queue.then(async () => {
      for (let waitMs; (waitMs = bucket.take(1, Date.now())) > 0;) {
        // A little slack, so the server's bucket (refilled by arrival times) has the token too.
        await new Promise((r) => setTimeout(r, waitMs + 5));
      }
    });
    this.#queue = turn;
    return turn;
  }

  /** Takes a token without waiting (for a keepalive ping), going into debt if need be. */
  charge(): void {
    this.#bucket?.charge(1, Date.now());
  }

  /** Empties the bucket (the server said it is empty). */
  drain(): void {
    const now = Date.now();
    const left = this.#bucket?.tokens(now) ?? 0;
    if (left > 0) this.#bucket!.charge(left, now);
  }
}

/** Message ids per `ack` request (the server takes up to 1000). */
const ACK_BATCH = 500;

/** How many shown messages are remembered for dropping replays after a reconnect. */
const SEEN_MESSAGES = 5000;

/** A `public` or `private` message event (the frames replays of which are dropped). */
function isMessage(f: Frame): boolean {
  return f.type === "public" || f.type === "private";
}

/** The welcome's `account`, when the hello logged in. */
function accountOf(welcome: Frame): string | undefined {
  return typeof welcome.account === "string" ? welcome.account : undefined;
}

/** A set that forgets its oldest keys beyond `limit`. */
class RecentKeys {
  readonly #keys = new Set<string>();
  constructor(readonly limit: number) {}
  has(key: string): boolean {
    return this.#keys.has(key);
  }
  add(key: string): void {
    this.#keys.add(key);
    if (this.#keys.size > this.limit) this.#keys.delete(this.#keys.values().next().value!);
  }
}
