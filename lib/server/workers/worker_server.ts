/**
 * `--workers N`: the hub in this thread and N edge threads that share the listening ports with
 * `SO_REUSEPORT`, so the kernel spreads connections over them and each writes its own sockets.
 * The design is in docs/SCALING.md.
 *
 * @module
 */

import type { EdgeControl, EdgeMessage, HubControl } from "./bus.ts";
import { describeListenError, type RunningServer, StartupError } from "../listener.ts";
import { EdgeLink, Hub } from "./hub.ts";
import type { Logger } from "../../shared/log.ts";
import type { ServerConfig } from "../config.ts";
import type { LocalBackend } from "../backend.ts";

/** How often the hub forgets connection-rate buckets that refilled. */
const PRUNE_EVERY_MS = 1000;

/** One edge thread. */
interface Edge {
  worker: Worker;
  link: EdgeLink;
  /** Resolves when the edge has stopped serving (or failed). */
  stopped: Promise<void>;
}

/**
 * A server whose sockets are served by edge threads.
 *
 * @example
 * ```ts
 * import { WorkerServer } from "./worker_server.ts";
 * import { openBackend } from "../backend.ts";
 * import { SERVER_DEFAULTS } from "../config.ts";
 * import { Logger } from "../../shared/log.ts";
 *
 * const config = { ...SERVER_DEFAULTS, dbPath: ":memory:" };
 * const log = new Logger("info");
 * const server = await WorkerServer.start(config, log, openBackend(config, log), 2);
 * await server.finished;
 * ```
 */
export class WorkerServer implements RunningServer {
  readonly finished: Promise<void>;
  /** Why the server stopped by itself: an edge failed. */
  failure?: string;
  #shuttingDown = false;
  readonly #prune: ReturnType<typeof setInterval>;

