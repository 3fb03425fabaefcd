/**
 * @module names
 *
 * Rules for user names: what a valid name looks like and the key under which two names count as
 * the same. Names appear inside protocol lines and in other users' terminals, so they are limited
 * to letters, combining marks, digits and "_", "-", "." — enough for any script, but no spaces,
 * separators such as "|" or ":", or control characters.
 *
 * Invisible characters are refused even where they count as letters or marks: anything with the
 * Unicode property Default_Ignorable_Code_Point, such as the combining grapheme joiner U+034F,
 * variation selectors (U+FE00–FE0F, U+E0100–E01EF), Mongolian free variation selectors
 * (U+180B–180F), zero-width and direction marks (U+200B–200F, U+2060–206F) and the Hangul fillers
 * U+115F, U+1160, U+3164 and U+FFA0. Otherwise "bob" and "bob" plus a filler would look the same.
 *
 * A name made only of ASCII digits and dots ("10.0.0.7", "123", "...") is refused too, because
 * operators ban IP addresses with the same syntax as names.
 *
 * A name may not mix Latin letters with Cyrillic or Greek ones (a simplified form of Unicode
 * TR39's "single script" restriction): those three scripts share letter shapes, so a mix such
 * as "pаypal" with a Cyrillic "а" exists only to impersonate. Other scripts may appear together
 * and with Latin (Japanese mixes Han, Hiragana and Katakana; "Zoë_日本" harms no one).
 *
 * Two names that would be read as the same cannot both be in use: {@link nameSkeletons} gives
 * the keys under which the chat compares them (Unicode TR39 confusable skeletons, from the
 * `unhomoglyph` package's copy of Unicode's confusables.txt).
 */

import unhomoglyph from "unhomoglyph";

/**
 * Longest allowed name, in Unicode code points after NFC normalisation.
 *
 * @example
 * ```ts
 * import { MAX_NAME_LENGTH, validateName } from "./names.ts";
 *
 * validateName("a".repeat(MAX_NAME_LENGTH)).ok; // true
 * ```
 */
export const MAX_NAME_LENGTH = 32;

/**
 * Why a name was rejected: a stable `code` for programs and a one-sentence `message` for people.
 *
 * @example
 * ```ts
 * import type { NameError } from "./names.ts";
 *
 * const error: NameError = { code: "name_empty", message: "name may not be empty." };
 * ```
 */
export type NameError = {
  code: "name_empty" | "name_too_long" | "name_invalid_char" | "name_mixed_script";
  message: string;
};

const ALLOWED_CHAR = /^[\p{L}\p{M}\p{Nd}_.\-]$/u;
/**
 * Characters that render as nothing, some of which are letters or marks. The property covers every
 * character listed in the module doc (checked by the tests), so no explicit additions are needed.
 */
const INVISIBLE_CHAR = /^\p{Default_Ignorable_Code_Point}$/u;
/** Digits and dots only: the shape of an IPv4 address (or part of one) in a ban command. */
const ADDRESS_LIKE = /^[0-9.]+$/;
/** Characters that would be invisible or ambiguous if quoted, so they are shown as U+XXXX. */
const SHOW_AS_CODE = /^[\p{C}\p{Z}]$/u;
const ALLOWED_HINT = "use letters, digits, _ - .";

/**
 * Validates a requested user name after NFC-normalising it and trimming surrounding whitespace.
 *
 * @example
 * ```ts
 * import { validateName } from "./names.ts";
 *
 * validateName("  Zoë_99 "); // { ok: true, name: "Zoë_99" }
 * validateName("a|b"); // { ok: false, error: { code: "name_invalid_char", message: ... } }
 * validateName("10.0.0.7"); // { ok: false, error: { code: "name_invalid_char", message: ... } }
 * ```
 */
