/**
 * @module line_splitter
 *
 * Turns a stream of byte chunks into text lines with a hard per-line byte limit. This is the hot
 * path for every byte a client sends, so it scans with `indexOf`, decodes complete lines straight
 * out of the caller's chunk when it can, and only copies the unterminated tail. The tail buffer
 * never holds more than `maxLineBytes + 1` bytes, so a client that never sends a newline cannot
 * make the server buffer more than that.
 *
 * When a line exceeds the limit, `push` still returns the complete lines that came before it and
 * sets {@link LineSplitter.overflowed}; the caller handles those lines, then checks the flag and
 * closes the connection. Any later `push` throws {@link LineTooLongError}.
 */

import { formatBytes } from "../shared/units.ts";

const LF = 10;
const CR = 13;

/**
 * A tail buffer bigger than this is dropped once its line completes, so that one long line does
 * not pin `maxLineBytes` of memory per idle connection for the rest of the connection.
 */
const KEEP_BUFFER_BYTES = 1024;

/**
 * One decoder for every splitter: decoding is stateless here because only complete lines are
 * decoded. The default BOM handling strips a U+FEFF at the start of a line, so a client that
 * writes a BOM before its first line does not get it glued onto its first command.
 */
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Thrown by {@link LineSplitter.push} when it is called again after a line exceeded the limit
 * (see {@link LineSplitter.overflowed}).
 *
 * @example
 * ```ts
 * import { LineSplitter, LineTooLongError } from "./line_splitter.ts";
 *
 * const splitter = new LineSplitter(4);
 * splitter.push(new TextEncoder().encode("hello\n")); // [], and splitter.overflowed is true
 * try {
 *   splitter.push(new TextEncoder().encode("ok\n"));
 * } catch (err) {
 *   if (err instanceof LineTooLongError) console.log(err.code, err.limit); // "line_too_long" 4
 * }
 * ```
 */
export class LineTooLongError extends Error {
  /** Stable machine-readable code, suitable for sending to the client. */
  readonly code = "line_too_long";

  /** @param limit the `maxLineBytes` that was exceeded */
  constructor(readonly limit: number) {
    super(`a line longer than ${formatBytes(limit)}`);
    this.name = "LineTooLongError";
  }
}

/**
 * Splits incoming bytes on "\n" (dropping an optional "\r" before it) into UTF-8 decoded lines,
 * skipping empty lines and enforcing a maximum line length in bytes.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./line_splitter.ts";
 *
 * const splitter = new LineSplitter(8192);
 * const enc = new TextEncoder();
 * splitter.push(enc.encode("hel")); // []
 * splitter.push(enc.encode("lo\r\nworld\n")); // ["hello", "world"]
 * ```
 */
export class LineSplitter {
  readonly #max: number;
  /** Holds the unterminated tail; only `#buf[0, #len)` is meaningful. */
  #buf: Uint8Array = new Uint8Array(0);
  #len = 0;
  #failed = false;

  /**
   * @param maxLineBytes largest allowed line in bytes, not counting its "\n" or "\r\n"
   *
   * @example
   * ```ts
   * import { LineSplitter } from "./line_splitter.ts";
   *
   * const splitter = new LineSplitter(8192);
   * ```
   */
  constructor(maxLineBytes: number) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer; got ${maxLineBytes}`);
    }
    this.#max = maxLineBytes;
  }

  /**
   * Bytes currently buffered for an incomplete line.
   *
   * @example
   * ```ts
   * import { LineSplitter } from "./line_splitter.ts";
   *
   * const splitter = new LineSplitter(100);
   * splitter.push(new TextEncoder().encode("abc"));
   * splitter.pending; // 3
   * ```
   */
  get pending(): number {
    return this.#len;
  }

  /**
   * Whether a line has exceeded the limit. Once true it stays true, nothing more is buffered, and
   * every later {@link push} throws {@link LineTooLongError}; the caller should handle the lines
   * the overflowing `push` returned and then close the connection.
   *
   * @example
   * ```ts
   * import { LineSplitter } from "./line_splitter.ts";
   *
   * const splitter = new LineSplitter(4);
   * splitter.push(new TextEncoder().encode("ok\ntoo long\n")); // ["ok"]
   * splitter.overflowed; // true
   * ```
   */
  get overflowed(): boolean {
    return this.#failed;
  }

  /**
   * Feeds a chunk and returns the complete, non-empty lines it finishes. The chunk is not
   * retained, so the caller may reuse it after this returns.
   *
   * When a line exceeds the limit, it stops there: it returns the lines that were complete before
   * the offending one (possibly none), drops everything after, and sets {@link overflowed}. Every
   * later call throws {@link LineTooLongError}, because the caller is expected to close the
   * connection.
   *
   * @example
   * ```ts
   * import { LineSplitter } from "./line_splitter.ts";
   *
   * const splitter = new LineSplitter(8192);
   * splitter.push(new TextEncoder().encode("a\n\nb\r\nc")); // ["a", "b"]
   * splitter.pending; // 1
   * ```
   */
  push(chunk: Uint8Array): string[] {
    if (this.#failed) throw new LineTooLongError(this.#max);
    const lines: string[] = [];
    let start = 0;
    let nl = chunk.indexOf(LF);

    if (this.#len > 0) {
      if (nl === -1) {
        this.#appendTail(chunk, 0);
        return lines;
      }
      // The buffered tail plus the chunk's first segment make one line.
      const lastByte = nl > 0 ? chunk[nl - 1] : this.#buf[this.#len - 1];
      const contentLen = this.#len + nl - (lastByte === CR ? 1 : 0);
      if (contentLen > this.#max) return this.#overflow(lines);
      this.#reserve(this.#len + nl);
      this.#buf.set(chunk.subarray(0, nl), this.#len);
      if (contentLen > 0) lines.push(decoder.decode(this.#buf.subarray(0, contentLen)));
      this.#len = 0;
      if (this.#buf.length > KEEP_BUFFER_BYTES) this.#buf = new Uint8Array(0);
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }

    while (nl !== -1) {
      const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
      if (end - start > this.#max) return this.#overflow(lines);
      if (end > start) lines.push(decoder.decode(chunk.subarray(start, end)));
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }

    if (start < chunk.length) this.#appendTail(chunk, start);
    return lines;
  }

  /**
   * Buffers `chunk[from..]`, which contains no "\n", after checking the bound; if the bound is
   * exceeded, buffers nothing and marks the splitter overflowed instead.
   */
  #appendTail(chunk: Uint8Array, from: number): void {
    const added = chunk.length - from;
    if (added === 0) return;
    const total = this.#len + added;
    // One byte over the limit is tolerated only if it is a "\r" that a "\n" may yet follow.
    if (total > this.#max + 1 || (total === this.#max + 1 && chunk[chunk.length - 1] !== CR)) {
      this.#overflow();
      return;
    }
    this.#reserve(total);
    this.#buf.set(from === 0 ? chunk : chunk.subarray(from), this.#len);
    this.#len = total;
  }

  /** Grows the tail buffer geometrically so byte-at-a-time input stays linear overall. */
  #reserve(needed: number): void {
    if (needed <= this.#buf.length) return;
    const capacity = Math.min(this.#max + 1, Math.max(needed, this.#buf.length * 2, 64));
    const grown = new Uint8Array(capacity);
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  /** Marks the splitter overflowed, frees the tail, and returns `lines` for the caller. */
  #overflow(lines: string[] = []): string[] {
    this.#failed = true;
    this.#buf = new Uint8Array(0);
    this.#len = 0;
    return lines;
  }
}
