import { ok, strictEqual } from "node:assert/strict";
import { sanitizeText } from "../../../lib/shared/sanitize.ts";

// deno-lint-ignore no-control-regex -- asserting that no control characters survive
const SUSPECT = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Escapes a test input so that printing the step name cannot itself mess up the terminal. */
function visible(s: string): string {
  return s.replace(
    new RegExp(SUSPECT.source, "g"),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Checks a table of [input, expected] pairs, one step each. */
async function cases(t: Deno.TestContext, table: [string, string][]): Promise<void> {
  for (const [input, expected] of table) {
    await t.step(visible(input), () => {
      strictEqual(sanitizeText(input), expected);
    });
  }
}

Deno.test("sanitizeText leaves clean text unchanged", async (t) => {
  await cases(t, [
    ["", ""],
    ["hello, world", "hello, world"],
    ["tab\tstays", "tab\tstays"],
    ["Zoë 日本語 😀 देवनागरी", "Zoë 日本語 😀 देवनागरी"],
    ["[not an escape] ]0;nor this", "[not an escape] ]0;nor this"],
  ]);
});

Deno.test("sanitizeText removes CSI sequences", async (t) => {
  await cases(t, [
    ["\x1b[2J", ""],
    ["before\x1b[2Jafter", "beforeafter"],
    ["\x1b[31mred\x1b[0m", "red"],
    ["\x1b[38;5;196mcolour\x1b[m", "colour"],
    ["\x1b[?25lhidden cursor", "hidden cursor"],
    ["\x1b[1;1Hhome", "home"],
    ["up\x1b[3Aup", "upup"],
    ["8-bit \x9b31mCSI", "8-bit CSI"],
    ["unterminated \x1b[", "unterminated "],
    ["unterminated \x1b[12;3", "unterminated "],
    ["unterminated 8-bit \x9b1;2", "unterminated 8-bit "],
  ]);
});

Deno.test("sanitizeText removes OSC strings", async (t) => {
  await cases(t, [
    ["\x1b]0;pwned\x07", ""],
    ["a\x1b]0;pwned\x07b", "ab"],
    ["\x1b]2;title\x1b\\text", "text"],
    ["\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["8-bit \x9d0;pwned\x07OSC", "8-bit OSC"],
    ["8-bit ST \x1b]0;pwned\x9cdone", "8-bit ST done"],
    ["unterminated \x1b]0;pwned and everything after", "unterminated "],
    ["interrupted \x1b]0;pwned\x1b[31mred", "interrupted red"],
  ]);
});

Deno.test("sanitizeText removes DCS, SOS, PM and APC strings", async (t) => {
  await cases(t, [
    ["\x1bPq#0;2;0;0;0#0~~\x1b\\after", "after"],
    ["\x1bXsos\x1b\\after", "after"],
    ["\x1b^pm\x1b\\after", "after"],
    ["\x1b_apc\x1b\\after", "after"],
    ["8-bit \x90dcs\x9cdone", "8-bit done"],
    ["8-bit \x98sos\x9cdone", "8-bit done"],
    ["8-bit \x9epm\x9cdone", "8-bit done"],
    ["8-bit \x9fapc\x9cdone", "8-bit done"],
    ["BEL does not end DCS \x1bPdata\x07still data", "BEL does not end DCS "],
    ["unterminated \x1bPdata to the end", "unterminated "],
  ]);
});

Deno.test("sanitizeText removes short escape sequences", async (t) => {
  await cases(t, [
    ["\x1bcreset", "reset"],
    ["a\x1b7b\x1b8c", "abc"],
    ["\x1bMreverse index", "reverse index"],
    ["\x1b(0line drawing\x1b(B", "line drawing"],
    ["\x1b#8fill", "fill"],
    ["trailing \x1b", "trailing "],
    ["double \x1b\x1b[31mred", "double red"],
    ["ESC before non-ASCII \x1bé", "ESC before non-ASCII é"],
  ]);
});

Deno.test("sanitizeText removes control characters but keeps TAB", async (t) => {
  await cases(t, [
    ["nul\x00byte", "nulbyte"],
    ["bell\x07", "bell"],
    ["back\bspace", "backspace"],
    ["line\nfeed\rreturn", "linefeedreturn"],
    ["vertical\x0btab\x0cformfeed", "verticaltabformfeed"],
    ["del\x7f", "del"],
    ["c1 \x80\x85\x8d\x9a", "c1 "],
    ["keep\ttabs\t", "keep\ttabs\t"],
    ["\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\x0a\x1f", "\t"],
  ]);
});

Deno.test("sanitizeText removes bidi override and isolate controls", async (t) => {
  await cases(t, [
    ["invoice\u202Efdp.exe", "invoicefdp.exe"],
    ["\u202A\u202B\u202C\u202D\u202Eltr", "ltr"],
    ["\u2066\u2067\u2068\u2069iso", "iso"],
    ["range edges \u202F\u2065 stay", "range edges \u202F\u2065 stay"],
  ]);
});

Deno.test("sanitizeText output never contains strippable characters", () => {
  let seed = 1234567;
  const rand = () => {
    let t = (seed = (seed + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const alphabet = [
    "a",
    " ",
    "é",
    "😀",
    "\t",
    "\x1b",
    "[",
    "]",
    "P",
    "\\",
    ";",
    "0",
    "m",
    "\x07",
    "\x00",
    "\x7f",
    "\x9b",
    "\x9c",
    "\x9d",
    "\u202e",
  ];
  for (let round = 0; round < 2000; round++) {
    let s = "";
    const n = Math.floor(rand() * 30);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const out = sanitizeText(s);
    ok(!SUSPECT.test(out), `${visible(s)} -> ${visible(out)}`);
    strictEqual(sanitizeText(out), out);
  }
});

Deno.test("sanitizeText stays linear on hostile input", async (t) => {
  // Each input is ~1 MB; a quadratic scan would take minutes, a linear one milliseconds.
  const hostile: [string, string][] = [
    ["repeated CSI openers", "\x1b[".repeat(500_000)],
    ["repeated OSC openers", "\x1b]".repeat(500_000)],
    ["repeated DCS openers", "\x1bP".repeat(500_000)],
    ["lone ESCs", "\x1b".repeat(1_000_000)],
    ["controls between text", "a\x00".repeat(500_000)],
    ["CSI parameters without final byte", "\x1b[" + "1;".repeat(500_000)],
  ];
  for (const [name, input] of hostile) {
    await t.step(name, () => {
      const started = performance.now();
      const out = sanitizeText(input);
      const elapsed = performance.now() - started;
      ok(!SUSPECT.test(out));
      ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
    });
  }
});
