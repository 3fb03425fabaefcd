import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { LineSplitter, LineTooLongError } from "../../../lib/protocol/line_splitter.ts";
import { concat } from "../../../lib/shared/bytes.ts";

const enc = new TextEncoder();

function bytes(...parts: (string | number[])[]): Uint8Array {
  return concat(parts.map((p) => typeof p === "string" ? enc.encode(p) : Uint8Array.from(p)));
}

/** Feeds `data` in pieces cut at `cuts` and returns every line produced. */
function feed(splitter: LineSplitter, data: Uint8Array, cuts: number[]): string[] {
  const lines: string[] = [];
  let from = 0;
  for (const to of [...cuts, data.length]) {
    lines.push(...splitter.push(data.subarray(from, to)));
    from = to;
  }
  return lines;
}

function byteByByte(splitter: LineSplitter, data: Uint8Array): string[] {
  return feed(splitter, data, Array.from({ length: data.length }, (_, i) => i));
}

function throwsTooLong(fn: () => unknown, limit: number): void {
  throws(fn, (err: unknown) => {
    ok(err instanceof LineTooLongError, `expected LineTooLongError, got ${err}`);
    strictEqual(err.code, "line_too_long");
    strictEqual(err.limit, limit);
    return true;
  });
}

/**
 * Pushes `chunk`, which must overflow: checks that it returns `before`, sets `overflowed`, buffers
 * nothing, and that the next push throws.
 */
function overflows(s: LineSplitter, chunk: Uint8Array, limit: number, before: string[] = []): void {
  strictEqual(s.overflowed, false, "overflowed before the offending push");
  deepStrictEqual(s.push(chunk), before);
  strictEqual(s.overflowed, true);
  strictEqual(s.pending, 0);
  throwsTooLong(() => s.push(bytes("ok\n")), limit);
  strictEqual(s.overflowed, true);
}

function mulberry32(seed: number): () => number {
  return () => {
    let t = (seed = (seed + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("LineSplitter splits a single chunk into lines", async (t) => {
  await t.step("many lines in one chunk", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("one\ntwo\nthree\n")), ["one", "two", "three"]);
    strictEqual(s.pending, 0);
  });
  await t.step("keeps an unterminated tail pending", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("one\ntw")), ["one"]);
    strictEqual(s.pending, 2);
    deepStrictEqual(s.push(bytes("o\n")), ["two"]);
    strictEqual(s.pending, 0);
  });
  await t.step("a chunk without newline returns nothing", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("abc")), []);
    strictEqual(s.pending, 3);
  });
  await t.step("an empty chunk changes nothing", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(new Uint8Array(0)), []);
    s.push(bytes("ab"));
    deepStrictEqual(s.push(new Uint8Array(0)), []);
    strictEqual(s.pending, 2);
    deepStrictEqual(s.push(bytes("\n")), ["ab"]);
  });
});

Deno.test("LineSplitter joins lines split across chunks", async (t) => {
  await t.step("split in the middle of a line", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(feed(s, bytes("hello world\nbye\n"), [5]), ["hello world", "bye"]);
  });
  await t.step("line spread over many chunks", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("a")), []);
    deepStrictEqual(s.push(bytes("b")), []);
    deepStrictEqual(s.push(bytes("c")), []);
    strictEqual(s.pending, 3);
    deepStrictEqual(s.push(bytes("d\ne")), ["abcd"]);
    strictEqual(s.pending, 1);
  });
  await t.step("byte by byte", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(byteByByte(s, bytes("first\r\nsecond\n\nthird\n")), [
      "first",
      "second",
      "third",
    ]);
  });
  await t.step("newline is the first byte of the next chunk", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("abc")), []);
    deepStrictEqual(s.push(bytes("\ndef\n")), ["abc", "def"]);
  });
  await t.step("the caller may overwrite a chunk after push", () => {
    const s = new LineSplitter(100);
    const chunk = bytes("abc");
    s.push(chunk);
    chunk.fill(0x78); // "xxx"
    deepStrictEqual(s.push(bytes("\n")), ["abc"]);
  });
});

