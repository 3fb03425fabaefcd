/**
 * A connection's bounded outbound queue. Frames pushed during one turn of the event loop are
 * written together in one `write` (write coalescing), and a reader that stops reading fills its
 * queue and is dropped instead of slowing anyone else down.
 *
 * The hot path is a broadcast: the same frames land in many outboxes in one turn. So one
 * scheduler flushes every outbox that has something to send once per turn, and outboxes whose
 * pending frames are the very same buffers (no backlog of their own) share one concatenated
 * batch instead of each copying it.
 *
 * Pending frames are kept, while they can be, as a range of one shared {@link FrameLog}: an
 * outbox that gets exactly the frames everybody gets (a broadcast, or a storm of them) holds two
 * numbers instead of a list with a pointer per frame, because a pointer per frame per connection
 * is what grows the heap when many connections fall behind at once (figures: docs/BENCHMARKS.md,
 * "Idle memory").
 *
 * @module
 */

import { concat, type Writer } from "../shared/bytes.ts";

/** Outboxes with frames to send and no write in flight, flushed together at the end of a turn. */
let dirty: Outbox[] = [];
let flushScheduled = false;
/** Writes handed to the runtime and not yet completed, over all outboxes. */
let inFlight = 0;
/** Set while a flush waits for the writes in flight to drain. */
let deferred: ReturnType<typeof setTimeout> | undefined;

/**
 * With this many writes in flight the process is busy writing: the next flush waits for them to
 * drain, so that what arrives meanwhile leaves in the same writes (fewer, larger writes under
 * load, which is what keeps latency bounded when one message goes to thousands).
 */
const BUSY_WRITES = 256;
/**
 * The longest a flush waits for quiet. A write that never completes (a peer that stopped reading
 * with its socket buffer full) counts as in flight until that peer is dropped, so many of them
 * can cost others this much latency, never a stall.
 */
const MAX_DEFER_MS = 5;

/**
 * Outboxes holding only frames that may wait (presence lines), flushed together by one timer.
 * When thousands connect at once, each newcomer is announced to everyone: written at once, that
 * is a write per connection per newcomer (n² writes for n), and the writes crowd out accepting
 * the rest. Held back a little, the announcements of all who connected meanwhile leave in one
 * write per connection. A frame that may not wait, pushed behind them, takes them along at once,
 * so the order of what a connection receives never changes.
 */
let lazyDirty: Outbox[] = [];
let lazyTimer: ReturnType<typeof setTimeout> | undefined;
/** Writes the last lazy flush started: the next waits about 10 µs for each (see lazyDelayMs). */
let lazyWrites = 0;
/** The shortest and longest wait of frames that may wait. */
const LAZY_MIN_MS = 10;
const LAZY_MAX_MS = 250;

/**
 * How long frames that may wait are held: long enough that their writes (about 10 µs each, the
 * last lazy flush's count) take at most half of the time, leaving the rest to accepting and
 * serving the connections, within {@link LAZY_MIN_MS} and {@link LAZY_MAX_MS}.
 */
function lazyDelayMs(): number {
  return Math.min(LAZY_MAX_MS, Math.max(LAZY_MIN_MS, lazyWrites * 0.02));
}

function scheduleLazy(outbox: Outbox): void {
  lazyDirty.push(outbox);
  lazyTimer ??= setTimeout(flushLazy, lazyDelayMs());
}

function flushLazy(): void {
  lazyTimer = undefined;
  // Widest runs first, so that the others are views of their batch (BatchCache.range).
  const list = lazyDirty.sort((a, b) => a.runStart - b.runStart);
  lazyDirty = [];
  const batches = new BatchCache();
  let writes = 0;
  for (const outbox of list) if (outbox.flushLazy(batches)) writes++;
  lazyWrites = writes;
}

function schedule(outbox: Outbox): void {
  dirty.push(outbox);
  if (flushScheduled) return;
  flushScheduled = true;
  if (inFlight < BUSY_WRITES) {
    // A microtask runs after the synchronous work of this turn (a whole broadcast) is done.
    queueMicrotask(flushAll);
  } else {
    deferred = setTimeout(flushAll, MAX_DEFER_MS);
  }
}

function writeDone(): void {
  inFlight--;
  if (deferred !== undefined && inFlight < BUSY_WRITES / 4) {
    clearTimeout(deferred);
    deferred = undefined;
    queueMicrotask(flushAll);
  }
}

function flushAll(): void {
  if (!flushScheduled) return;
  deferred = undefined;
  flushScheduled = false;
  const list = dirty;
  dirty = [];
  const batches = new BatchCache();
  for (const outbox of list) outbox.flush(batches);
}

/**
 * Remembers the last concatenation: in a broadcast, outbox after outbox has the same pending
 * frames, so they all get one shared buffer. Lives for one flush only.
 */
