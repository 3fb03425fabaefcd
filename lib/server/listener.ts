/**
 * The server: listens on plain TCP and/or TLS, admits connections under the connection limits,
 * turns them into {@link ClientConnection}s on one chat core, sweeps idle and stalled connections with
 * one timer for all, and shuts down gracefully.
 *
 * @module
 */

import type { BotService } from "./bot_sessions.ts";
import type { ChatGateway, Gate } from "./chat_gateway.ts";
import {
  ClientConnection,
  notice,
  type ServedConnection,
  type ServerContext,
  type Transport,
} from "./connection.ts";
import { IrcConnection } from "./irc/irc_connection.ts";
import type { Gauges } from "./http/metrics.ts";
import { HttpFront, type HttpHost, HttpListenError } from "./http/http_server.ts";
import type { Logger } from "../shared/log.ts";
import { closeQuietly } from "../shared/close_quietly.ts";
import { TIMED_OUT, within } from "../shared/deadline.ts";
import type { Admission } from "./rate_limit.ts";
import type { ServerConfig } from "./config.ts";

/** A bad setting or environment found at start, with one line for the user. */
export class StartupError extends Error {
  override name = "StartupError";
}

/** At most this many refused sockets are being told why at once; more are closed unanswered. */
const MAX_REFUSALS_IN_FLIGHT = 64;
/**
 * The kernel's queue of connections not yet accepted. Deno's default (511) overflows when
 * thousands connect at once (a restart, or a network blip reconnecting everyone): the kernel
 * drops the SYNs past it, and those clients retry only after 1, 3, 7... s. 4096 is what Go asks for
 * (the usual `somaxconn`, which caps it anyway).
 */
const LISTEN_BACKLOG = 4096;
/** A TLS handshake must finish this soon, or the socket is closed (it holds a connection slot). */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

const encoder = new TextEncoder();

/** The chat and its gate, built before the server listens (see backend.ts, workers/edge.ts). */
export interface Backend {
  chat: ChatGateway;
  /**
   * Why the chat cannot serve right now (a cluster node cut off from Redis), or undefined: then
   * `/healthz` says 503 with it, so a load balancer sends new clients elsewhere.
   */
  unavailable?(): string | undefined;
  gate: Gate;
  /** The bots' sessions for the bot HTTP API (bot_sessions.ts); none in a cluster. */
  bots?: BotService;
}

/** A server that is listening, in one thread ({@link ChatServer}) or several (workers/worker_server.ts). */
export interface RunningServer {
  /** The plain TCP address listened on, or the TLS one with `--no-plain` (ports are real). */
  readonly addr: Deno.NetAddr;
  /** The TLS address listened on, if TLS is on. */
  readonly tlsAddr: Deno.NetAddr | undefined;
  /** The HTTP and HTTPS addresses listened on, if served. */
  readonly httpAddr: Deno.NetAddr | undefined;
  readonly httpsAddr: Deno.NetAddr | undefined;
  /** The IRC and IRC-over-TLS addresses listened on, if served. */
  readonly ircAddr: Deno.NetAddr | undefined;
  readonly ircsAddr: Deno.NetAddr | undefined;
  /** Resolves when the server has shut down and every connection is closed. */
  readonly finished: Promise<void>;
  /** Stops accepting, tells every client, flushes (bounded by the grace period), closes all. */
  shutdown(): Promise<void>;
  /** Set when the server stopped because a part of it failed, not because it was told to. */
  readonly failure?: string;
}

/** The IRC listeners (`--irc-port`, `--ircs-port`), if any. */
interface IrcListeners {
  plain?: Deno.TcpListener;
  tls?: Deno.TlsListener;
}

/** How to listen, beyond the configuration. */
export interface ListenOptions {
  /**
   * Share the ports with other listeners (`SO_REUSEPORT`; one per `--workers` thread). The ports
   * must then be fixed: the hub picks them before the edges listen.
   */
  reusePort?: boolean;
  /** Users online in the whole chat, for `/metrics` (this thread's connections if not given). */
  usersOnline?: () => number;
}

