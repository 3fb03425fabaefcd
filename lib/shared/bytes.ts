/**
 * Byte buffers: joining chunks into one, and writing a whole buffer to a writer that may take it
 * in pieces (a socket's `write` returns how much it took, which can be less than all).
 *
 * @example
 * ```ts
 * import { concat } from "./bytes.ts";
 * concat([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 * @module
 */

/** The chunks copied, in order, into one new buffer. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
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

/** Something `write` can be called on until it has taken every byte (a `Deno.Conn`). */
export interface Writer {
  write(bytes: Uint8Array): Promise<number>;
}

/** Something `writeSync` can be called on until it has taken every byte (`Deno.stdout`). */
export interface SyncWriter {
  writeSync(bytes: Uint8Array): number;
}

/** Writes all of `bytes`, however many `write` calls it takes. */
export async function writeAll(writer: Writer, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await writer.write(bytes.subarray(off));
}

/** Writes all of `bytes`, however many `writeSync` calls it takes. */
export function writeAllSync(writer: SyncWriter, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += writer.writeSync(bytes.subarray(off));
}

/**
 * Received chunks (WebSocket messages, say) read out as one byte stream, in order, into whatever
 * buffer the reader offers: a chunk larger than the buffer is read across several calls.
 *
 * @example
 * ```ts
 * import { ChunkQueue } from "./bytes.ts";
 *
 * const q = new ChunkQueue();
 * q.push(new TextEncoder().encode("hello\n"));
 * const buf = new Uint8Array(4);
 * q.readInto(buf); // 4: "hell"; the next call gives "o\n"
 * ```
 */
export class ChunkQueue {
  readonly #chunks: Uint8Array[] = [];
  /** How much of the first chunk has been read. */
  #offset = 0;

  /** Adds `chunk` (not copied) behind what is queued. */
  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
  }

  /** True when nothing is left to read. */
  get empty(): boolean {
    return this.#chunks.length === 0;
  }

  /** Moves as many queued bytes as fit into `p`; returns how many. */
  readInto(p: Uint8Array): number {
    let n = 0;
    while (n < p.length && this.#chunks.length > 0) {
      const head = this.#chunks[0];
      const take = Math.min(p.length - n, head.length - this.#offset);
      p.set(head.subarray(this.#offset, this.#offset + take), n);
      n += take;
      this.#offset += take;
      if (this.#offset === head.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    return n;
  }
}
