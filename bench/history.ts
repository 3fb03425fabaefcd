/**
 * The history scenario of `deno task bench --scenarios history`: search latency over a store of
 * 1,000,000 messages (20,000 with `--quick`), and catch-up of 10,000 missed messages (1,000 with
 * `--quick`), both through the real server over TCP in the JSON dialect, measured from the
 * client: request written to reply read.
 *
 * The store is filled directly through lib/store/sqlite.ts (the server would take minutes to
 * accept a million messages through its flood control); the server then opens that file as it
 * would any other.
 *
 * @module
 */

import { Store } from "../lib/store/sqlite.ts";
import { JsonClient } from "../tests/helpers/lines.ts";
import { startServer } from "../tests/helpers/server.ts";
import type { BenchOptions } from "./options.ts";
import type { Row } from "./scenarios.ts";

const QUIET = [
  ...["--msg-rate", "0", "--byte-rate", "0", "--who-rate", "0", "--history", "0"],
  ...["--no-http", "--no-irc", "--workers", "1", "--log-level", "warn"],
];

/** A fixed vocabulary: the same words every run, some common and most rare (Zipf-like). */
function vocabulary(size: number): string[] {
  const syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "qu", "dr"];
  const words: string[] = [];
  for (let i = 0; words.length < size; i++) {
    let w = "";
    for (let n = i + 1; n > 0; n = Math.floor(n / syllables.length)) {
      w += syllables[n % syllables.length];
    }
    words.push(w);
  }
  return words;
}

/** A small deterministic generator, so runs search the same texts. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** An index into `n` words, skewed so that low indexes are common words. */
function zipf(rand: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(n ** rand()) - 1);
}

/** Stores `count` lobby messages of 8 words each, committed in batches. */
async function fill(store: Store, count: number, words: string[], firstId: number) {
  const rand = random(7);
  const batch = 20_000;
  for (let i = 0; i < count; i++) {
    const text = Array.from({ length: 8 }, () => words[zipf(rand, words.length)]).join(" ");
    store.appendPublic({
      msgId: firstId + i,
      ts: Date.now(),
      from: `user${i % 500}`,
      fromAddr: "127.0.0.1:1",
      text,
    });
    if (i % batch === batch - 1) await new Promise((r) => setTimeout(r, 0)); // group commit
  }
  await new Promise((r) => setTimeout(r, 0));
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round = (v: number, d = 2) => Number(v.toFixed(d));

/** Search p50/p99 over `stored` messages, and the catch-up of `missed` messages. */
export async function historyScenario(opts: BenchOptions): Promise<Row[]> {
  const stored = opts.quick ? 20_000 : 1_000_000;
  const missed = opts.quick ? 1_000 : 10_000;
  const queries = opts.quick ? 50 : 500;
  const dir = await Deno.makeTempDir({ prefix: "fastim-bench-history-" });
  const db = `${dir}/history.db`;
  try {
    const words = vocabulary(5_000);
    const fillStart = performance.now();
    const store = Store.open(db);
    const first = store.reserveIds(stored + missed);
    await fill(store, stored, words, first);
    const fillMs = performance.now() - fillStart;
    const marker = first + stored - 1; // the last message a returning device saw
    await fill(store, missed, words, first + stored);
    store.close();
    const size = (await Deno.stat(db)).size;

    await using server = await startServer([...QUIET, "--db", db], { timeoutMs: 120_000 });
    using c = await JsonClient.connect(server.port, { name: "bencher" });

    // Search: one word (common to rare) or two, each query's latency from request to reply.
    const rand = random(11);
    const took: number[] = [];
    let results = 0;
    for (let i = 0; i < queries; i++) {
      const a = words[zipf(rand, words.length)];
      const query = i % 4 === 3 ? `${a} ${words[zipf(rand, 200)]}` : a;
      const t0 = performance.now();
      const r = await c.request({ type: "search", query, limit: 20 }, 30_000);
      took.push(performance.now() - t0);
      results += (r.messages as unknown[]).length;
    }
    took.sort((x, y) => x - y);

    // Catch-up: every message after the marker, pages of 500, until no more follow.
    const t0 = performance.now();
    let after = marker;
    let got = 0;
    let pages = 0;
    for (;;) {
      const r = await c.request({ type: "catchup", target: "#lobby", after, limit: 500 }, 30_000);
      got += (r.messages as unknown[]).length;
      pages++;
      after = r.last as number;
      if (!r.more) break;
    }
    const catchupMs = performance.now() - t0;
    if (got !== missed) throw new Error(`catch-up got ${got} of ${missed} messages`);

    return [{
      scenario: "history",
      server: "fastim",
      dialect: "json",
      figures: {
        "search p50 ms": round(percentile(took, 0.5)),
        "search p99 ms": round(percentile(took, 0.99)),
        "catch-up ms": round(catchupMs, 0),
        "catch-up msgs/s": round(missed / (catchupMs / 1000), 0),
      },
      notes: [
        `${stored} stored messages (${(size / 2 ** 20).toFixed(0)} MiB, filled in ${
          (fillMs / 1000).toFixed(0)
        } s); ${queries} searches, ${(results / queries).toFixed(1)} results each on average; ` +
        `catch-up of ${missed} in ${pages} pages of 500`,
      ],
    }];
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