export class BatchCache {
  #chunks: Uint8Array[] = [];
  #batch: Uint8Array | undefined;
  #from = -1;
  #to = -1;
  #rangeBatch: Uint8Array | undefined;

  get(chunks: Uint8Array[]): Uint8Array {
    if (chunks.length === 1) return chunks[0];
    if (this.#batch && sameBuffers(chunks, this.#chunks)) return this.#batch;
    this.#chunks = chunks;
    this.#batch = concat(chunks);
    return this.#batch;
  }

  /** Where each frame of `#rangeBatch` starts in it. */
  #offsets: number[] = [];

  /**
   * The frames `from` to `to` (exclusive) of the shared log, as one buffer. Outboxes whose runs
   * end at the same frame but began at different ones (they finished their last writes at
   * different times) get views of one buffer, each from its own first frame: after a connect
   * storm, copying each one's pending announcements on its own cost a copy of nearly all of
   * them per connection.
   */
  range(from: number, to: number): Uint8Array {
    if (to - from === 1) return frameLog.at(from);
    const batch = this.#rangeBatch;
    if (batch && to === this.#to && from >= this.#from) {
      return from === this.#from ? batch : batch.subarray(this.#offsets[from - this.#from]);
    }
    const frames = frameLog.slice(from, to);
    const offsets: number[] = new Array(frames.length);
    let at = 0;
    for (let i = 0; i < frames.length; i++) {
      offsets[i] = at;
      at += frames[i].length;
    }
    this.#from = from;
    this.#to = to;
    this.#offsets = offsets;
    this.#rangeBatch = concat(frames);
    return this.#rangeBatch;
  }
}

/** Frames per segment of the {@link FrameLog}. */
const SEGMENT_BITS = 10;
const SEGMENT = 1 << SEGMENT_BITS;

/**
 * The most bytes of frames the shared log keeps by default. Past it, the runs starting in the
 * oldest segment are copied into lists of their holders' own, so that one outbox whose run stays
 * open (a reader that stopped, while nothing more is sent to it) cannot make the log keep
 * everything sent to everyone else after it.
 */
export const MAX_RETAINED_BYTES = 16 * 1024 * 1024;

/** Whatever holds a run of a {@link FrameLog}: an {@link Outbox}. */
export interface RunHolder {
  /** Copies the run into a list of the holder's own and releases it. */
  detachRun(): void;
}

/**
 * The frames pushed to outboxes, in the order they were first pushed, each once: frame number
 * `seq` is the `seq`-th frame appended. An outbox whose pending frames are a contiguous run of
 * the log keeps only where the run starts and ends. In a broadcast the first outbox appends the
 * frame and every other outbox, finding it last in the log, extends its run. A frame that does
 * not continue an outbox's run (a reply of its own after others appended) turns that run into a
 * list of the outbox's own, as every outbox had before.
 *
 * The log is kept in segments of {@link SEGMENT} frames; each knows the runs starting in it, and
 * leading segments no run starts in are dropped. The last segment, which holds the last frame,
 * always stays. {@link trim} bounds what the log keeps by bytes.
 */
export class FrameLog {
  #segments: Uint8Array[][] = [[]];
  /** The holders of the runs starting in each segment. */
  #holders: Set<RunHolder>[] = [new Set()];
  /** Bytes of the frames in each segment. */
  #sizes: number[] = [0];
  #retainedBytes = 0;
  /**
   * The number of each findable frame (the last one given it, should the same buffer be appended
   * again). Only presence lines: a WeakMap entry per message would cost every message's path.
   */
  #seqOf = new WeakMap<Uint8Array, number>();
  /** The segment number of `#segments[0]`. */
  #first = 0;
  /** The number the next appended frame gets. */
  end = 0;
  /** The last frame appended (kept while any outbox may still extend a run with it). */
  last: Uint8Array | undefined;

  constructor(readonly maxRetainedBytes = MAX_RETAINED_BYTES) {}

  /**
   * Appends `frame`; returns its number. A frame `findable` (a presence line, which may reach
   * outboxes one after the other: {@link find}) is remembered by identity.
   */
  append(frame: Uint8Array, findable = false): number {
    let tail = this.#segments[this.#segments.length - 1];
    if (tail.length === SEGMENT) {
      tail = [];
      this.#segments.push(tail);
      this.#holders.push(new Set());
      this.#sizes.push(0);
    }
    tail.push(frame);
    this.#sizes[this.#sizes.length - 1] += frame.length;
    this.#retainedBytes += frame.length;
    this.last = frame;
    if (findable) this.#seqOf.set(frame, this.end);
    return this.end++;
  }

