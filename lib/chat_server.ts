/**
 * The TCP server: listens, accepts connections into {@link Connection}s on one chat core, sweeps
 * idle connections with one timer for all, and shuts down gracefully.
 *
 * @module
 */

import { ChatCore } from "./chat_core.ts";
import { Connection, notice, type ServerContext } from "./connection.ts";
import type { Logger } from "./log.ts";
import type { ServerConfig } from "./server_config.ts";

/** A bad setting or environment found at start, with one line for the user. */
export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * A listening chat server.
 *
 * @example
 * ```ts
 * const server = ChatServer.listen(config, new Logger("info"));
 * Deno.addSignalListener("SIGTERM", () => server.shutdown());
 * await server.finished;
 * ```
 */
export class ChatServer implements ServerContext {
  readonly core = new ChatCore();
  readonly connections = new Set<Connection>();
  /** Resolves when the server has shut down and every connection is closed. */
  readonly finished: Promise<void>;
  #shuttingDown = false;
  #sweep: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly listener: Deno.TcpListener,
    readonly config: ServerConfig,
    readonly log: Logger,
  ) {
    if (config.idleTimeoutMs > 0) {
      // One timer for every connection; precise enough at a quarter of the timeout.
      const every = Math.min(1000, Math.max(10, config.idleTimeoutMs / 4));
      this.#sweep = setInterval(() => this.#closeIdle(), every);
    }
    this.finished = this.#acceptLoop();
  }

  /** Starts listening; throws {@link StartupError} when it cannot. */
  static listen(config: ServerConfig, log: Logger): ChatServer {
    try {
      const listener = Deno.listen({ hostname: config.host, port: config.port, transport: "tcp" });
      return new ChatServer(listener, config, log);
    } catch (e) {
      throw new StartupError(describeListenError(e, config));
    }
  }

  /** The address actually listened on (the port is real even when 0 was asked for). */
  get addr(): Deno.NetAddr {
    return this.listener.addr;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  onClosed(connection: Connection): void {
    this.connections.delete(connection);
  }

  /** Stops accepting, tells every client, flushes (bounded by the grace period), closes all. */
  async shutdown(): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.log.info("shutting down", { connections: this.connections.size });
    clearInterval(this.#sweep);
    try {
      this.listener.close();
    } catch { /* already closed */ }
    const bye = notice("shutdown", "server is shutting down");
    await Promise.all([...this.connections].map((c) => c.close("shutdown", bye)));
    await this.finished;
  }

  async #acceptLoop(): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!this.#shuttingDown) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.listener.accept();
      } catch (error) {
        if (this.#shuttingDown || error instanceof Deno.errors.BadResource) break;
        // Out of file descriptors and the like: log, back off, keep serving who is connected.
        this.log.error("accept failed", { error });
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      this.#serve(conn, running);
    }
    await Promise.all(running);
  }

  #serve(conn: Deno.TcpConn, running: Set<Promise<void>>): void {
    try {
      conn.setNoDelay(true);
    } catch { /* the peer may already be gone */ }
    const connection = new Connection(conn, this);
    this.connections.add(connection);
    this.log.info("connect", { addr: connection.addr });
    const done = connection.run();
    running.add(done);
    done.finally(() => running.delete(done));
  }

  #closeIdle(): void {
    const deadline = Date.now() - this.config.idleTimeoutMs;
    const idle = notice("idle_timeout", "You are timeout due to inactivity for long time");
    for (const c of this.connections) {
      if (c.lastInputAt < deadline) {
        this.log.info("idle timeout", { addr: c.addr, name: c.user.name });
        void c.close("idle_timeout", idle);
      }
    }
  }
}

function describeListenError(e: unknown, config: ServerConfig): string {
  const where = `${config.host}:${config.port}`;
  if (e instanceof Deno.errors.AddrInUse) {
    return `port ${config.port} on ${config.host} is already in use: stop the other server or choose another --port`;
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return `cannot listen on ${where}: ${config.host} is not an address of this machine`;
  }
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return `not allowed to listen on ${where}: ${(e as Error).message.split("\n")[0]}`;
  }
  return `cannot listen on ${where}: ${(e as Error)?.message?.split("\n")[0] ?? e}`;
}
