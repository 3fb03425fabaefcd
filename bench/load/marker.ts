/**
 * The probe each benchmark message carries in its text, `~b<sender>.<seq>.<sendUs>~`, and a
 * byte scanner that finds probes in received chunks without decoding or JSON-parsing them.
 *
 * The probe survives both dialects unchanged (no characters JSON escapes or the server
 * strips) and, since it is matched anywhere in a line, also survives the Go original
 * merging two reads into one multi-line message.
 *
 * @module
 */

const TILDE = 0x7e;
const LOWER_B = 0x62;
const DOT = 0x2e;
const ZERO = 0x30;

/** Microseconds on a clock shared by all processes of this machine (epoch-based). */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The probe text for message `seq` of sender `sender`, sent at `sendUs`. */
export function probe(sender: number, seq: number, sendUs: number): string {
  return `~b${sender}.${seq}.${sendUs}~`;
}

/** Called once per probe found: who sent it, its sequence number and its send time. */
export type ProbeSink = (sender: number, seq: number, sendUs: number) => void;

/**
 * Scans `buf[0, end)` for probes and calls `sink` for each complete one.
 * Returns the offset of an incomplete probe at the end of the buffer (the caller carries
 * those bytes over to the next read), or `end` when nothing is pending.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("[a], b:~b1.2.3~\n");
 * scanProbes(bytes, bytes.length, (s, q, t) => console.log(s, q, t)); // 1 2 3
 * ```
 */
export function scanProbes(buf: Uint8Array, end: number, sink: ProbeSink): number {
  const view = end === buf.length ? buf : buf.subarray(0, end);
  let i = view.indexOf(TILDE);
  while (i >= 0) {
    if (i + 1 >= end) return i; // a lone "~" at the end may start a probe
    if (view[i + 1] !== LOWER_B) {
      i = view.indexOf(TILDE, i + 1);
      continue;
    }
    // Three decimal fields separated by dots, closed by "~".
    let j = i + 2;
    let field = 0;
    let a = 0, b = 0, v = 0; // v accumulates the current field; a and b hold finished ones
    let digits = 0;
    let ok = false;
    for (; j < end; j++) {
      const c = view[j];
      const d = c - ZERO;
      if (d >= 0 && d <= 9) {
        v = v * 10 + d;
        digits++;
      } else if (c === DOT && field < 2 && digits > 0) {
        if (field === 0) a = v;
        else b = v;
        v = 0;
        field++;
        digits = 0;
      } else {
        ok = c === TILDE && field === 2 && digits > 0;
        break;
      }
    }
    if (j >= end) return i; // probe cut by the end of the chunk
    if (ok) {
      sink(a, b, v);
      i = view.indexOf(TILDE, j + 1);
    } else {
      i = view.indexOf(TILDE, j);
    }
  }
  return end;
}
