/**
 * Terminal input decoded into keys: text, Enter, editing and cursor keys, Ctrl-C and Ctrl-D.
 * Pure, shared by the line editor and the password prompt.
 *
 * @example
 * ```ts
 * import { parseKeys } from "./keys.ts";
 *
 * parseKeys("hi\x1b[D\r").keys; // text "hi", left, enter
 * ```
 * @module
 */

/** A decoded keypress. */
export type Key =
  | { kind: "text"; text: string }
  | {
    kind:
      | "enter"
      | "backspace"
      | "delete"
      | "left"
      | "right"
      | "home"
      | "end"
      | "up"
      | "down"
      | "kill_line"
      | "kill_word"
      | "kill_to_end"
      | "interrupt"
      | "eof"
      | "redraw";
  };

const CTRL_KEYS: Record<string, Key["kind"]> = {
  "\r": "enter",
  "\n": "enter",
  "\x7f": "backspace",
  "\x08": "backspace",
  "\x01": "home",
  "\x05": "end",
  "\x02": "left",
  "\x06": "right",
  "\x10": "up",
  "\x0e": "down",
  "\x15": "kill_line",
  "\x17": "kill_word",
  "\x0b": "kill_to_end",
  "\x03": "interrupt",
  "\x04": "eof",
  "\x0c": "redraw",
};

const CSI_KEYS: Record<string, Key["kind"]> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete",
};

/**
 * Splits terminal input into keys. An escape sequence cut off at the end of `input` is returned
 * in `rest` to be prepended to the next chunk. Unknown sequences and control characters are
 * dropped, so nothing typed can smuggle an escape sequence into a message.
 */
export function parseKeys(input: string): { keys: Key[]; rest: string } {
  const keys: Key[] = [];
  let text = "";
  const flush = () => {
    if (text) keys.push({ kind: "text", text });
    text = "";
  };
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch === "\x1b") {
      flush();
      if (i + 1 >= input.length) return { keys, rest: input.slice(i) };
      const kind = input[i + 1];
      if (kind === "[" || kind === "O") {
        // CSI: parameters/intermediates, then a final byte 0x40-0x7E; SS3: one final byte.
        let j = i + 2;
        while (j < input.length && kind === "[" && /[\x20-\x3f]/.test(input[j])) j++;
        if (j >= input.length) return { keys, rest: input.slice(i) };
        const body = input.slice(i + 2, j + 1).replace(/^1;\d+(?=[A-H])/, "");
        const mapped = kind === "O" ? CSI_KEYS[input[j]] : CSI_KEYS[body];
        if (mapped) keys.push({ kind: mapped } as Key);
        i = j + 1;
      } else {
        i += 2; // Alt+key and friends: ignored
      }
      continue;
    }
    const ctrl = CTRL_KEYS[ch];
    if (ctrl) {
      flush();
      // A CR LF pair (pasted text) is one Enter.
      if (ch === "\r" && input[i + 1] === "\n") i++;
      keys.push({ kind: ctrl } as Key);
    } else if (ch === "\t") {
      text += " ";
    } else if (!isControl(ch)) {
      text += ch;
    }
    i++;
  }
  flush();
  return { keys, rest: "" };
}

/** C0 and C1 control characters (the editor handles the ones it knows before this check). */
function isControl(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}
