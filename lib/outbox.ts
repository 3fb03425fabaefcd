/**
 * A connection's bounded outbound queue. Frames pushed during one turn of the event loop are
 * written together in one `write` (write coalescing), and a reader that stops reading fills its
 * queue and is dropped instead of slowing anyone else down.
 *
 * @module
 */

/** Where an outbox writes: `Deno.Conn` fits. */
export interface Writer {
  write(bytes: Uint8Array): Promise<number>;
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
    /** The most bytes that may wait; pushing past it calls `onOverflow`. */
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
      // Wait for the rest of this turn's frames so they leave in one write.
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
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

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#writing = true;
    try {
      while (this.#chunks.length > 0 && !this.#closed) {
        const batch = this.#chunks.length === 1 ? this.#chunks[0] : concat(this.#chunks);
        this.#chunks = [];
        let offset = 0;
        while (offset < batch.length) offset += await this.writer.write(batch.subarray(offset));
        this.#bytes -= batch.length;
      }
    } catch (error) {
      this.#fail("write_error", error);
    } finally {
      this.#writing = false;
    }
    if (this.#chunks.length === 0) this.#wakeDrainWaiters();
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
