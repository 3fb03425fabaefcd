/**
 * Fuzz targets for everything that reads what clients send: the line splitter, both codecs'
 * parsers, the IRC parser and serializer, the encoders on events built from hostile text, and the chat core under random
 * sequences of joins, messages, renames and leaves. Every iteration draws from its own seeded
 * PRNG, so a failure names a seed and an iteration that reproduce it exactly. The only exception
 * allowed out of a target is a documented protocol error ({@link LineTooLongError}, thrown by a
 * splitter pushed after it overflowed).
 *
 * `tests/fuzz_test.ts` runs a short fixed-seed pass; `deno task fuzz` runs a long one.
 *
 * @module
 */

import { ChatCore } from "../../lib/core/chat.ts";
import type { ChatEvent, ErrorCode } from "../../lib/protocol/events.ts";
import { jsonCodec, parseHello, parseJsonLine } from "../../lib/protocol/json_codec.ts";
import { LineSplitter, LineTooLongError } from "../../lib/protocol/line_splitter.ts";
import { nameKey } from "../../lib/shared/names.ts";
import type { Reply, Request } from "../../lib/protocol/requests.ts";
import { parseTextLine, textCodec } from "../../lib/protocol/text_codec.ts";
import type { Peer, User } from "../../lib/core/user.ts";
import { formatIrcLine, parseIrcLine } from "../../lib/protocol/irc_message.ts";

/**
 * The mulberry32 PRNG: tiny, fast, and good enough to drive a fuzzer reproducibly.
 *
 * @example
 * ```ts
 * const next = mulberry32(42);
 * next(); // a float in [0, 1)
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random choices for one iteration. */
export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  float(): number {
    return this.#next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** A length skewed towards short, now and then long. */
  length(max: number): number {
    const r = this.float();
    return Math.floor(r * r * r * max);
  }
}

/** Nasty pieces that random characters rarely hit. */
const PIECES = [
  "\n",
  "\r",
  "\r\n",
  "|",
  "to|",
  "rename|",
  "who",
  "history|",
  "login|",
  "register|",
  ":",
  "\t",
  "\0",
  "\x1b[2J",
  "\x1b]0;title\x07",
  "\x1bP",
  "\x9b31m",
  "\x9d",
  "\u202e",
  "\u2066",
  "\u2028",
  "\ufeff",
  "\ufffd",
  "\ud800",
  "\udfff",
  "😀",
  "e\u0301",
  "İ",
  "ß",
  "ﬀ",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  '"',
  "\\",
  "{",
  "}",
  "[",
  "]",
  "null",
  "1e400",
  "-0",
  "9007199254740993",
];

const KEYS = [
  "type",
  "id",
  "text",
  "to",
  "name",
  "version",
  "client",
  "password",
  "limit",
  "before",
  "msgIds",
  "old",
  "new",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "",
];

const TYPES = [
  "hello",
  "say",
  "msg",
  "who",
  "rename",
  "ping",
  "quit",
  "history",
  "register",
  "login",
  "passwd",
  "ack",
  "nope",
  "__proto__",
  "",
];

/** A string mixing ASCII, any code unit, and the nasty pieces. */
export function fuzzString(rng: Rng, max = 64): string {
  const n = rng.length(max);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.float();
    if (r < 0.4) s += String.fromCharCode(0x20 + rng.int(0x5f));
    else if (r < 0.6) s += rng.pick(PIECES);
    else if (r < 0.7) s += String.fromCharCode(rng.int(0x100));
    else if (r < 0.9) s += String.fromCharCode(rng.int(0x10000));
    else s += String.fromCodePoint(rng.int(0x110000));
  }
  return s;
}

/** A JSON value of any shape: wrong types, huge numbers, odd keys, some nesting. */
export function fuzzJsonValue(rng: Rng, depth = 0): unknown {
  const r = rng.int(depth > 4 ? 6 : 8);
  switch (r) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -0, 1, -1, 1.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, 7]);
    case 3:
    case 4:
      return fuzzString(rng, 40);
    case 5:
      return rng.pick(TYPES);
    case 6:
      return Array.from({ length: rng.int(4) }, () => fuzzJsonValue(rng, depth + 1));
    default:
      return fuzzFrameObject(rng, depth + 1);
  }
}