  /**
   * The number of `frame`, appended findable, if it is in the log still, else -1. A presence
   * announcement that waited in the chat's log (lib/core/presence_feed.ts) reaches users one
   * after the other, each taking all it was missing at once; the frames are then found here, so
   * that every outbox holds them as a run of the shared log rather than as a list of its own.
   */
  find(frame: Uint8Array): number {
    const seq = this.#seqOf.get(frame);
    if (seq === undefined || seq < this.#first << SEGMENT_BITS) return -1;
    return this.at(seq) === frame ? seq : -1;
  }

  /** Frame number `seq`, which a run holds. */
  at(seq: number): Uint8Array {
    return this.#segments[(seq >> SEGMENT_BITS) - this.#first][seq & (SEGMENT - 1)];
  }

  /** Notes that `holder` has a run starting at `seq`: the frames from there on stay. */
  hold(seq: number, holder: RunHolder): void {
    this.#holders[(seq >> SEGMENT_BITS) - this.#first].add(holder);
  }

  /** Notes that `holder`'s run starting at `seq` ended; drops leading segments no run needs. */
  release(seq: number, holder: RunHolder): void {
    const holders = this.#holders[(seq >> SEGMENT_BITS) - this.#first];
    holders.delete(holder);
    if (holders.size === 0) this.#dropUnheld();
  }

  /**
   * Keeps the log within {@link maxRetainedBytes}: the holders of runs in the oldest segments
   * get their runs as lists of their own. Called once the caller's own state is consistent (not
   * from inside {@link append}, whose caller may itself hold a run there).
   */
  trim(): void {
    while (this.#retainedBytes > this.maxRetainedBytes && this.#segments.length > 1) {
      for (const holder of [...this.#holders[0]]) holder.detachRun();
      this.#dropUnheld();
    }
  }

  /** Bytes of the frames kept. */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  #dropUnheld(): void {
    while (this.#segments.length > 1 && this.#holders[0].size === 0) {
      this.#retainedBytes -= this.#sizes[0];
      this.#segments.shift();
      this.#holders.shift();
      this.#sizes.shift();
      this.#first++;
    }
  }

  /** Frames still held (those of the kept segments). */
  get retained(): number {
    return this.end - (this.#first << SEGMENT_BITS);
  }

  /** Frames `from` to `to` (exclusive) as a list. */
  slice(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let seq = from; seq < to; seq++) out.push(this.at(seq));
    return out;
  }
}

/** The one log every outbox of the process shares. */
const frameLog = new FrameLog();

/**
 * Bounded, coalescing write queue.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 8888 });
 * const out = new Outbox(conn, 1 << 20, () => conn.close());
 * out.push(new TextEncoder().encode("hello\n"));
 * await out.drained();
 * ```
 */
export class Outbox implements RunHolder {
  /** Pending frames of the outbox's own; empty while they are a run of the shared log. */
  #chunks: Uint8Array[] = [];
  /** Pending frames as a run of the shared log, `#from` to `#to` exclusive; -1: none. */
  #from = -1;
  #to = -1;
  /** Bytes queued, including the batch being written. */
  #bytes = 0;
  #scheduled = false;
  /** On the list of outboxes whose frames may wait ({@link scheduleLazy}). */
  #lazyQueued = false;
  /** Something pending may not wait: flush it (and all before it) this turn. */
  #urgent = false;
  #writing = false;
  #closed = false;
  #drainWaiters: (() => void)[] = [];

  constructor(
    readonly writer: Writer,
    /** The most bytes that may wait; pushing past it calls `onFailure`. */
    readonly maxBytes: number,
    /** Called once when the queue overflows or a write fails; should close the connection. */
    readonly onFailure: (reason: "overflow" | "write_error", error?: unknown) => void,
  ) {}

  /** The first frame of the pending run of the shared log (-1: none). */
  get runStart(): number {
    return this.#from;
  }

  /** Bytes waiting or being written. */
  get queued(): number {
    return this.#bytes;
  }

  /**
   * Queues `bytes` (not copied: callers share one encoded buffer among many outboxes and never
   * mutate it). Returns false when the outbox is closed or full. `mayWait` frames (presence
   * lines) may be held back a few milliseconds to leave together with others; anything pushed
   * after them takes them along. A frame `forMeAlone` (a reply) is kept out of the shared log:
   * appended there, it would end the runs of every other outbox (they do not get it), and each
   * would then copy its pending frames into a list of its own.
   */
  push(bytes: Uint8Array, mayWait = false, forMeAlone = false): boolean {
    if (this.#closed) return false;
    if (this.#bytes + bytes.length > this.maxBytes) {
      this.#fail("overflow");
      return false;
    }
    if (this.#chunks.length > 0) this.#chunks.push(bytes);
    else if (forMeAlone) {
      this.detachRun();
      this.#chunks.push(bytes);
    } else {
      this.#pushToRun(bytes, mayWait);
      frameLog.trim();
    }
    this.#bytes += bytes.length;
    if (!mayWait) this.#urgent = true;
    if (!this.#writing) this.#schedule();
    return true;
  }

  /** Has pending frames flushed this turn, or with the frames that may wait. */
  #schedule(): void {
    if (this.#urgent) {
      if (this.#scheduled) return;
      this.#scheduled = true;
      schedule(this);
    } else if (!this.#lazyQueued && !this.#scheduled) {
      this.#lazyQueued = true;
      scheduleLazy(this);
    }
  }

  /** Flushes frames that waited, unless a flush is due this turn anyway; true if it wrote. */
  flushLazy(batches: BatchCache): boolean {
    this.#lazyQueued = false;
    if (this.#scheduled || this.#writing || this.#closed) return false;
    this.flush(batches);
    return this.#writing;
  }

  /** Resolves once everything queued so far has been written (or the outbox failed). */
  drained(): Promise<void> {
    if (this.#bytes === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Stops accepting frames; what is queued is dropped. */
  close(): void {
    this.#closed = true;
    this.#chunks = [];
    this.#endRun();
    this.#wakeDrainWaiters();
  }

  /** Starts writing what is queued, as one batch; called by the scheduler, once per turn. */
  flush(batches: BatchCache): void {
    this.#scheduled = false;
    if (this.#closed || this.#writing) return;
    this.#urgent = false;
    let batch: Uint8Array;
    if (this.#from >= 0) {
      batch = batches.range(this.#from, this.#to);
      this.#endRun();
    } else if (this.#chunks.length > 0) {
      batch = batches.get(this.#chunks);
      this.#chunks = [];
    } else {
      return;
    }
    this.#writing = true;
    this.#batch = batch;
    this.#offset = 0;
    this.#write();
  }

  /** The batch being written, and how much of it is written. */
  #batch: Uint8Array | undefined;
  #offset = 0;

  /** Writes the rest of `#batch`; the callbacks are made once per outbox, not per write. */
  #write(): void {
    inFlight++;
    const batch = this.#batch!;
    const offset = this.#offset;
    this.writer.write(offset === 0 ? batch : batch.subarray(offset)).then(
      this.#written,
      this.#writeFailed,
    );
  }

  readonly #written = (n: number): void => {
    writeDone();
    if (this.#closed) return;
    const batch = this.#batch!;
    this.#offset += n;
    if (this.#offset < batch.length) return this.#write();
    this.#batch = undefined;
    this.#bytes -= batch.length;
    this.#writing = false;
    if (this.#from >= 0 || this.#chunks.length > 0) {
      // Frames queued while writing go out as one batch, sharing it with the other outboxes
      // whose writes completed in this turn (or with the next frames that may wait).
      this.#schedule();
    } else {
      this.#wakeDrainWaiters();
    }
  };

  readonly #writeFailed = (error: unknown): void => {
    writeDone();
    this.#batch = undefined;
    this.#fail("write_error", error);
  };

  /**
   * Queues `bytes` (nothing else pending of the outbox's own) as part of a run of the shared log:
   * starts a run, extends it when `bytes` is the frame that follows the run in the log (appended
   * by another outbox) or appends it when the run reaches the log's end, and otherwise turns the
   * run into a list.
   */
  #pushToRun(bytes: Uint8Array, findable: boolean): void {
    const log = frameLog;
    const end = log.end;
    if (this.#from < 0) {
      if (log.last === bytes) this.#from = end - 1;
      else {
        const seq = findable ? log.find(bytes) : -1;
        this.#from = seq >= 0 ? seq : log.append(bytes, findable);
      }
      this.#to = this.#from + 1;
      log.hold(this.#from, this);
    } else if (this.#to < end && log.at(this.#to) === bytes) {
      this.#to++;
    } else if (this.#to === end) {
      log.append(bytes, findable);
      this.#to = end + 1;
    } else {
      const chunks = log.slice(this.#from, this.#to);
      chunks.push(bytes);
      this.#endRun();
      this.#chunks = chunks;
    }
  }

  /** Turns the pending run into a list of the outbox's own; called by the frame log's trim. */
  detachRun(): void {
    if (this.#from < 0) return;
    const chunks = frameLog.slice(this.#from, this.#to);
    this.#endRun();
    this.#chunks = chunks;
  }

  #endRun(): void {
    if (this.#from < 0) return;
    frameLog.release(this.#from, this);
    this.#from = -1;
    this.#to = -1;
  }

  #fail(reason: "overflow" | "write_error", error?: unknown): void {
    if (this.#closed) return;
    this.close();
    this.onFailure(reason, error);
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

function sameBuffers(a: Uint8Array[], b: Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
