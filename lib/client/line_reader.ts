/**
 * Splits a byte stream into lines with a hard cap on line length, so a peer that never sends a
 * newline cannot make the client buffer without bound.
 *
 * @example
 * ```ts
 * import { readLines } from "./line_reader.ts";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 8888 });
 * for await (const line of readLines(conn.readable, 1024 * 1024)) console.log(line);
 * ```
 * @module
 */

import { LineTooLongError } from "../protocol/line_splitter.ts";

const LF = 0x0a;
const CR = 0x0d;

/**
 * Yields each `\n`-terminated line (without `\n` and a `\r` before it), decoded as UTF-8 with
 * invalid bytes replaced by U+FFFD. A final line without terminator is yielded at end of stream.
 * Throws {@linkcode LineTooLongError} once a line exceeds `maxBytes` (`\r\n` excluded).
 */
export async function* readLines(
  readable: ReadableStream<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = readable.getReader();
  // Bytes of the line in progress, kept as chunks so the cap is checked without copying.
  let parts: Uint8Array[] = [];
  let partLen = 0;
  const finish = (tail: Uint8Array): string => {
    let bytes = tail;
    if (parts.length > 0) {
      bytes = new Uint8Array(partLen + tail.length);
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
      bytes.set(tail, at);
      parts = [];
      partLen = 0;
    }
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR
      ? bytes.length - 1
      : bytes.length;
    if (end > maxBytes) throw new LineTooLongError(maxBytes);
    return decoder.decode(bytes.subarray(0, end));
  };
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      while (start < value.length) {
        const nl = value.indexOf(LF, start);
        const end = nl === -1 ? value.length : nl;
        // +1: a CR before the LF is not part of the line.
        if (partLen + end - start > maxBytes + 1) throw new LineTooLongError(maxBytes);
        if (nl === -1) {
          // Copy: the stream may reuse its chunk buffer.
          parts.push(value.slice(start));
          partLen += value.length - start;
          break;
        }
        yield finish(value.subarray(start, nl));
        start = nl + 1;
      }
    }
    if (partLen > 0) yield finish(new Uint8Array());
  } finally {
    reader.releaseLock();
  }
}
