/**
 * What `/metrics` reports, in the Prometheus text format. The counters are plain numbers of this
 * thread, bumped where things happen (a connection's request, delivery, drop or refusal; the
 * store's commit), so the hot path pays one increment; the gauges are read when scraped.
 *
 * @module
 */

/** Upper bounds (seconds) of the store commit latency histogram's buckets. */
export const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** How often the event-loop lag probe runs. */
const LAG_PROBE_MS = 500;

/**
 * The counters of this thread.
 *
 * @example
 * ```ts
 * import { counters } from "./metrics.ts";
 *
 * counters.requests.set("say", (counters.requests.get("say") ?? 0) + 1);
 * ```
 */
export const counters = {
  /** Requests handled, by request type (`say`, `msg`...; `invalid` for a line that parsed to none). */
  requests: new Map<string, number>(),
  /** Events queued for a connection, by kind (`public`, `private`, `presence`, `notice`). */
  delivered: { public: 0, private: 0, presence: 0, notice: 0 } as Record<string, number>,
  /** Connections dropped because their outbound queue overflowed. */
  slowConsumersDropped: 0,
  /** Requests refused by flood control. */
  rateLimited: 0,
  /** Store group commits: count, sum of seconds, and per-bucket counts (not cumulative). */
  commits: { count: 0, sum: 0, buckets: COMMIT_BUCKETS.map(() => 0) },
  /** The worst event-loop lag (ms) seen by the last probe period. */
  loopLagMs: 0,
};

/** Counts one request of `type`. */
export function countRequest(type: string): void {
  counters.requests.set(type, (counters.requests.get(type) ?? 0) + 1);
}

/** Records one store commit that took `ms` milliseconds. */
export function observeCommit(ms: number): void {
  const s = ms / 1000;
  const c = counters.commits;
  c.count++;
  c.sum += s;
  const i = COMMIT_BUCKETS.findIndex((b) => s <= b);
  if (i >= 0) c.buckets[i]++;
}

/**
 * Starts measuring event-loop lag: a timer that should fire every {@link LAG_PROBE_MS} notes how
 * late it ran. Returns a function that stops it.
 */
export function startLagProbe(): () => void {
  let expected = performance.now() + LAG_PROBE_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    counters.loopLagMs = Math.max(0, now - expected);
    expected = now + LAG_PROBE_MS;
  }, LAG_PROBE_MS);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

/** The gauges read at scrape time. */
export interface Gauges {
  /** Open connections by transport (`tcp`, `tls`, `ws`, `wss`). */
  connections: Record<string, number>;
  /** Users online in the chat (across threads when known; else this thread's connections). */
  usersOnline: number;
}

/**
 * Renders every metric in the Prometheus text exposition format (version 0.0.4).
 *
 * @example
 * ```ts
 * import { renderMetrics } from "./metrics.ts";
 *
 * renderMetrics({ connections: { tcp: 2, ws: 1 }, usersOnline: 3 });
 * // "# HELP fastim_connections Open client connections by transport.\n..."
 * ```
 */
export function renderMetrics(gauges: Gauges): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
  };
  metric(
    "fastim_connections",
    "gauge",
    "Open client connections by transport.",
    Object.entries(gauges.connections).map(([t, n]) => [`{transport="${t}"}`, n]),
  );
  metric("fastim_users_online", "gauge", "Users online.", [["", gauges.usersOnline]]);
  metric(
    "fastim_requests_total",
    "counter",
    "Requests received, by type (those refused by flood control too).",
    [...counters.requests].sort().map(([t, n]) => [`{type="${t}"}`, n]),
  );
  metric(
    "fastim_deliveries_total",
    "counter",
    "Events queued for a connection (one per recipient), by kind.",
    Object.entries(counters.delivered).map(([k, n]) => [`{kind="${k}"}`, n]),
  );
  metric(
    "fastim_slow_consumers_dropped_total",
    "counter",
    "Connections dropped because their outbound queue overflowed.",
    [["", counters.slowConsumersDropped]],
  );
  metric(
    "fastim_rate_limited_total",
    "counter",
    "Requests refused by flood control.",
    [["", counters.rateLimited]],
  );
  const c = counters.commits;
  out.push(
    "# HELP fastim_store_commit_seconds Store group commit latency.",
    "# TYPE fastim_store_commit_seconds histogram",
  );
  let cumulative = 0;
  COMMIT_BUCKETS.forEach((bound, i) => {
    cumulative += c.buckets[i];
    out.push(`fastim_store_commit_seconds_bucket{le="${bound}"} ${cumulative}`);
  });
  out.push(
    `fastim_store_commit_seconds_bucket{le="+Inf"} ${c.count}`,
    `fastim_store_commit_seconds_sum ${c.sum}`,
    `fastim_store_commit_seconds_count ${c.count}`,
  );
  metric(
    "fastim_event_loop_lag_seconds",
    "gauge",
    "How late the event loop ran a timer, over the last half second.",
    [["", counters.loopLagMs / 1000]],
  );
  const mem = Deno.memoryUsage();
  metric("fastim_process_resident_memory_bytes", "gauge", "Resident set size.", [["", mem.rss]]);
  metric("fastim_process_heap_used_bytes", "gauge", "V8 heap in use.", [["", mem.heapUsed]]);
  return out.join("\n") + "\n";
}
