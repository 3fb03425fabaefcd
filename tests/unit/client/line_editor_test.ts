import assert from "node:assert/strict";
import {
  charWidth,
  EditBuffer,
  type Key,
  parseKeys,
  textWidth,
} from "../../../lib/client/line_editor.ts";
import { LineTooLongError } from "../../../lib/protocol/line_splitter.ts";
import { readLines } from "../../../lib/client/line_reader.ts";
import { SecretBuffer } from "../../../lib/client/secret_input.ts";

const kinds = (keys: Key[]) => keys.map((k) => k.kind === "text" ? `text:${k.text}` : k.kind);

Deno.test("client line editor: keys are parsed from terminal input", async (t) => {
  await t.step("text and Enter", () => {
    assert.deepEqual(kinds(parseKeys("hi\r").keys), ["text:hi", "enter"]);
  });
  await t.step("CR LF from a paste is one Enter", () => {
    assert.deepEqual(kinds(parseKeys("a\r\nb\r").keys), ["text:a", "enter", "text:b", "enter"]);
  });
  await t.step("arrows, Home/End, Delete (CSI and SS3)", () => {
    assert.deepEqual(
      kinds(parseKeys("\x1b[D\x1b[C\x1b[A\x1b[B\x1b[H\x1b[F\x1b[3~\x1bOH\x1b[1;5D").keys),
      [
        "left",
        "right",
        "up",
        "down",
        "home",
        "end",
        "delete",
        "home",
        "left",
      ],
    );
  });
  await t.step("control keys", () => {
    assert.deepEqual(kinds(parseKeys("\x7f\x03\x04\x15\x17\x01\x05").keys), [
      "backspace",
      "interrupt",
      "eof",
      "kill_line",
      "kill_word",
      "home",
      "end",
    ]);
  });
  await t.step("an escape sequence split across reads is kept for the next chunk", () => {
    const first = parseKeys("ab\x1b[");
    assert.deepEqual(kinds(first.keys), ["text:ab"]);
    assert.equal(first.rest, "\x1b[");
    assert.deepEqual(kinds(parseKeys(first.rest + "D").keys), ["left"]);
  });
  await t.step("unknown sequences and stray controls never reach the text", () => {
    const { keys } = parseKeys("a\x1b[31mb\x1b]x\x07c\x00\x9bd\x1b[200~e");
    const text = keys.filter((k) => k.kind === "text").map((k) => (k as { text: string }).text)
      .join("");
    // deno-lint-ignore no-control-regex -- asserting that no control character gets through
    assert.doesNotMatch(text, /[\x00-\x1f\x7f-\x9f]/);
    assert.ok(text.includes("a") && text.includes("e"));
  });
});

Deno.test("client line editor: editing the buffer", async (t) => {
  const type = (b: EditBuffer, input: string) => {
    let entered: string | null = null;
    for (const k of parseKeys(input).keys) entered = b.apply(k) ?? entered;
    return entered;
  };
  await t.step("insert in the middle, backspace, delete", () => {
    const b = new EditBuffer();
    type(b, "helo\x1b[D");
    type(b, "l");
    assert.equal(b.text, "hello");
    type(b, "\x1b[H\x1b[3~");
    assert.equal(b.text, "ello");
    type(b, "\x1b[F\x7f");
    assert.equal(b.text, "ell");
  });
  await t.step("Ctrl-W kills a word, Ctrl-U the line before the cursor", () => {
    const b = new EditBuffer();
    type(b, "one two  ");
    type(b, "\x17");
    assert.equal(b.text, "one ");
    type(b, "\x15");
    assert.equal(b.text, "");
  });
  await t.step("Enter returns the line and clears it; history recalls it", () => {
    const b = new EditBuffer();
    assert.equal(type(b, "first\r"), "first");
    assert.equal(b.text, "");
    type(b, "draft\x1b[A");
    assert.equal(b.text, "first");
    type(b, "\x1b[B");
    assert.equal(b.text, "draft");
  });
  await t.step("multi-byte characters are single positions", () => {
    const b = new EditBuffer();
    type(b, "h\u00e9llo \u{1f600}\x7f\x7f");
    assert.equal(b.text, "h\u00e9llo");
  });
});

Deno.test("client line editor: a long line scrolls sideways on one row", () => {
  const b = new EditBuffer();
  for (const k of parseKeys("x".repeat(200)).keys) b.apply(k);
  const { visible, cursorCol } = b.view(40, 8);
  assert.ok(textWidth(visible) <= 40 - 8 - 1, `${visible.length}`);
  assert.ok(cursorCol < 40);
  b.apply({ kind: "home" });
  const atHome = b.view(40, 8);
  assert.equal(atHome.cursorCol, 8);
  assert.equal(atHome.visible, "x".repeat(31));
});

