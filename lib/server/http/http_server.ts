/**
 * The HTTP front on `Deno.serve`: the chat page, the WebSocket `/ws` (served by the same
 * {@link ClientConnection} code as a TCP client, through {@link WebSocketTransport}), `/healthz` and
 * `/metrics`. Every response carries the security headers; `/ws` checks the Origin and goes
 * through the same gate (bans, per-address connection limits) as a TCP socket.
 *
 * @module
 */

import type { Gate } from "../chat_gateway.ts";
import { BotApi } from "../bot_api.ts";
import type { BotService } from "../bot_sessions.ts";
import type { Transport } from "../connection.ts";
import type { ServerConfig } from "../config.ts";
import type { Logger } from "../../shared/log.ts";
import { loadPage, type PageFile } from "./page.ts";
import { type Gauges, renderMetrics } from "./metrics.ts";
import { WebSocketTransport } from "./ws_transport.ts";

/** What the HTTP front needs from the chat server it fronts. */
export interface HttpHost {
  /** True once shutdown began: `/healthz` says 503 and `/ws` refuses. */
  readonly shuttingDown: boolean;
  /** Why the chat cannot serve right now (a cluster node without Redis): `/healthz` says 503. */
  unavailable?(): string | undefined;
  /** Bans and connection limits, shared with the TCP listeners. */
  readonly gate: Gate;
  /** The bots' sessions behind `/api/*` (../bot_sessions.ts); none with --redis. */
  readonly bots?: BotService;
  /** Serves an open WebSocket admitted under the gate's `key`, as a connection of `kind`. */
  serveTransport(transport: Transport, key: string, kind: "ws" | "wss"): void;
  /** What `/metrics` reports that only the server knows. */
  gauges(): Gauges;
}

/**
 * The strict policy of every response: scripts, styles and images from this origin only (no
 * inline script), the WebSocket to this origin, and no framing by other sites.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

function respond(status: number, body: BodyInit | null, type = "text/plain; charset=utf-8") {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, "cache-control": "no-cache" },
  });
}

/** Adds the security headers to a response made elsewhere (the bot API's). */
function withSecurityHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    response.headers.set(name, value);
  }
  return response;
}

/** Listening failed; `flag` names the flag that chose the port. */
export class HttpListenError extends Error {
  constructor(override readonly cause: unknown, readonly port: number, readonly flag: string) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * The HTTP and HTTPS servers of one thread.
 *
 * @example
 * ```ts
 * import { type HttpHost, HttpFront } from "./http_server.ts";
 * import type { ServerConfig } from "../config.ts";
 * import type { Logger } from "../../shared/log.ts";
 *
 * // `chatServer` is the running ChatServer (see ../listener.ts), which serves the WebSockets.
 * async function serveHttp(config: ServerConfig, log: Logger, chatServer: HttpHost): Promise<void> {
 *   const front = HttpFront.listen(config, log, chatServer);
 *   await front.shutdown();
 * }
 * ```
 */
export class HttpFront {
  readonly #servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  readonly #page: Map<string, PageFile>;
  readonly #bots: BotApi;
  /** The plain HTTP address, if served. */
  addr: Deno.NetAddr | undefined;
  /** The HTTPS address, if served. */
  httpsAddr: Deno.NetAddr | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly log: Logger,
    readonly host: HttpHost,
  ) {
    this.#page = loadPage();
    this.#bots = new BotApi(config, log, host.bots, () => host.shuttingDown);
  }