/**
 * A listening chat server.
 *
 * @example
 * ```ts
 * import { ChatServer } from "./listener.ts";
 * import { SERVER_DEFAULTS } from "./config.ts";
 * import { openBackend } from "./backend.ts";
 * import { Logger } from "../shared/log.ts";
 *
 * const config = { ...SERVER_DEFAULTS, port: 0, dbPath: ":memory:" };
 * const log = new Logger("info");
 * const server = ChatServer.listen(config, log, openBackend(config, log));
 * Deno.addSignalListener("SIGTERM", () => server.shutdown());
 * await server.finished;
 * ```
 */
export class ChatServer implements ServerContext, RunningServer, HttpHost {
  readonly chat: ChatGateway;
  /** The bot API's sessions, if this server serves it. */
  readonly bots: BotService | undefined;
  readonly connections = new Set<ServedConnection>();
  /** Resolves when the server has shut down and every connection is closed. */
  readonly finished: Promise<void>;
  readonly #gate: Gate;
  /** The gate key each connection was admitted under, to release it when it closes. */
  readonly #keys = new Map<ServedConnection, string>();
  /** Each connection's transport (`tcp`, `tls`, `ws`, `wss`, `irc`, `ircs`), for `/metrics`. */
  readonly #kinds = new Map<ServedConnection, string>();
  #http: HttpFront | undefined;
  #usersOnline: (() => number) | undefined;
  /** Connections and handshakes still running; `finished` waits for none to be left. */
  #running = 0;
  #allDone: (() => void) | undefined;
  /** TLS sockets still in their handshake, closed at once on shutdown. */
  readonly #handshaking = new Set<Deno.Conn>();
  #shuttingDown = false;
  readonly #unavailable: (() => string | undefined) | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #refusing = 0;
  #refusedSinceSweep = 0;