  private constructor(
    readonly edges: Edge[],
    readonly hub: Hub,
    readonly addr: Deno.NetAddr,
    readonly tlsAddr: Deno.NetAddr | undefined,
    readonly httpAddr: Deno.NetAddr | undefined,
    readonly httpsAddr: Deno.NetAddr | undefined,
    readonly ircAddr: Deno.NetAddr | undefined,
    readonly ircsAddr: Deno.NetAddr | undefined,
    readonly log: Logger,
  ) {
    this.#prune = setInterval(() => hub.gate.prune(Date.now()), PRUNE_EVERY_MS);
    this.finished = Promise.all(edges.map((e) => e.stopped)).then(() => {
      clearInterval(this.#prune);
      for (const edge of edges) edge.worker.terminate();
    });
  }

  /**
   * Picks the ports, starts `count` edges on them and waits until all listen. Throws
   * {@link StartupError} with one line when a port is taken or an edge cannot listen.
   */
  static async start(
    config: ServerConfig,
    log: Logger,
    backend: LocalBackend,
    count: number,
  ): Promise<WorkerServer> {
    // Every probe holds its port until all are chosen: the system may otherwise hand the same
    // free port out twice, and edges listening with SO_REUSEPORT would then split one port's
    // connections between two listeners (the chat's and the HTTP front's).
    const probes: Deno.Listener[] = [];
    const probe = (host: string, port: number, flag: string): number => {
      try {
        const listener = Deno.listen({ hostname: host, port, transport: "tcp" });
        probes.push(listener);
        return listener.addr.port;
      } catch (e) {
        for (const held of probes) held.close();
        throw new StartupError(describeListenError(e, host, port, flag));
      }
    };
    const plainPort = config.plain ? probe(config.host, config.port, "--port") : 0;
    const tls = config.tls &&
      { ...config.tls, port: probe(config.host, config.tls.port, "--tls-port") };
    // The HTTP front is served by every edge too (its WebSockets are connections like any other).
    const http = config.http && {
      ...config.http,
      port: config.http.port === undefined
        ? undefined
        : probe(config.host, config.http.port, "--http-port"),
      httpsPort: config.http.httpsPort === undefined || !tls
        ? undefined
        : probe(config.host, config.http.httpsPort, "--https-port"),
    };
    // IRC too: every edge serves IRC clients on the same ports.
    const irc = config.irc && {
      port: config.irc.port === undefined
        ? undefined
        : probe(config.host, config.irc.port, "--irc-port"),
      tlsPort: config.irc.tlsPort === undefined || !tls
        ? undefined
        : probe(config.host, config.irc.tlsPort, "--ircs-port"),
    };
    // A socket without SO_REUSEPORT conflicts with every other, even another FastIM's edges:
    // that is what makes a probe a check that the port is free. Released for the edges now.
    for (const held of probes) held.close();
    const edgeConfig: ServerConfig = { ...config, port: plainPort, tls, http, irc };
    const hub = new Hub(backend.chat, backend.gate, log, backend.bots);
    // Set once all edges answered; an edge failing later stops it.
    let server: WorkerServer | undefined = undefined;
    const started: Promise<string | undefined>[] = [];
    const edges: Edge[] = [];
    for (let index = 0; index < count; index++) {
      const worker = new Worker(new URL("./edge_thread.ts", import.meta.url).href, {
        type: "module",
      });
      const link = hub.attach(index, (items) => worker.postMessage(items));
      let listening!: (failure: string | undefined) => void;
      let stopped!: () => void;
      started.push(new Promise((resolve) => listening = resolve));
      const edge: Edge = { worker, link, stopped: new Promise((resolve) => stopped = resolve) };
      edges.push(edge);
      worker.onmessage = (e: MessageEvent<EdgeMessage[] | EdgeControl>) => {
        const message = e.data;
        if (Array.isArray(message)) return hub.receive(link, message);
        if (message.kind === "listening") listening(undefined);
        else if (message.kind === "failed") {
          listening(message.message);
          stopped();
        } else if (message.kind === "finished") stopped();
      };
      worker.onerror = (e) => {
        // A bug in an edge: take its users offline, then stop the whole server rather than serve
        // a part of the chat.
        e.preventDefault();
        log.error("edge failed E_EDGE", { edge: index, error: e.message });
        hub.detach(link);
        listening(`edge ${index} failed: ${e.message}`);
        stopped();
        if (server) {
          server.failure ??= `edge ${index} failed: ${e.message}`;
          void server.shutdown();
        }
      };
      const start: HubControl = { kind: "start", index, config: edgeConfig };
      worker.postMessage(start);
    }
    const failures = (await Promise.all(started)).filter((f) => f !== undefined);
    const tlsAddr = tls && netAddr(config.host, tls.port);
    const addr = config.plain ? netAddr(config.host, plainPort) : tlsAddr!;
    const httpAddr = http?.port === undefined ? undefined : netAddr(config.host, http.port);
    const httpsAddr = http?.httpsPort === undefined
      ? undefined
      : netAddr(config.host, http.httpsPort);
    const ircAddr = irc?.port === undefined ? undefined : netAddr(config.host, irc.port);
    const ircsAddr = irc?.tlsPort === undefined ? undefined : netAddr(config.host, irc.tlsPort);
    server = new WorkerServer(
      edges,
      hub,
      addr,
      tlsAddr,
      httpAddr,
      httpsAddr,
      ircAddr,
      ircsAddr,
      log,
    );
    if (failures.length > 0) {
      await server.shutdown();
      throw new StartupError(failures[0]!);
    }
    return server;
  }

  /** Tells every edge to shut down (each tells its clients) and waits for all. */
  async shutdown(): Promise<void> {
    if (this.#shuttingDown) return this.finished;
    this.#shuttingDown = true;
    const order: HubControl = { kind: "shutdown" };
    for (const edge of this.edges) edge.worker.postMessage(order);
    await this.finished;
  }
}

function netAddr(hostname: string, port: number): Deno.NetAddr {
  return { transport: "tcp", hostname, port };
}