Deno.test("LineSplitter strips terminators and skips empty lines", async (t) => {
  await t.step("CRLF in one chunk", () => {
    deepStrictEqual(new LineSplitter(100).push(bytes("a\r\nb\r\n")), ["a", "b"]);
  });
  await t.step("CR at the end of one chunk, LF at the start of the next", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("abc\r")), []);
    deepStrictEqual(s.push(bytes("\nxyz\r")), ["abc"]);
    deepStrictEqual(s.push(bytes("\n")), ["xyz"]);
  });
  await t.step("empty lines with LF, CRLF and split CRLF", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("\n\r\n\n")), []);
    deepStrictEqual(s.push(bytes("a\n\r")), ["a"]);
    deepStrictEqual(s.push(bytes("\n\nb\n")), ["b"]);
  });
  await t.step("lone CR inside a line is kept", () => {
    deepStrictEqual(new LineSplitter(100).push(bytes("a\rb\n")), ["a\rb"]);
  });
  await t.step("only one CR before LF is stripped", () => {
    deepStrictEqual(new LineSplitter(100).push(bytes("a\r\r\n\r\r\n")), ["a\r", "\r"]);
  });
});

Deno.test("LineSplitter decodes UTF-8", async (t) => {
  await t.step("4-byte emoji split mid-character, byte by byte", () => {
    const data = bytes("hi 😀 there\n€\n");
    strictEqual(data.length, 3 + 4 + 6 + 1 + 3 + 1);
    deepStrictEqual(byteByByte(new LineSplitter(100), data), ["hi 😀 there", "€"]);
  });
  await t.step("emoji split after its second byte", () => {
    const s = new LineSplitter(100);
    const emoji = bytes("😀");
    deepStrictEqual(s.push(emoji.subarray(0, 2)), []);
    deepStrictEqual(s.push(bytes(Array.from(emoji.subarray(2)), "\n")), ["😀"]);
  });
  await t.step("invalid bytes become U+FFFD", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("a", [0xff, 0xfe], "b\n")), ["a\uFFFD\uFFFDb"]);
  });
  await t.step("a truncated sequence at the end of a line becomes U+FFFD", () => {
    const s = new LineSplitter(100);
    deepStrictEqual(s.push(bytes("x", [0xf0, 0x9f], "\ny\n")), ["x\uFFFD", "y"]);
  });
  await t.step("a byte-order mark at the start of a line is dropped", () => {
    deepStrictEqual(new LineSplitter(100).push(bytes("\uFEFFhi\n")), ["hi"]);
  });
});

Deno.test("LineSplitter enforces the line limit at the boundary", async (t) => {
  const limit = 8;
  await t.step("a line of exactly the limit is accepted", () => {
    deepStrictEqual(new LineSplitter(limit).push(bytes("12345678\n")), ["12345678"]);
  });
  await t.step("the CRLF terminator does not count", () => {
    deepStrictEqual(new LineSplitter(limit).push(bytes("12345678\r\n")), ["12345678"]);
  });
  await t.step("limit is in bytes, not characters", () => {
    const s = new LineSplitter(limit);
    deepStrictEqual(s.push(bytes("éééé\n")), ["éééé"]);
    overflows(s, bytes("éééé1\n"), limit);
  });
  await t.step("one byte over in a complete line overflows", () => {
    overflows(new LineSplitter(limit), bytes("123456789\n"), limit);
  });
  await t.step("one byte over in an unterminated tail overflows after earlier lines", () => {
    overflows(new LineSplitter(limit), bytes("ok\n123456789"), limit, ["ok"]);
  });
  await t.step("an exactly-full tail may wait for its terminator", () => {
    const s = new LineSplitter(limit);
    deepStrictEqual(s.push(bytes("12345678")), []);
    strictEqual(s.pending, limit);
    deepStrictEqual(s.push(bytes("\r")), []);
    strictEqual(s.pending, limit + 1);
    deepStrictEqual(s.push(bytes("\n")), ["12345678"]);
    strictEqual(s.pending, 0);
  });
  await t.step("a full tail plus CR then a non-LF byte overflows", () => {
    const s = new LineSplitter(limit);
    s.push(bytes("12345678\r"));
    overflows(s, bytes("x"), limit);
  });
  await t.step("a full tail plus a non-CR byte overflows without buffering it", () => {
    const s = new LineSplitter(limit);
    s.push(bytes("12345678"));
    overflows(s, bytes("9"), limit);
  });
  await t.step("exceeded across chunks at the completing newline", () => {
    const s = new LineSplitter(limit);
    s.push(bytes("12345"));
    overflows(s, bytes("6789\n"), limit);
  });
  await t.step("exceeded byte by byte", () => {
    const s = new LineSplitter(limit);
    const data = bytes("123456789");
    for (let i = 0; i < limit; i++) s.push(data.subarray(i, i + 1));
    strictEqual(s.pending, limit);
    overflows(s, data.subarray(limit), limit);
  });
  await t.step("the splitter stays failed after an overflow", () => {
    const s = new LineSplitter(limit);
    deepStrictEqual(s.push(bytes("123456789\n")), []);
    strictEqual(s.overflowed, true);
    throwsTooLong(() => s.push(bytes("ok\n")), limit);
    throwsTooLong(() => s.push(bytes("ok\n")), limit);
    throwsTooLong(() => s.push(new Uint8Array(0)), limit);
    strictEqual(s.overflowed, true);
    strictEqual(s.pending, 0);
  });
});

