/**
 * What the runner asks of one load-generator worker process (its `WorkerPlan`), the
 * control messages it sends on the worker's stdin, and the report the worker prints back.
 * Everything crosses the process boundary as one JSON object per line.
 *
 * @module
 */

import type { HistogramJson } from "./histogram.ts";

/** The wire dialect a worker's connections speak: `ws` is JSON over a WebSocket to `/ws`. */
export type Dialect = "text" | "json" | "ws";

/** One worker's slice of a scenario. */
export interface WorkerPlan {
  host: string;
  port: number;
  dialect: Dialect;
  /** Connections that only read (fan-out listeners, idle connections). */
  listeners: number;
  /** Global ids of the public senders hosted here; senders read their own echo too. */
  senders: number[];
  /** Global ids of the private pairs hosted here; pair p is senders 2p and 2p+1 messaging each other. */
  pairs: number[];
  /** Connections that never read (the slow-consumer scenario). */
  slow: number;
  /**
   * The room listeners and senders join (`join|ROOM`) and senders talk in; absent: everything
   * happens in the lobby.
   */
  room?: string;
  /** Connections that stay in the lobby while the others talk in `room`; they only count probes. */
  bystanders: number;
  /** Most messages a sender may have in flight (sent, not yet seen by its local readers). */
  window: number;
  /** Messages per second per sender; 0 = as fast as the window allows. */
  ratePerSender: number;
  /** Padding bytes added to each message text. */
  payload: number;
  /** Scan received bytes for probes; off for idle connections (bytes are only counted). */
  scan: boolean;
  /** Size of each connection's read buffer. */
  readBuf: number;
  /** Connections opened at once during setup. */
  connectConcurrency: number;
  /** A stalled window is forced open after this long without progress (ms). */
  stallMs: number;
}

/** Runner → worker commands, one JSON object per stdin line. */
export type WorkerCommand =
  | { cmd: "setup"; plan: WorkerPlan }
  | { cmd: "settle"; quietMs: number; maxMs: number }
  | { cmd: "run"; startUs: number; durationMs: number; drainMs: number; quietMs: number }
  | { cmd: "hold"; ms: number }
  | { cmd: "exit" };

/** The result of one `run` (or `hold`) command. */
export interface WorkerReport {
  /** Messages the senders wrote. */
  sent: number;
  /** Probes received within the measured window. */
  deliveries: number;
  /** Probes received including the drain after the window. */
  deliveriesTotal: number;
  /** Reads that returned bytes during the command. */
  reads: number;
  /** Bytes received during the command. */
  bytes: number;
  /** Reading connections at the start. */
  readers: number;
  /** Reading connections the server closed during the command. */
  closed: number;
  /** Windows forced open after `stallMs` without progress. */
  stalls: number;
  /** Slow connections the server had closed (checked at the end). */
  slowClosed: number;
  /** Probes that reached bystanders (a room's messages leaking out of it: must be 0). */
  leaked: number;
  /** Latency of every received probe (µs). */
  latency: HistogramJson;
  /** Milliseconds the measured window really lasted. */
  elapsedMs: number;
}

/** Every line a worker prints on stdout. */
export type WorkerEvent =
  | { event: "setup"; connected: number; failed: number; ms: number; error?: string }
  | { event: "settled"; ms: number; quiet: boolean }
  | { event: "report"; report: WorkerReport }
  | {
    event: "held";
    open: number;
    closed: number;
    /** Lines the listeners received since setup (counted when `scan` is off). */
    lines: number;
  }
  | { event: "error"; message: string };