  private constructor(
    readonly listener: Deno.TcpListener | undefined,
    readonly tlsListener: Deno.TlsListener | undefined,
    readonly config: ServerConfig,
    readonly log: Logger,
    backend: Backend,
    readonly irc: IrcListeners,
  ) {
    this.chat = backend.chat;
    this.#gate = backend.gate;
    this.#unavailable = backend.unavailable?.bind(backend);
    this.bots = backend.bots;
    const timeouts = [config.idleTimeoutMs, config.flood.lineTimeoutMs].filter((t) => t > 0);
    // One timer for every connection, precise enough at a quarter of the shortest timeout; it
    // also forgets addresses whose connection-rate bucket has refilled.
    const every = Math.min(1000, Math.max(10, Math.min(...timeouts) / 4));
    this.#sweep = setInterval(() => this.#sweepAll(), every);
    const loops = [];
    if (listener) loops.push(this.#acceptLoop(listener, false, false));
    if (tlsListener) loops.push(this.#acceptLoop(tlsListener, true, false));
    if (irc.plain) loops.push(this.#acceptLoop(irc.plain, false, true));
    if (irc.tls) loops.push(this.#acceptLoop(irc.tls, true, true));
    this.finished = Promise.all(loops).then(() => {
      if (this.#running > 0) return new Promise<void>((resolve) => this.#allDone = resolve);
    });
  }

  /** Starts listening; throws {@link StartupError} when it cannot. */
  static listen(
    config: ServerConfig,
    log: Logger,
    backend: Backend,
    options: ListenOptions = {},
  ): ChatServer {
    const { host, port, tls } = config;
    const reusePort = options.reusePort ?? false;
    let cert: string | undefined;
    let key: string | undefined;
    let listener: Deno.TcpListener | undefined;
    if (config.plain) {
      try {
        listener = Deno.listen({
          hostname: host,
          port,
          transport: "tcp",
          reusePort,
          tcpBacklog: LISTEN_BACKLOG,
        });
      } catch (e) {
        throw new StartupError(describeListenError(e, host, port, "--port"));
      }
    }
    let tlsListener: Deno.TlsListener | undefined;
    if (tls) {
      try {
        cert = readPem(tls.certFile, "--tls-cert", "certificate");
        key = readPem(tls.keyFile, "--tls-key", "private key");
        tlsListener = listenTls(host, tls.port, cert, key, tls, reusePort);
      } catch (e) {
        listener?.close();
        throw e;
      }
    }
    const irc: IrcListeners = {};
    try {
      if (config.irc?.port !== undefined) {
        try {
          irc.plain = Deno.listen({ hostname: host, port: config.irc.port, reusePort });
        } catch (e) {
          throw new StartupError(describeListenError(e, host, config.irc.port, "--irc-port"));
        }
      }
      if (config.irc?.tlsPort !== undefined && tls && cert && key) {
        irc.tls = listenTls(host, config.irc.tlsPort, cert, key, tls, reusePort, "--ircs-port");
      }
    } catch (e) {
      listener?.close();
      tlsListener?.close();
      irc.plain?.close();
      throw e;
    }
    const server = new ChatServer(listener, tlsListener, config, log, backend, irc);
    server.#usersOnline = options.usersOnline;
    if (config.http) {
      try {
        server.#http = HttpFront.listen(config, log, server, { reusePort, cert, key });
      } catch (e) {
        void server.shutdown();
        if (e instanceof HttpListenError) {
          throw new StartupError(describeListenError(e.cause, host, e.port, e.flag));
        }
        throw new StartupError(`cannot serve HTTP: ${firstLine(e)}`);
      }
    }
    return server;
  }

  /** The plain TCP address listened on, or the TLS one with `--no-plain` (ports are real). */
  get addr(): Deno.NetAddr {
    return (this.listener ?? this.tlsListener)!.addr;
  }

  /** The TLS address listened on, if TLS is on. */
  get tlsAddr(): Deno.NetAddr | undefined {
    return this.tlsListener?.addr;
  }

  /** The IRC address listened on, if served. */
  get ircAddr(): Deno.NetAddr | undefined {
    return this.irc.plain?.addr;
  }

  /** The IRC-over-TLS address listened on, if served. */
  get ircsAddr(): Deno.NetAddr | undefined {
    return this.irc.tls?.addr;
  }

  /** The HTTP address listened on, if served. */
  get httpAddr(): Deno.NetAddr | undefined {
    return this.#http?.addr;
  }

  /** The HTTPS address listened on, if served. */
  get httpsAddr(): Deno.NetAddr | undefined {
    return this.#http?.httpsAddr;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Why the chat cannot serve right now, if it cannot (see {@link Backend.unavailable}). */
  unavailable(): string | undefined {
    return this.#unavailable?.();
  }

  /** Bans and connection limits, shared by every transport. */
  get gate(): Gate {
    return this.#gate;
  }

  /** Serves a WebSocket the HTTP front admitted through {@link gate} under `key`. */
  serveTransport(transport: Transport, key: string, kind: "ws" | "wss"): void {
    this.#start(transport, key, kind);
  }

  /** Open connections by transport, and users online. */
  gauges(): Gauges {
    const connections: Record<string, number> = { tcp: 0, tls: 0, ws: 0, wss: 0, irc: 0, ircs: 0 };
    for (const kind of this.#kinds.values()) connections[kind]++;
    return { connections, usersOnline: this.#usersOnline?.() ?? this.connections.size };
  }

  onClosed(connection: ServedConnection): void {
    this.connections.delete(connection);
    const key = this.#keys.get(connection);
    this.#keys.delete(connection);
    this.#kinds.delete(connection);
    if (key !== undefined) this.#gate.release(key);
  }

  /** Stops accepting, tells every client, flushes (bounded by the grace period), closes all. */
  async shutdown(): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.log.info("shutting down", { connections: this.connections.size });
    clearInterval(this.#sweep);
    closeQuietly(this.listener);
    closeQuietly(this.tlsListener);
    closeQuietly(this.irc.plain);
    closeQuietly(this.irc.tls);
    for (const conn of this.#handshaking) closeQuietly(conn);
    const bye = notice("shutdown", "server is shutting down");
    await Promise.all([...this.connections].map((c) => c.close("shutdown", bye)));
    await this.finished;
    // Last, so that /healthz said 503 for as long as clients were being told.
    await this.#http?.shutdown();
  }

  async #acceptLoop(
    listener: Deno.Listener<Deno.Conn, Deno.NetAddr>,
    tls: boolean,
    irc: boolean,
  ): Promise<void> {
    while (!this.#shuttingDown) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#shuttingDown || error instanceof Deno.errors.BadResource) break;
        // Out of file descriptors and the like: log, back off, keep serving who is connected.
        this.log.error("accept failed", { error });
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      try {
        this.#admit(conn, tls, irc);
      } catch (error) {
        this.log.error("admission failed E_ADMIT", { error });
        closeQuietly(conn);
      }
    }
  }

  /** Serves `conn` if the gate (bans, connection limits) lets it in, or tells it why not. */
  #admit(conn: Deno.Conn, tls: boolean, irc: boolean): void {
    if (this.#shuttingDown) return closeQuietly(conn);
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const admission = this.#gate.admit(ip, Date.now());
    if (!(admission instanceof Promise)) return this.#admitted(conn, tls, irc, ip, admission);
    // The gate is in the hub's thread: wait for it without holding up the accept loop.
    this.#track(admission.then((a) => {
      if (this.#shuttingDown) {
        if (a.ok) this.#gate.release(a.key);
        return closeQuietly(conn);
      }
      this.#admitted(conn, tls, irc, ip, a);
    }, (error) => {
      closeQuietly(conn);
      throw error;
    }));
  }

  #admitted(
    conn: Deno.Conn,
    tls: boolean,
    irc: boolean,
    ip: string,
    admission: Admission,
  ): void {
    if (!admission.ok) {
      this.#refusedSinceSweep++;
      this.log.debug("refused", { ip, reason: admission.reason });
      // An IRC client reads a refusal as an ERROR line.
      return this.#refuse(conn, irc ? `ERROR :${admission.message}\r` : admission.message, tls);
    }
    if (!tls) return this.#serve(conn, admission.key, false, irc);
    this.#track(
      this.#handshake(conn as Deno.TlsConn).then((ok) => {
        if (ok) this.#serve(conn, admission.key, true, irc);
        else this.#gate.release(admission.key);
      }),
    );
  }

  /**
   * Writes the one refusal line and closes, without waiting in the accept loop. A fresh socket's
   * send buffer always takes one short line, so the write does not linger; past a few dozen at
   * once (a connection flood) sockets are closed unanswered so they cannot pile up.
   */
  #refuse(conn: Deno.Conn, message: string, tls: boolean): void {
    if (this.#refusing >= MAX_REFUSALS_IN_FLIGHT || tls) {
      // A TLS client cannot read a plain line, and the handshake would cost more than it is worth.
      return closeQuietly(conn);
    }
    this.#refusing++;
    conn.write(encoder.encode(message + "\n")).catch(() => {}).finally(() => {
      this.#refusing--;
      closeQuietly(conn);
    });
  }

