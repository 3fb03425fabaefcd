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
 * @module
 */

/** Where an outbox writes: `Deno.Conn` fits. */
export interface Writer {
  write(bytes: Uint8Array): Promise<number>;
}

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

  get(chunks: Uint8Array[]): Uint8Array {
    if (chunks.length === 1) return chunks[0];
    if (this.#batch && sameBuffers(chunks, this.#chunks)) return this.#batch;
    this.#chunks = chunks;
    this.#batch = concat(chunks);
    return this.#batch;
  }
}

/**
 * Bounded, coalescing write queue.
 *
 * @example
 * ```ts
 * const out = new Outbox(conn, 1 << 20, () => conn.close());
 * out.push(new TextEncoder().encode("hello\n"));
 * await out.drained();
 * ```
 */
export class Outbox {
  #chunks: Uint8Array[] = [];
  /** Bytes queued, including the batch being written. */
  #bytes = 0;
  #scheduled = false;
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

  /** Bytes waiting or being written. */
  get queued(): number {
    return this.#bytes;
  }

  /**
   * Queues `bytes` (not copied: callers share one encoded buffer among many outboxes and never
   * mutate it). Returns false when the outbox is closed or full.
   */
  push(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#bytes + bytes.length > this.maxBytes) {
      this.#fail("overflow");
      return false;
    }
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      schedule(this);
    }
    return true;
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
    this.#wakeDrainWaiters();
  }

  /** Starts writing what is queued, as one batch; called by the scheduler, once per turn. */
  flush(batches: BatchCache): void {
    this.#scheduled = false;
    if (this.#closed || this.#writing || this.#chunks.length === 0) return;
    const batch = batches.get(this.#chunks);
    this.#chunks = [];
    this.#writing = true;
    this.#write(batch, 0);
  }

  /** Writes `batch` from `offset` on; plain callbacks, no async frame per write. */
  #write(batch: Uint8Array, offset: number): void {
    inFlight++;
    this.writer.write(offset === 0 ? batch : batch.subarray(offset)).then(
      (n) => {
        writeDone();
        if (this.#closed) return;
        if (offset + n < batch.length) return this.#write(batch, offset + n);
        this.#bytes -= batch.length;
        this.#writing = false;
        if (this.#chunks.length > 0) {
          // Frames queued while writing go out as one batch, sharing it with the other outboxes
          // whose writes completed in this turn.
          this.#scheduled = true;
          schedule(this);
        } else {
          this.#wakeDrainWaiters();
        }
      },
      (error) => {
        writeDone();
        this.#fail("write_error", error);
      },
    );
  }

  #fail(reason: "overflow" | "write_error", error?: unknown): void {
    if (this.#closed) return;
    this.close();
    this.onFailure(reason, error);
  }

  #wakeDrainWaiters(): void {
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

function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
