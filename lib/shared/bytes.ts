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