  /** Completes a TLS handshake before the user joins, so a failed one never announces anyone. */
  async #handshake(conn: Deno.TlsConn): Promise<boolean> {
    const limit = this.config.flood.lineTimeoutMs || DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.#handshaking.add(conn);
    try {
      const outcome = await within(conn.handshake(), limit);
      if (outcome !== TIMED_OUT && !this.#shuttingDown) return true;
      this.log.debug("tls handshake timed out", { addr: conn.remoteAddr.hostname });
    } catch (error) {
      this.log.debug("tls handshake failed", { addr: conn.remoteAddr.hostname, error });
    } finally {
      this.#handshaking.delete(conn);
    }
    closeQuietly(conn);
    return false;
  }

  #serve(conn: Deno.Conn, key: string, tls: boolean, irc: boolean): void {
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch { /* the peer may already be gone */ }
    this.#start(conn, key, irc ? (tls ? "ircs" : "irc") : tls ? "tls" : "tcp");
  }

  #start(transport: Transport, key: string, kind: string): void {
    const connection: ServedConnection = kind === "irc" || kind === "ircs"
      ? new IrcConnection(transport, this)
      : new ClientConnection(transport, this);
    this.connections.add(connection);
    this.#keys.set(connection, key);
    this.#kinds.set(connection, kind);
    const tls = kind === "tls" || kind === "wss" || kind === "ircs";
    const websocket = kind === "ws" || kind === "wss";
    const irc = kind === "irc" || kind === "ircs";
    this.log.info("connect", {
      addr: connection.addr,
      tls,
      ...(websocket ? { websocket } : {}),
      ...(irc ? { irc } : {}),
    });
    this.#track(connection.run());
  }

  /**
   * Counts `task` as running until it settles. An internal error ends one connection with a log
   * line, never the process. The handlers are made once per server, not once per connection: idle
   * connections are counted by the ten thousand.
   */
  #track(task: Promise<void>): void {
    this.#running++;
    task.then(this.#settled, this.#failed);
  }

  readonly #settled = (): void => {
    if (--this.#running === 0) this.#allDone?.();
  };

  readonly #failed = (error: unknown): void => {
    this.log.error("connection failed E_CONN", { error });
    this.#settled();
  };

  #sweepAll(): void {
    const now = Date.now();
    const idleSince = now - this.config.idleTimeoutMs;
    const idle = notice("idle_timeout", "You are timeout due to inactivity for long time");
    const lineSecs = this.config.flood.lineTimeoutMs / 1000;
    for (const c of this.connections) {
      c.tick?.(now);
      const stall = c.guard.stalled(now);
      if (stall) {
        this.log.info(stall.replace("_", " "), { addr: c.addr });
        void c.close(
          "line_timeout",
          notice("idle_timeout", `no complete line within ${lineSecs} s; closing the connection`),
        );
      } else if (this.config.idleTimeoutMs > 0 && c.lastInputAt < idleSince) {
        this.log.info("idle timeout", { addr: c.addr, name: c.user.name });
        void c.close("idle_timeout", idle);
      }
    }
    this.#gate.prune(now);
    if (this.#refusedSinceSweep > 0) {
      // One line per sweep, not one per refused socket, so a connection flood cannot flood the log.
      this.log.warn("connections refused", {
        count: this.#refusedSinceSweep,
        open: this.connections.size,
      });
      this.#refusedSinceSweep = 0;
    }
  }
}