Deno.test("LineSplitter returns the lines before an overflowing line", async (t) => {
  const limit = 16;
  await t.step("good line, then an over-long complete line, in one chunk", () => {
    const s = new LineSplitter(limit);
    deepStrictEqual(s.push(bytes("good\n" + "x".repeat(limit + 10) + "\n")), ["good"]);
    strictEqual(s.overflowed, true);
    strictEqual(s.pending, 0);
    throwsTooLong(() => s.push(bytes("more\n")), limit);
  });
  await t.step("several lines before it; nothing after it is returned", () => {
    const s = new LineSplitter(limit);
    const chunk = bytes("a\r\nb\n\nc\n" + "y".repeat(limit + 1) + "\nafter\n");
    overflows(s, chunk, limit, ["a", "b", "c"]);
  });
  await t.step("a pending tail completed in the chunk, then an over-long line", () => {
    const s = new LineSplitter(limit);
    deepStrictEqual(s.push(bytes("he")), []);
    overflows(s, bytes("llo\n" + "z".repeat(limit + 1) + "\n"), limit, ["hello"]);
  });
  await t.step("good lines, then an over-long unterminated tail", () => {
    const s = new LineSplitter(limit);
    overflows(s, bytes("one\ntwo\n" + "w".repeat(limit + 2)), limit, ["one", "two"]);
  });
  await t.step("the lines returned are independent of the chunk", () => {
    const s = new LineSplitter(4);
    const chunk = bytes("ab\ncdefgh\n");
    const lines = s.push(chunk);
    chunk.fill(0x78);
    deepStrictEqual(lines, ["ab"]);
    strictEqual(s.overflowed, true);
  });
  await t.step("not overflowed while lines stay within the limit", () => {
    const s = new LineSplitter(limit);
    s.push(bytes("x".repeat(limit) + "\n" + "y".repeat(limit)));
    strictEqual(s.overflowed, false);
  });
});

Deno.test("LineSplitter bounds its buffer against a flood without newlines", async (t) => {
  const limit = 8192;
  const flood = new Uint8Array(1024 * 1024).fill(0x61);
  await t.step("a single 1 MiB chunk overflows without buffering", () => {
    overflows(new LineSplitter(limit), flood, limit);
  });
  await t.step("1 MiB in 1000-byte chunks never buffers more than limit + 1", () => {
    const s = new LineSplitter(limit);
    for (let at = 0; at < flood.length && !s.overflowed; at += 1000) {
      deepStrictEqual(s.push(flood.subarray(at, at + 1000)), []);
      ok(s.pending <= limit + 1, `pending ${s.pending} exceeds ${limit + 1}`);
    }
    ok(s.overflowed, "expected overflowed");
    strictEqual(s.pending, 0);
    throwsTooLong(() => s.push(flood.subarray(0, 1000)), limit);
  });
  await t.step("a tail of CRs is bounded too", () => {
    const s = new LineSplitter(4);
    s.push(bytes("\r\r\r\r\r"));
    strictEqual(s.pending, 5);
    overflows(s, bytes("\r"), 4);
  });
});