function fuzzFrameObject(rng: Rng, depth: number): Record<string, unknown> {
  // Object.create(null) so that a "__proto__" key is an own key that JSON.stringify writes out.
  const o: Record<string, unknown> = Object.create(null);
  if (rng.chance(0.8)) o.type = rng.chance(0.8) ? rng.pick(TYPES) : fuzzJsonValue(rng, depth);
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    const key = rng.chance(0.8) ? rng.pick(KEYS) : fuzzString(rng, 10);
    o[key] = fuzzJsonValue(rng, depth);
  }
  return o;
}

/** One line a hostile client might send: JSON-ish, text-ish, deep, huge, or mangled. */
export function fuzzLine(rng: Rng): string {
  switch (rng.int(8)) {
    case 0:
    case 1: {
      let s = JSON.stringify(fuzzFrameObject(rng, 0));
      if (rng.chance(0.3)) s = mutate(rng, s);
      return s;
    }
    case 2: {
      // Deep nesting, beyond any sane frame.
      const depth = 1 + rng.int(rng.chance(0.1) ? 100_000 : 2000);
      const [open, close] = rng.pick([["[", "]"], ['{"a":', "}"], ['{"type":', "}"]]);
      const tail = rng.chance(0.5) ? close.repeat(depth) : close.repeat(rng.int(depth));
      return open.repeat(depth) + (rng.chance(0.5) ? "1" : "") + tail;
    }
    case 3: {
      // Huge numbers and numeric edge cases in known fields.
      const num = rng.pick([
        "1e400",
        "-1e400",
        "1" + "0".repeat(rng.int(5000)),
        "0." + "0".repeat(rng.int(500)) + "1",
        "-0",
        "9007199254740993",
        "1.7976931348623157e308",
        "NaN",
        "Infinity",
      ]);
      const field = rng.pick(["version", "id", "limit", "before", "msgIds"]);
      const value = field === "msgIds" ? `[${num},${num}]` : num;
      return `{"type":"${rng.pick(TYPES)}","${field}":${value}}`;
    }
    case 4:
      // A very long string field.
      return JSON.stringify({
        type: rng.pick(TYPES),
        text: "x".repeat(rng.int(20_000)),
        name: fuzzString(rng, 200),
        to: fuzzString(rng, 200),
        id: rng.chance(0.5) ? "i".repeat(rng.int(300)) : rng.int(1000),
      });
    case 5:
      return rng.pick(["to|", "rename|", "history|", "login|", "passwd|", "register|", ""]) +
        fuzzString(rng, 100);
    default:
      return fuzzString(rng, 200);
  }
}

function mutate(rng: Rng, s: string): string {
  const at = rng.int(s.length + 1);
  switch (rng.int(4)) {
    case 0:
      return s.slice(0, at); // truncated
    case 1:
      return s.slice(0, at) + fuzzString(rng, 8) + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + rng.int(8));
    default:
      return s.slice(0, at) + rng.pick(PIECES) + s.slice(at);
  }
}

/** Random bytes, or a UTF-8 encoding cut or corrupted in the middle of characters. */
export function fuzzBytes(rng: Rng): Uint8Array {
  if (rng.chance(0.3)) {
    const bytes = new Uint8Array(rng.length(4000));
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = rng.chance(0.05) ? 10 : rng.chance(0.02) ? 13 : rng.int(256);
    }
    return bytes;
  }
  const lines = Array.from({ length: 1 + rng.int(6) }, () => fuzzLine(rng));
  const bytes = new TextEncoder().encode(lines.join(rng.pick(["\n", "\r\n", "\n\n"])));
  // Truncate or corrupt inside multi-byte characters.
  for (let i = rng.int(4); i > 0 && bytes.length > 0; i--) {
    bytes[rng.int(bytes.length)] = rng.pick([0x80, 0xbf, 0xc0, 0xe2, 0xf0, 0xff, 0x0a]);
  }
  return bytes.subarray(0, rng.chance(0.3) ? rng.int(bytes.length + 1) : bytes.length);
}