  /**
   * Starts the HTTP (and with TLS, HTTPS) servers; throws {@link HttpListenError} when a port
   * cannot be listened on, having stopped what it started.
   */
  static listen(
    config: ServerConfig,
    log: Logger,
    host: HttpHost,
    options: { reusePort?: boolean; cert?: string; key?: string } = {},
  ): HttpFront {
    const http = config.http!;
    const front = new HttpFront(config, log, host);
    const serve = (port: number, flag: string, tls: boolean) => {
      try {
        const server = Deno.serve({
          hostname: config.host,
          port,
          reusePort: options.reusePort,
          ...(tls ? { cert: options.cert!, key: options.key! } : {}),
          onListen: () => {},
          onError: (error) => {
            log.error("http handler failed E_HTTP", { error });
            return respond(500, "internal error");
          },
        }, (request, info) => front.#handle(request, info.remoteAddr, tls));
        front.#servers.push(server);
        return server.addr;
      } catch (e) {
        void front.shutdown();
        throw new HttpListenError(e, port, flag);
      }
    };
    if (http.port !== undefined) front.addr = serve(http.port, "--http-port", false);
    if (http.httpsPort !== undefined && options.cert) {
      front.httpsAddr = serve(http.httpsPort, "--https-port", true);
    }
    return front;
  }

  /** Stops listening and ends the HTTP exchanges in flight (not the WebSockets: the server does). */
  async shutdown(): Promise<void> {
    // Open bot streams never end by themselves, and the servers wait for every response.
    this.#bots.close();
    await Promise.all(this.#servers.map((s) => s.shutdown().catch(() => {})));
  }

  #handle(request: Request, remote: Deno.NetAddr, tls: boolean): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ws") return this.#upgrade(request, remote, tls);
    if (url.pathname.startsWith("/api/")) {
      return this.#bots.handle(request, remote).then(withSecurityHeaders);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return respond(405, "only GET is served here\n");
    }
    if (url.pathname === "/healthz") {
      if (this.host.shuttingDown) return respond(503, "shutting down\n");
      const why = this.host.unavailable?.();
      return why ? respond(503, `${why}\n`) : respond(200, "ok\n");
    }
    if (url.pathname === "/metrics") return this.#metrics(remote);
    const file = this.#page.get(url.pathname);
    if (!file) return respond(404, "not found\n");
    return respond(200, file.body, file.type);
  }

  #metrics(remote: Deno.NetAddr): Response {
    const allow = this.config.http!.metricsAllow;
    if (allow.length === 0) return respond(404, "not found\n");
    if (!allow.includes(remote.hostname)) {
      return respond(403, "metrics are not served to this address (see --metrics-allow)\n");
    }
    return respond(200, renderMetrics(this.host.gauges()), "text/plain; version=0.0.4");
  }

  /** The page's origin as the browser sees it: the scheme and the Host header. */
  #sameOrigin(request: Request, tls: boolean): string {
    return `${tls ? "https" : "http"}://${request.headers.get("host") ?? ""}`;
  }

  async #upgrade(request: Request, remote: Deno.NetAddr, tls: boolean): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return respond(426, "this is the chat's WebSocket: connect with a WebSocket client\n");
    }
    // Browsers always send Origin; a page of another site must not talk as its visitor.
    // Programs that are not browsers send none, and are let in as a TCP client would be.
    const origin = request.headers.get("origin");
    if (
      origin !== null && origin !== this.#sameOrigin(request, tls) &&
      !this.config.http!.allowedOrigins.includes(origin)
    ) {
      this.log.info("ws origin refused", { ip: remote.hostname, origin });
      return respond(403, `origin ${origin} may not connect (see --allowed-origins)\n`);
    }
    if (this.host.shuttingDown) return respond(503, "server is shutting down\n");
    const ip = remote.hostname;
    const admission = await this.host.gate.admit(ip, Date.now());
    if (!admission.ok) {
      this.log.debug("refused", { ip, reason: admission.reason });
      return respond(admission.reason === "banned" ? 403 : 503, admission.message + "\n");
    }
    if (this.host.shuttingDown) {
      this.host.gate.release(admission.key);
      return respond(503, "server is shutting down\n");
    }
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(request);
    } catch (e) {
      this.host.gate.release(admission.key);
      return respond(400, `not a valid WebSocket request: ${(e as Error).message}\n`);
    }
    const { socket, response } = upgraded;
    const transport = new WebSocketTransport(socket, remote, this.config.maxQueueBytes);
    let settled = false;
    socket.addEventListener("open", () => {
      settled = true;
      if (this.host.shuttingDown) {
        this.host.gate.release(admission.key);
        return transport.close();
      }
      this.host.serveTransport(transport, admission.key, tls ? "wss" : "ws");
    });
    socket.addEventListener("close", () => {
      // Closed before it opened: the gate's slot is released here, as nobody serves it.
      if (!settled) this.host.gate.release(admission.key);
      settled = true;
    });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      response.headers.set(name, value);
    }
    return response;
  }
}
