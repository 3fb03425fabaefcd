import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  looksAlike,
  MAX_NAME_LENGTH,
  type NameError,
  nameKey,
  nameSkeletons,
  validateName,
} from "../../../lib/shared/names.ts";

function accepted(raw: string): string {
  const result = validateName(raw);
  if (!result.ok) {
    throw new Error(`expected ${JSON.stringify(raw)} to be accepted: ${result.error.message}`);
  }
  return result.name;
}

function rejected(raw: string): NameError {
  const result = validateName(raw);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
  return result.error;
}

const HINT = ": use letters, digits, _ - .";

Deno.test("validateName accepts names in any script", async (t) => {
  for (
    const name of [
      "alice",
      "Bob_the-builder.2",
      "Zoë",
      "देवनागरी", // Devanagari needs combining marks (\p{M})
      "日本語",
      "Ελένη",
      "محمد٣", // Arabic-Indic digit is \p{Nd}
      "𝒜lpha", // astral letter
      "x",
      "_-.",
      "भारत",
      "a.b-c_d",
      "user1",
      "007bond",
      "10.0.0.7a",
      "1-2",
      "_1",
      "٣٣", // only non-ASCII digits: not the syntax of an IP address
      "한글", // precomposed Hangul
      "\u1112\u1161\u11ab", // conjoining jamo, composed by NFC
    ]
  ) {
    await t.step(name, () => strictEqual(accepted(name), name.normalize("NFC")));
  }
});

Deno.test("validateName normalises its input", async (t) => {
  await t.step("trims surrounding whitespace", () => {
    strictEqual(accepted("  bob \t\n"), "bob");
    strictEqual(accepted("\u3000bob\u00a0"), "bob");
  });
  await t.step("returns the NFC form", () => {
    strictEqual(accepted("Zoe\u0308"), "Zo\u00eb");
    strictEqual(accepted("e\u0301").length, 1);
  });
});

Deno.test("validateName rejects empty names", async (t) => {
  for (const raw of ["", "   ", "\t\n"]) {
    await t.step(JSON.stringify(raw), () => {
      const error = rejected(raw);
      strictEqual(error.code, "name_empty");
      strictEqual(error.message, "name may not be empty.");
    });
  }
});

Deno.test("validateName limits length in code points after NFC", async (t) => {
  await t.step("exactly the maximum is accepted", () => {
    strictEqual(MAX_NAME_LENGTH, 32);
    accepted("a".repeat(MAX_NAME_LENGTH));
  });
  await t.step("one more is rejected", () => {
    const error = rejected("a".repeat(MAX_NAME_LENGTH + 1));
    strictEqual(error.code, "name_too_long");
    strictEqual(error.message, "name may be at most 32 characters long.");
  });
  await t.step("astral characters count once, not as two UTF-16 units", () => {
    accepted("𝒜".repeat(MAX_NAME_LENGTH));
    strictEqual(rejected("𝒜".repeat(MAX_NAME_LENGTH + 1)).code, "name_too_long");
  });
  await t.step("decomposed input is counted after composing", () => {
    // 40 code points as typed, 20 after NFC.
    strictEqual(accepted("e\u0301".repeat(20)), "\u00e9".repeat(20));
  });
  await t.step("too long is reported before a bad character", () => {
    strictEqual(rejected("a b" + "c".repeat(40)).code, "name_too_long");
  });
});

Deno.test("validateName rejects bad characters and shows them", async (t) => {
  const table: [string, string][] = [
    ["a|b", `name may not contain "|"${HINT}`],
    ["a:b", `name may not contain ":"${HINT}`],
    ["a b", `name may not contain a space${HINT}`],
    ["a@b", `name may not contain "@"${HINT}`],
    ['say"hi', `name may not contain '"'${HINT}`],
    ["bell\x07", `name may not contain U+0007${HINT}`],
    ["nul\x00x", `name may not contain U+0000${HINT}`],
    ["esc\x1b[31m", `name may not contain U+001B${HINT}`],
    ["tab\tx", `name may not contain U+0009${HINT}`],
    ["no\u00a0break", `name may not contain U+00A0${HINT}`],
    ["zero\u200bwidth", `name may not contain U+200B (an invisible character)${HINT}`],
    ["bidi\u202eevil", `name may not contain U+202E (an invisible character)${HINT}`],
    ["lone\ud800", `name may not contain U+D800${HINT}`],
    ["smile😀", `name may not contain "😀"${HINT}`],
    ["first|then:", `name may not contain "|"${HINT}`],
  ];
  for (const [raw, message] of table) {
    await t.step(JSON.stringify(raw), () => {
      deepStrictEqual(rejected(raw), { code: "name_invalid_char", message });
    });
  }
});

const INVISIBLE: [number, string][] = [
  [0x034f, "combining grapheme joiner"],
  [0x00ad, "soft hyphen"],
  [0xfe00, "variation selector 1"],
  [0xfe0f, "variation selector 16"],
  [0xe0100, "variation selector 17"],
  [0xe01ef, "variation selector 256"],
  [0x180b, "Mongolian free variation selector 1"],
  [0x180c, "Mongolian free variation selector 2"],
  [0x180d, "Mongolian free variation selector 3"],
  [0x180e, "Mongolian vowel separator"],
  [0x180f, "Mongolian free variation selector 4"],
  [0x200b, "zero width space"],
  [0x200c, "zero width non-joiner"],
  [0x200d, "zero width joiner"],
  [0x200e, "left-to-right mark"],
  [0x200f, "right-to-left mark"],
  [0x2060, "word joiner"],
  [0x2061, "function application"],
  [0x2064, "invisible plus"],
  [0x2065, "unassigned, reserved ignorable"],
  [0x2066, "left-to-right isolate"],
  [0x206f, "nominal digit shapes"],
  [0x115f, "Hangul choseong filler"],
  [0x1160, "Hangul jungseong filler"],
  [0x3164, "Hangul filler"],
  [0xffa0, "halfwidth Hangul filler"],
];