Deno.test("LineTooLongError carries its code and limit", () => {
  const err = new LineTooLongError(42);
  ok(err instanceof Error);
  strictEqual(err.name, "LineTooLongError");
  strictEqual(err.code, "line_too_long");
  strictEqual(err.limit, 42);
  ok(err.message.includes("42"));
});

Deno.test("LineSplitter rejects a nonsensical limit", async (t) => {
  for (const bad of [0, -1, 1.5, NaN]) {
    await t.step(String(bad), () => {
      throws(() => new LineSplitter(bad), RangeError);
    });
  }
});

Deno.test("LineSplitter matches a naive split for random chunkings", () => {
  const rand = mulberry32(0xc0ffee);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const pieces: number[][] = [
    [...enc.encode("a")],
    [...enc.encode("Z")],
    [...enc.encode(" ")],
    [...enc.encode("é")],
    [...enc.encode("€")],
    [...enc.encode("😀")],
    [0x0d],
    [0x0a],
    [0x0d, 0x0a],
    [0xff],
    [0xf0, 0x9f], // truncated sequence
  ];

  /** The obvious, allocation-heavy reference implementation. */
  function naive(data: Uint8Array): { lines: string[]; longest: number; tail: Uint8Array } {
    const lines: string[] = [];
    let longest = 0;
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== 0x0a) continue;
      let end = i;
      if (end > start && data[end - 1] === 0x0d) end--;
      if (end > start) lines.push(new TextDecoder().decode(data.slice(start, end)));
      longest = Math.max(longest, end - start);
      start = i + 1;
    }
    return { lines, longest, tail: data.slice(start) };
  }

  /** The lines before the first over-long line, and whether the input overflows at all. */
  function naiveUntilTooLong(
    data: Uint8Array,
    limit: number,
  ): { lines: string[]; tooLong: boolean } {
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== 0x0a) continue;
      let end = i;
      if (end > start && data[end - 1] === 0x0d) end--;
      if (end - start > limit) return { lines, tooLong: true };
      if (end > start) lines.push(new TextDecoder().decode(data.slice(start, end)));
      start = i + 1;
    }
    const tail = data.length - start;
    const tooLong = tail > limit + 1 || (tail === limit + 1 && data[data.length - 1] !== 0x0d);
    return { lines, tooLong };
  }

  for (let round = 0; round < 500; round++) {
    const parts: number[] = [];
    const count = Math.floor(rand() * 60);
    for (let i = 0; i < count; i++) parts.push(...pick(pieces));
    const data = Uint8Array.from(parts);
    const expected = naive(data);

    const cuts: number[] = [];
    for (let i = 1; i < data.length; i++) if (rand() < 0.3) cuts.push(i);

    const roomy = new LineSplitter(1000);
    deepStrictEqual(feed(roomy, data, cuts), expected.lines, `round ${round}`);
    strictEqual(roomy.pending, expected.tail.length, `round ${round}`);

    // With a small limit, it must overflow exactly when some line or the tail is too long, and
    // then have returned every line before the first over-long one.
    const limit = 1 + Math.floor(rand() * 40);
    const tight = new LineSplitter(limit);
    const got: string[] = [];
    let from = 0;
    for (const to of [...cuts, data.length]) {
      got.push(...tight.push(data.subarray(from, to)));
      ok(tight.pending <= limit + 1, `round ${round}: pending ${tight.pending}`);
      from = to;
      if (tight.overflowed) break;
    }
    const prefix = naiveUntilTooLong(data, limit);
    strictEqual(tight.overflowed, prefix.tooLong, `round ${round}: limit ${limit}`);
    deepStrictEqual(got, prefix.lines, `round ${round}: limit ${limit}`);
    if (tight.overflowed) {
      strictEqual(tight.pending, 0, `round ${round}`);
      throwsTooLong(() => tight.push(bytes("a\n")), limit);
    }
  }
});
