/**
 * @module sanitize
 *
 * Makes untrusted text safe to print on a terminal. Chat messages and names come from other
 * users, and a raw escape sequence could clear a reader's screen, retitle their window, rewrite
 * earlier lines or (through bidi overrides) make text read differently than it is stored. This
 * module strips whole escape sequences first, so their parameters do not leak through as visible
 * garbage, and then every remaining control character except TAB. It is a single left-to-right
 * scan, so hostile input cannot trigger regex backtracking.
 */

/**
 * Every character that starts or is something to strip. Text without any of them, the common
 * case, is returned untouched after one regex test.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the whole point here
const SUSPECT = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
// deno-lint-ignore no-control-regex -- same set, global so the scan can jump between hits
const SUSPECT_G = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

const BEL = 0x07;
const ESC = 0x1b;
const BACKSLASH = 0x5c;
const C1_DCS = 0x90;
const C1_SOS = 0x98;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
const C1_OSC = 0x9d;
const C1_PM = 0x9e;
const C1_APC = 0x9f;

/**
 * Removes terminal escape sequences, control characters (except TAB) and bidi override/isolate
 * controls from `s`. An unterminated sequence is removed to the end of the string.
 *
 * @example
 * ```ts
 * import { sanitizeText } from "./sanitize.ts";
 *
 * sanitizeText("\x1b]0;pwned\x07hi \x1b[31mthere\x1b[0m"); // "hi there"
 * sanitizeText("a\tb\u202ec"); // "a\tbc"
 * ```
 */
export function sanitizeText(s: string): string {
  if (!SUSPECT.test(s)) return s;
  let out = "";
  let kept = 0; // start of the text not yet copied to `out`
  SUSPECT_G.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = SUSPECT_G.exec(s)) !== null) {
    const at = match.index;
    out += s.slice(kept, at);
    kept = skipSequence(s, at);
    SUSPECT_G.lastIndex = kept;
  }
  return out + s.slice(kept);
}

/**
 * `s` on one line: each line break (CRLF, CR or LF) becomes a space, so text from an HTTP body or
 * a bridge cannot end a line of a line protocol.
 *
 * @example
 * ```ts
 * import { lineBreaksToSpaces } from "./sanitize.ts";
 *
 * lineBreaksToSpaces("one\r\ntwo\nthree"); // "one two three"
 * ```
 */
export function lineBreaksToSpaces(s: string): string {
  return s.replace(/\r\n|\r|\n/g, " ");
}

/** Returns the index just past the sequence or control character that starts at `i`. */
function skipSequence(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === ESC) return skipEscape(s, i + 1);
  if (c === C1_CSI) return skipCsi(s, i + 1);
  if (c === C1_OSC) return skipString(s, i + 1, true);
  if (c === C1_DCS || c === C1_SOS || c === C1_PM || c === C1_APC) {
    return skipString(s, i + 1, false);
  }
  return i + 1; // a lone control character, DEL or bidi control
}

/** `i` is just past an ESC. */
function skipEscape(s: string, i: number): number {
  if (i >= s.length) return i;
  const c = s.charCodeAt(i);
  if (c === 0x5b /* [ */) return skipCsi(s, i + 1);
  if (c === 0x5d /* ] */) return skipString(s, i + 1, true);
  if (c === 0x50 /* P */ || c === 0x58 /* X */ || c === 0x5e /* ^ */ || c === 0x5f /* _ */) {
    return skipString(s, i + 1, false);
  }
  // Other escapes are intermediates (0x20-0x2F) then one final byte (0x30-0x7E), e.g. "ESC c"
  // or the three-character charset switch "ESC ( 0"; anything else ends the sequence early.
  while (i < s.length && s.charCodeAt(i) >= 0x20 && s.charCodeAt(i) <= 0x2f) i++;
  if (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x7e) i++;
  return i;
}

/**
 * `i` is just past CSI. Terminals swallow everything up to a final byte (0x40-0x7E), even bytes
 * that are not valid parameters, so this does the same to leave no visible residue.
 */
function skipCsi(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i++);
    if (c >= 0x40 && c <= 0x7e) return i;
  }
  return i;
}

/**
 * `i` is just past the opener of an OSC, DCS, SOS, PM or APC string, which runs to ST ("ESC \"
 * or U+009C); OSC also ends at BEL, as xterm allows. An ESC not followed by "\" ends the string
 * without being consumed, because terminals treat it as the start of a new sequence.
 */
function skipString(s: string, i: number, belEnds: boolean): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === ESC) return s.charCodeAt(i + 1) === BACKSLASH ? i + 2 : i;
    if (c === C1_ST || (belEnds && c === BEL)) return i + 1;
    i++;
  }
  return i;
}