/** A fuzzing failure, naming what reproduces it. */
export class FuzzFailure extends Error {
  override name = "FuzzFailure";
}

function check(cond: unknown, what: string, input: unknown): asserts cond {
  if (!cond) {
    const shown = JSON.stringify(input, (_k, v) => v instanceof Uint8Array ? [...v] : v);
    throw new FuzzFailure(
      `${what}; input: ${shown.length > 600 ? shown.slice(0, 600) + "…" : shown}`,
    );
  }
}

// deno-lint-ignore no-control-regex -- the characters no delivered text may contain
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

const ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "bad_json",
  "bad_request",
  "bad_format",
  "unknown_type",
  "version_unsupported",
]);

const REQUEST_TYPES = new Set([...TYPES.slice(1, 12), "invalid"]);

function checkRequest(r: Request, line: string): void {
  check(REQUEST_TYPES.has(r.type), `unexpected request type ${JSON.stringify(r.type)}`, line);
  if (r.type === "invalid") {
    check(ERROR_CODES.has(r.code), `unexpected error code ${r.code}`, line);
    check(typeof r.message === "string" && r.message.length > 0, "empty error message", line);
  }
  if (r.id !== undefined) {
    check(
      (typeof r.id === "string" && r.id.length <= 128) ||
        (typeof r.id === "number" && Number.isFinite(r.id)),
      "bad id passed through",
      line,
    );
  }
  for (const [k, v] of Object.entries(r)) {
    if (k === "msgIds") {
      check(Array.isArray(v) && v.every(Number.isSafeInteger), "msgIds not integers", line);
    } else if (k === "limit" || k === "before") {
      check(Number.isSafeInteger(v) && (v as number) >= 1, `${k} not a positive integer`, line);
    } else if (k !== "id") {
      check(typeof v === "string", `field ${k} is not a string`, line);
    }
  }
  // Encoding a reply to anything parsed must work and be exactly one JSON line.
  const reply: Reply = r.type === "invalid"
    ? { ok: false, code: r.code, message: r.message }
    : { ok: true };
  checkOneLine(jsonCodec.encodeReply(r, reply)!, line, true);
}

const decoder = new TextDecoder();

function checkOneLine(bytes: Uint8Array, input: unknown, json: boolean): string {
  const s = decoder.decode(bytes);
  check(
    s.endsWith("\n") && s.indexOf("\n") === s.length - 1,
    "encoded frame is not one line",
    input,
  );
  if (json) {
    const v = JSON.parse(s);
    check(typeof v === "object" && v !== null && typeof v.type === "string", "bad frame", input);
  }
  return s;
}

/** One fuzz target: runs iteration `i` with its own PRNG. */
export interface FuzzTarget {
  name: string;
  run(rng: Rng): void;
}

/** The line splitter against a simple reference, on random chunkings of hostile bytes. */
const splitterTarget: FuzzTarget = {
  name: "line splitter",
  run(rng) {
    const max = rng.pick([1, 2, 16, 100, 8192]);
    const bytes = fuzzBytes(rng);
    const splitter = new LineSplitter(max);
    const got: string[] = [];
    let tooLong = false;
    try {
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + rng.int(rng.chance(0.3) ? 4 : 2000);
        got.push(...splitter.push(bytes.subarray(at, at + n)));
        check(splitter.pending <= max + 1, "splitter buffered more than the limit", bytes);
        at += n;
        if (splitter.overflowed) {
          tooLong = true;
          // Once over the limit, the splitter refuses everything after.
          let threw = false;
          try {
            splitter.push(new Uint8Array([65, 10]));
          } catch (e) {
            threw = e instanceof LineTooLongError;
          }
          check(threw, "splitter accepted bytes after overflowing", bytes);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof LineTooLongError)) throw e;
      tooLong = true;
    }
    // Reference: split the whole input at once.
    const expected: string[] = [];
    let expectTooLong = false;
    let start = 0;
    for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10, start)) {
      const end = nl > start && bytes[nl - 1] === 13 ? nl - 1 : nl;
      if (end - start > max) {
        expectTooLong = true;
        break;
      }
      if (end > start) expected.push(decoder.decode(bytes.subarray(start, end)));
      start = nl + 1;
    }
    const tail = bytes.length - start;
    if (!expectTooLong && (tail > max + 1 || (tail === max + 1 && bytes.at(-1) !== 13))) {
      expectTooLong = true;
    }
    check(tooLong === expectTooLong, `line too long: got ${tooLong}, expected ${expectTooLong}`, {
      max,
      bytes,
    });
    // Either way, the lines before the first over-long one all come out.
    check(
      got.length === expected.length && got.every((l, i) => l === expected[i]),
      "splitter lines differ from the reference",
      { max, bytes },
    );
    for (const line of got) check(!line.includes("\n"), "a line contains a newline", bytes);
  },
};