export function validateName(
  raw: string,
): { ok: true; name: string } | { ok: false; error: NameError } {
  const name = raw.normalize("NFC").trim();
  if (name === "") {
    return fail("name_empty", "name may not be empty.");
  }
  let length = 0;
  let firstBad: string | undefined;
  for (const ch of name) {
    // Returning at the first code point past the limit bounds the work on a huge input.
    if (++length > MAX_NAME_LENGTH) {
      return fail("name_too_long", `name may be at most ${MAX_NAME_LENGTH} characters long.`);
    }
    if (firstBad === undefined && (!ALLOWED_CHAR.test(ch) || INVISIBLE_CHAR.test(ch))) {
      firstBad = ch;
    }
  }
  if (firstBad !== undefined) {
    return fail(
      "name_invalid_char",
      `name may not contain ${describeChar(firstBad)}: ${ALLOWED_HINT}`,
    );
  }
  if (ADDRESS_LIKE.test(name)) {
    return fail(
      "name_invalid_char",
      "name may not look like an address: use at least one letter, _ or -",
    );
  }
  const mixed = mixedScripts(name);
  if (mixed) {
    return fail(
      "name_mixed_script",
      `name may not mix ${mixed[0]} and ${mixed[1]} letters: they look alike; use one script`,
    );
  }
  return { ok: true, name };
}

/** The scripts whose letters are confusable with each other, so a name may use only one. */
const LOOKALIKE_SCRIPTS: readonly [string, RegExp][] = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
];

/** The first two of {@link LOOKALIKE_SCRIPTS} that `name` mixes, if any. */
function mixedScripts(name: string): [string, string] | undefined {
  const found = LOOKALIKE_SCRIPTS.filter(([, re]) => re.test(name)).map(([script]) => script);
  return found.length > 1 ? [found[0], found[1]] : undefined;
}

/**
 * The TR39 skeleton of `s`: NFD, each confusable character replaced by its prototype from
 * Unicode's confusables.txt, NFD again. Two strings with the same skeleton look alike.
 */
function skeleton(s: string): string {
  return unhomoglyph(s.normalize("NFD")).normalize("NFD");
}

/**
 * The keys under which `name` is compared with other names for looking alike: two names that
 * share a key would be read as the same. Both keys start from NFKC (so fullwidth "ａ" is "a")
 * and end in a lower-cased skeleton; one takes the skeleton before lower-casing, so capital "I"
 * counts as the "l" it looks like ("aIice" is "alice"), the other lower-cases first, so
 * "ＡＬＩＣＥ" is "alice" too. Names that differ only in case share the second key.
 *
 * @example
 * ```ts
 * const [key] = nameSkeletons("alice");
 * nameSkeletons("\u0430lice").includes(key); // true: a Cyrillic "а"
 * nameSkeletons("aIice").includes(key); // true: a capital "I"
 * ```
 */
export function nameSkeletons(name: string): string[] {
  const compat = name.normalize("NFKC");
  const shapeFirst = skeleton(skeleton(compat).toLowerCase());
  const caseFirst = skeleton(compat.toLowerCase());
  return shapeFirst === caseFirst ? [shapeFirst] : [shapeFirst, caseFirst];
}

/** Whether two names would be read as the same (they share a {@link nameSkeletons} key). */
export function looksAlike(a: string, b: string): boolean {
  const keys = nameSkeletons(b);
  return nameSkeletons(a).some((k) => keys.includes(k));
}

/**
 * The key under which names must be unique: NFC, then `toLowerCase()`, then NFC again because
 * lowercasing can leave a decomposed sequence that has a precomposed form (e.g. "T\u0308" →
 * "t\u0308", whose NFC is "ẗ").
 *
 * @example
 * ```ts
 * import { nameKey } from "./names.ts";
 *
 * nameKey("ALICE") === nameKey("alice"); // true
 * nameKey("\u00e9") === nameKey("e\u0301"); // true
 * ```
 */
export function nameKey(name: string): string {
  return name.normalize("NFC").toLowerCase().normalize("NFC");
}

function fail(code: NameError["code"], message: string): { ok: false; error: NameError } {
  return { ok: false, error: { code, message } };
}

function describeChar(ch: string): string {
  if (ch === " ") return "a space";
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  if (INVISIBLE_CHAR.test(ch)) return `${code} (an invisible character)`;
  if (SHOW_AS_CODE.test(ch)) return code;
  // A double quote inside double quotes would be unreadable.
  return ch === '"' ? `'"'` : `"${ch}"`;
}