/** Reads a PEM file named by `flag`; throws {@link StartupError} with one line. */
function readPem(path: string, flag: string, what: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable
      ? "permission denied"
      : e instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : firstLine(e);
    throw new StartupError(`cannot read the TLS ${what} ${flag} ${path}: ${why}`);
  }
  if (!text.includes("-----BEGIN ")) {
    throw new StartupError(
      `${flag} ${path} is not a PEM file: expected a -----BEGIN ...----- block`,
    );
  }
  return text;
}

function listenTls(
  host: string,
  port: number,
  cert: string,
  key: string,
  { certFile, keyFile }: { certFile: string; keyFile: string },
  reusePort: boolean,
  flag = "--tls-port",
): Deno.TlsListener {
  try {
    return Deno.listenTls({
      hostname: host,
      port,
      transport: "tcp",
      cert,
      key,
      reusePort,
      tcpBacklog: LISTEN_BACKLOG,
    });
  } catch (e) {
    const message = firstLine(e);
    if (/KeyMismatch|not be consistent/i.test(message)) {
      throw new StartupError(
        `--tls-key ${keyFile} is not the private key of --tls-cert ${certFile}: use the key the certificate was issued for`,
      );
    }
    if (/certificate/i.test(message)) {
      throw new StartupError(`--tls-cert ${certFile} holds no usable certificate: ${message}`);
    }
    if (/key/i.test(message)) {
      throw new StartupError(`--tls-key ${keyFile} holds no usable private key: ${message}`);
    }
    if (e instanceof Deno.errors.InvalidData) {
      throw new StartupError(
        `cannot use --tls-cert ${certFile} / --tls-key ${keyFile}: ${message}`,
      );
    }
    throw new StartupError(describeListenError(e, host, port, flag));
  }
}

/** One line on why listening on `host:port` failed, naming the flag that chose the port. */
export function describeListenError(e: unknown, host: string, port: number, flag: string): string {
  const where = `${host}:${port}`;
  if (e instanceof Deno.errors.AddrInUse) {
    return `port ${port} on ${host} is already in use: stop the other server or choose another ${flag}`;
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return `cannot listen on ${where}: ${host} is not an address of this machine`;
  }
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return `not allowed to listen on ${where}: ${firstLine(e)}`;
  }
  return `cannot listen on ${where}: ${firstLine(e)}`;
}

function firstLine(e: unknown): string {
  return (e as Error)?.message?.split("\n")[0] ?? String(e);
}