/** Both parsers and `parseHello` on hostile lines. */
const parserTarget: FuzzTarget = {
  name: "codecs: parseHello, parseJsonLine, parseTextLine",
  run(rng) {
    const line = fuzzLine(rng);
    const hello = parseHello(line);
    if (hello !== null) {
      check(typeof hello === "object", "hello is not an object", line);
      for (const k of ["name", "password", "client"] as const) {
        check(hello[k] === undefined || typeof hello[k] === "string", `hello.${k} type`, line);
      }
      check((hello.client?.length ?? 0) <= 100, "hello.client not bounded", line);
      check(!Object.hasOwn(Object.prototype, "version"), "prototype polluted", line);
    }
    checkRequest(parseJsonLine(line), line);
    checkRequest(parseTextLine(line), line);
    check(
      ({} as Record<string, unknown>).type === undefined && !("polluted" in {}),
      "Object.prototype was polluted",
      line,
    );
  },
};

/** A peer recording what it is given, checking every event on the way. */
class CheckingPeer implements Peer {
  events = 0;
  constructor(readonly input: unknown[]) {}
  deliver(event: ChatEvent): void {
    this.events++;
    for (const [k, v] of Object.entries(event)) {
      if (typeof v === "string" && k !== "code") {
        check(!CONTROL.test(v), `control character in delivered ${event.kind}.${k}`, this.input);
      }
    }
    const text = checkOneLine(textCodec.encodeEvent(event), this.input, false);
    check(!CONTROL.test(text.slice(0, -1)), "control character in a text-dialect line", this.input);
    checkOneLine(jsonCodec.encodeEvent(event), this.input, true);
  }
  kick(): void {}
}

/**
 * The core under random joins, says, whispers, renames, `who` and leaves with hostile strings:
 * names stay unique by key, and no delivered event carries a control character (checked, with
 * both encodings, by every peer).
 */
const coreTarget: FuzzTarget = {
  name: "chat core: random sessions",
  run(rng) {
    let t = 1_700_000_000_000;
    const core = new ChatCore({ clock: () => t++ });
    const input: unknown[] = [];
    const online: User[] = [];
    const steps = 1 + rng.int(60);
    for (let s = 0; s < steps; s++) {
      const op = online.length === 0 ? 0 : rng.int(7);
      const user = online.length > 0 ? rng.pick(online) : undefined;
      const a = rng.chance(0.3) && online.length > 0 ? rng.pick(online).name : fuzzString(rng, 40);
      const b = fuzzString(rng, 80);
      input.push([op, a, b]);
      switch (op) {
        case 0: {
          // Addresses come from the OS, so they are well formed and unique.
          const port = 1024 + s;
          const addr = rng.chance(0.8)
            ? `${rng.int(256)}.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}:${port}`
            : `[2001:db8::${rng.int(0xffff).toString(16)}]:${port}`;
          input[input.length - 1] = [op, addr];
          online.push(core.join(new CheckingPeer(input), addr));
          break;
        }
        case 1:
          core.say(user!, b);
          break;
        case 2:
          core.whisper(user!, a, b);
          break;
        case 3:
        case 4: {
          const r = core.rename(user!, rng.chance(0.5) ? a : a.replace(/[^\p{L}\p{N}]/gu, ""));
          if (r.ok) check(r.name === user!.name, "rename reply differs from the name", input);
          else check(!CONTROL.test(r.message), "control character in a rename error", input);
          break;
        }
        case 5:
          check(core.who().length === online.length, "who lists the wrong users", input);
          break;
        default:
          online.splice(online.indexOf(user!), 1);
          core.leave(user!, rng.chance(0.2));
      }
      const keys = new Set(core.who().map((u) => nameKey(u.name)));
      check(keys.size === core.size, "two online users share a name key", input);
      for (const u of core.who()) {
        check(!CONTROL.test(u.name), "control character in a name", input);
      }
    }
  },
};