Deno.test("client line editor: a wider screen shows the text a narrower one scrolled away", () => {
  const b = new EditBuffer();
  const text = "0123456789".repeat(7);
  b.apply({ kind: "text", text });
  assert.ok(b.view(50, 8).visible.length < text.length, "scrolled at 50 columns");
  const wide = b.view(100, 8);
  assert.equal(wide.visible, text);
  assert.equal(wide.cursorCol, 8 + text.length);
  // Moving left inside a scrolled line does not scroll it.
  b.view(50, 8);
  const before = b.scroll;
  b.apply({ kind: "left" });
  b.view(50, 8);
  assert.equal(b.scroll, before);
});

Deno.test("client line editor: widths", () => {
  assert.equal(charWidth("a"), 1);
  assert.equal(charWidth("\u4e2d"), 2);
  assert.equal(charWidth("\u0301"), 0);
  // Emoji with the default emoji presentation are double-width wherever they are.
  for (const emoji of ["\u2705", "\u2b50", "\u26a1", "\u231a", "\u{1f600}", "\u{1f680}"]) {
    assert.equal(charWidth(emoji), 2, `width of U+${emoji.codePointAt(0)!.toString(16)}`);
  }
  // Text-presentation symbols stay single-width.
  for (const sym of ["\u2713", "\u2605", "\u00a9", "#"]) assert.equal(charWidth(sym), 1, sym);
  assert.equal(textWidth("\x1b[1mab\x1b[0m> "), 4);
});

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => enc.encode(c)));
}

async function collect(stream: ReadableStream<Uint8Array>, max: number): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(stream, max)) out.push(line);
  return out;
}

Deno.test("client line reader: splits lines across chunks", async (t) => {
  await t.step("LF and CRLF, a last line without LF", async () => {
    assert.deepEqual(await collect(streamOf("a\r\nb", "c\n\nd"), 100), ["a", "bc", "", "d"]);
  });
  await t.step("invalid UTF-8 becomes U+FFFD", async () => {
    const bytes = ReadableStream.from([new Uint8Array([0x61, 0xff, 0x0a])]);
    assert.deepEqual(await collect(bytes, 100), ["a\ufffd"]);
  });
  await t.step("a multi-byte character split across chunks", async () => {
    const e = new TextEncoder().encode("\u00e9\n");
    const bytes = ReadableStream.from([e.subarray(0, 1), e.subarray(1)]);
    assert.deepEqual(await collect(bytes, 100), ["\u00e9"]);
  });
  await t.step("exactly the limit is fine, CR excluded", async () => {
    assert.deepEqual(await collect(streamOf("abcd\r\n", "ab", "cd\n"), 4), ["abcd", "abcd"]);
  });
  await t.step("over the limit throws, even without a newline", async () => {
    await assert.rejects(collect(streamOf("abcde\n"), 4), LineTooLongError);
    await assert.rejects(collect(streamOf("ab", "cd", "e"), 4), LineTooLongError);
  });
});

Deno.test("client secret input: keys build the password; Enter ends it, Ctrl-C cancels", async (t) => {
  const typed = (input: string) => {
    const secret = new SecretBuffer();
    for (const key of parseKeys(input).keys) {
      const step = secret.apply(key);
      if (step !== null) return { step, text: secret.text };
    }
    return { step: null, text: secret.text };
  };
  await t.step("text and Enter", () => {
    assert.deepEqual(typed("s3cret pw\r"), { step: "done", text: "s3cret pw" });
  });
  await t.step("Backspace deletes, Ctrl-U clears, cursor keys do nothing", () => {
    assert.deepEqual(typed("abx\x7fc\x1b[D\x1b[Dd\r"), { step: "done", text: "abcd" });
    assert.deepEqual(typed("wrong\x15right\r"), { step: "done", text: "right" });
  });
  await t.step("Ctrl-C cancels; Ctrl-D only on nothing", () => {
    assert.equal(typed("abc\x03").step, "cancel");
    assert.equal(typed("\x04").step, "cancel");
    assert.deepEqual(typed("ab\x04c\r"), { step: "done", text: "abc" });
  });
});

Deno.test("client line editor: lines holding a password stay out of the history", () => {
  const buf = new EditBuffer();
  buf.secretLine = (line) => line.startsWith("/login ");
  for (const key of parseKeys("/who\r/login bob hunter22\r").keys) buf.apply(key);
  assert.deepEqual(buf.history, ["/who"]);
});

Deno.test("client line editor: type-ahead is dropped before a password prompt", () => {
  const buf = new EditBuffer();
  for (const key of parseKeys("/who\rtyped ahead\rhalf").keys) buf.apply(key);
  buf.discard(["typed ahead"]);
  assert.deepEqual([buf.history, buf.text, buf.cursor], [["/who"], "", 0]);
  buf.apply({ kind: "up" });
  assert.equal(buf.text, "/who");
});