function codeOf(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

Deno.test("validateName rejects invisible characters", async (t) => {
  for (const [cp, label] of INVISIBLE) {
    const ch = String.fromCodePoint(cp);
    const message = `name may not contain ${codeOf(cp)} (an invisible character)${HINT}`;
    await t.step(`${codeOf(cp)} ${label}`, () => {
      ok(/\p{Default_Ignorable_Code_Point}/u.test(ch), "covered by the Unicode property");
      deepStrictEqual(rejected(`bob${ch}`), { code: "name_invalid_char", message });
      deepStrictEqual(rejected(`${ch}bob`), { code: "name_invalid_char", message });
      deepStrictEqual(rejected(`b${ch}ob`), { code: "name_invalid_char", message });
      deepStrictEqual(rejected(ch), { code: "name_invalid_char", message });
    });
  }
  await t.step("the message names the first bad character", () => {
    deepStrictEqual(rejected("a\u3164b|c"), {
      code: "name_invalid_char",
      message: `name may not contain U+3164 (an invisible character)${HINT}`,
    });
    deepStrictEqual(rejected("a|b\u3164c"), {
      code: "name_invalid_char",
      message: `name may not contain "|"${HINT}`,
    });
  });
  await t.step("an emoji with a variation selector is still refused for the emoji", () => {
    strictEqual(rejected("hi\u2764\ufe0f").message, `name may not contain "\u2764"${HINT}`);
  });
});

Deno.test("validateName rejects names that look like an address", async (t) => {
  const message = "name may not look like an address: use at least one letter, _ or -";
  for (const raw of ["10.0.0.7", "123", "...", "007", "0", ".", "1.2", " 10.0.0.7 "]) {
    await t.step(JSON.stringify(raw), () => {
      deepStrictEqual(rejected(raw), { code: "name_invalid_char", message });
    });
  }
  await t.step("a bad character is reported before the address shape", () => {
    strictEqual(rejected("10.0.0.7|").message, `name may not contain "|"${HINT}`);
  });
  await t.step("too long is reported before the address shape", () => {
    strictEqual(rejected("1".repeat(MAX_NAME_LENGTH + 1)).code, "name_too_long");
  });
});

Deno.test("nameKey makes equivalent names collide", async (t) => {
  await t.step("case differences collide", () => {
    strictEqual(nameKey("Alice"), nameKey("ALICE"));
    strictEqual(nameKey("alice"), nameKey("aLiCe"));
    strictEqual(nameKey("ΕΛΈΝΗ"), nameKey("ελένη"));
  });
  await t.step("precomposed and decomposed forms collide", () => {
    strictEqual(nameKey("\u00e9"), nameKey("e\u0301"));
    strictEqual(nameKey("\u00c9"), nameKey("e\u0301"));
  });
  await t.step("lowercasing that enables a composition still collides", () => {
    // "T\u0308" has no precomposed form, but its lowercase does ("\u1e97").
    strictEqual(nameKey("T\u0308"), nameKey("\u1e97"));
  });
  await t.step("different names stay different", () => {
    notStrictEqual(nameKey("alice"), nameKey("alice_"));
    notStrictEqual(nameKey("e"), nameKey("\u00e9"));
  });
  await t.step("the key of a validated name is lowercase NFC", () => {
    strictEqual(nameKey(accepted("Zoe\u0308")), "zo\u00eb");
  });
});

Deno.test("looksAlike catches confusable names (TR39 skeleton and NFKC case folding)", async (t) => {
  const impostors = {
    "Cyrillic а": "\u0430lice",
    "Ukrainian і": "al\u0456ce",
    "fullwidth": "\uff41\uff4c\uff49\uff43\uff45",
    "capital I for l": "aIice",
    "fullwidth capitals": "\uff21\uff2c\uff29\uff23\uff25",
    "Cyrillic capitals": "\u0410LICE",
    "digit one for l": "a1ice",
  };
  for (const [what, name] of Object.entries(impostors)) {
    await t.step(what, () => ok(looksAlike(name, "alice"), name));
  }
  await t.step("zero for o, both ways", () => {
    ok(looksAlike("b0b", "bob"));
    ok(looksAlike("bob", "b0b"));
  });
  await t.step("different names do not", () => {
    for (const name of ["alicia", "bob", "aiice", "\u0431\u043e\u0440\u0438\u0441"]) {
      ok(!looksAlike(name, "alice"), name);
    }
  });
  await t.step("the same name in another case shares a key", () => {
    ok(nameSkeletons("ALICE").some((k) => nameSkeletons("alice").includes(k)));
  });
});

Deno.test("validateName refuses names mixing Latin with Cyrillic or Greek letters", async (t) => {
  for (const name of ["p\u0430ypal", "\u03a9mega", "bob\u0431", "\u0430\u03b1"]) {
    await t.step(name, () => strictEqual(rejected(name).code, "name_mixed_script"));
  }
  await t.step("one of those scripts, or others together, is fine", () => {
    for (
      const name of [
        "\u0431\u043e\u0440\u0438\u0441",
        "\u03c9\u03bc\u03ad\u03b3\u03b1",
        "Zo\u00eb_\u65e5\u672c",
        "\u3042\u30a2\u6f22",
      ]
    ) {
      accepted(name);
    }
  });
});