/** Every target, in the order they run. */
/** Pieces IRC lines are made of, so that random lines reach every branch of the parser. */
const IRC_PIECES = [
  "@",
  ";",
  "=",
  "\\",
  "\\s",
  "\\:",
  ":",
  " ",
  "  ",
  "!",
  "#",
  "PRIVMSG",
  "001",
  "+a/b",
];

/** An IRC-shaped hostile line: tags, source, command and parameters built from hostile pieces. */
function fuzzIrcLine(rng: Rng): string {
  if (rng.chance(0.2)) return fuzzLine(rng);
  let s = "";
  const n = rng.length(24);
  for (let i = 0; i < n; i++) s += rng.chance(0.5) ? rng.pick(IRC_PIECES) : fuzzString(rng, 8);
  return s;
}

/**
 * The IRC parser never throws, and what it parses survives a round trip: formatting it and
 * parsing again gives the same message (CR, LF and NUL, which no line may carry, become spaces in
 * the last parameter and "_" in the others).
 */
const ircTarget: FuzzTarget = {
  name: "irc: parseIrcLine, formatIrcLine round trip",
  run(rng) {
    const line = fuzzIrcLine(rng);
    const parsed = parseIrcLine(line);
    if ("error" in parsed) {
      check(
        typeof parsed.error === "string" && !parsed.error.includes("\n"),
        "one-line error",
        line,
      );
      return;
    }
    const out = formatIrcLine(parsed);
    check(!/[\r\n\0]/.test(out), "no line breaks in output", line);
    const again = parseIrcLine(out);
    check(!("error" in again), "output parses", { line, out });
    if ("error" in again) return;
    // deno-lint-ignore no-control-regex -- the characters formatIrcLine replaces
    const clean = (x: string) => x.replace(/[\r\n\x00]/g, " ");
    // A middle parameter cannot hold a space either: it gets "_" instead.
    const want = parsed.params.map((p, i, all) =>
      i === all.length - 1 ? clean(p) : clean(p).replaceAll(" ", "_")
    );
    check(again.command === parsed.command, "same command", { line, out });
    check(JSON.stringify(again.params) === JSON.stringify(want), "same params", { line, out });
    const wantTags = Object.fromEntries(
      Object.entries(parsed.tags).map(([k, v]) => [k, v.replaceAll("\0", "")]),
    );
    check(JSON.stringify(again.tags) === JSON.stringify(wantTags), "same tags", { line, out });
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  splitterTarget,
  parserTarget,
  coreTarget,
  ircTarget,
];

/**
 * The seed for iteration `i` of target `t`: mixes both into the run's seed so that any single
 * iteration can be rerun on its own.
 */
export function iterationSeed(seed: number, target: number, i: number): number {
  let h = (seed ^ Math.imul(target + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (i + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * Runs `iterations` of `target`; throws {@link FuzzFailure} naming the seed and iteration that
 * reproduce the first failure (a broken invariant or an unexpected exception).
 */
export function fuzz(target: number, seed: number, iterations: number, from = 0): void {
  const t = TARGETS[target];
  for (let i = from; i < from + iterations; i++) {
    try {
      t.run(new Rng(iterationSeed(seed, target, i)));
    } catch (e) {
      const why = e instanceof FuzzFailure ? e.message : `${(e as Error)?.stack ?? e}`;
      throw new FuzzFailure(
        `${t.name}: seed ${seed}, iteration ${i}: ${why}\n` +
          `reproduce: deno task fuzz --seed ${seed} --target ${target} --from ${i} --iterations 1`,
      );
    }
  }
}
