/**
 * The input line. On a terminal it is a small raw-mode line editor that keeps what the user is
 * typing on the bottom line: {@linkcode LineInput.print} clears that line, prints above it and
 * redraws it, so incoming messages never break the line being typed. Without a terminal it falls
 * back to reading plain lines from stdin and printing plain lines to stdout (no cursor movement).
 *
 * The editing logic ({@linkcode parseKeys}, {@linkcode EditBuffer}) is pure and unit-tested.
 * {@linkcode LineInput.readSecret} asks for a password without echo (see secret_input.ts).
 *
 * @example
 * ```ts
 * import { openLineInput } from "./line_editor.ts";
 *
 * const input = openLineInput({ editor: Deno.stdin.isTerminal() && Deno.stdout.isTerminal() });
 * const line = await input.readLine("> ");
 * input.print(`you typed ${line}`);
 * input.close();
 * ```
 * @module
 */

import { type Key, parseKeys } from "./keys.ts";
import { LineTooLongError } from "../protocol/line_splitter.ts";
import { readLines } from "./line_reader.ts";
import { readTerminalSecret, SecretBuffer, StdinBytes } from "./secret_input.ts";
import { writeAllSync } from "../shared/bytes.ts";

export { type Key, parseKeys };

/** Longest line read from a non-terminal stdin. */
export const MAX_INPUT_LINE_BYTES = 1024 * 1024;

/** Where the user's lines come from and where display lines go. */
export interface LineInput {
  /**
   * Shows `prompt` and resolves with the next line the user enters, or `null` at end of input
   * (Ctrl-D on an empty line, end of piped stdin). With `keep`, the entered line stays on screen;
   * otherwise it is cleared (chat lines come back from the server).
   */
  readLine(prompt: string, opts?: { keep?: boolean }): Promise<string | null>;
  /**
   * Shows `prompt` and reads a secret without echo, from a terminal only: resolves with it, or
   * `null` when cancelled (Ctrl-C, Ctrl-D on nothing) or when stdin is not a terminal.
   */
  readSecret(prompt: string): Promise<string | null>;
  /** Prints one or more display lines (without trailing newline). */
  print(text: string): void;
  /**
   * Shows `text` on a status row kept just above the input line (a terminal only; elsewhere it
   * does nothing, so scripts see no change). An empty `text` removes the row.
   */
  setStatus(text: string): void;
  /** Called on Ctrl-C (raw mode) or SIGINT/SIGTERM; the app leaves cleanly. */
  onInterrupt: () => void;
  /** Restores the terminal. */
  close(): void;
}

/** Terminal column width of one code point: 0 for combining marks, 2 for wide characters. */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (/\p{M}|\u200b|\u200c|\u200d|\ufe0f/u.test(ch)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd) ||
    // Emoji shown as pictures by default (✅ ⭐ ⚡ ⌚ …) take two columns, outside those ranges too.
    /\p{Emoji_Presentation}/u.test(ch)
  ) return 2;
  return 1;
}

/** Display width of a string, ignoring SGR colour sequences. */
export function textWidth(s: string): number {
  let w = 0;
  // deno-lint-ignore no-control-regex -- the prompt's own colour codes take no columns
  for (const ch of s.replace(/\x1b\[[0-9;]*m/g, "")) w += charWidth(ch);
  return w;
}

/** The line being edited: code points, a cursor, history. Pure; the terminal is elsewhere. */
export class EditBuffer {
  chars: string[] = [];
  cursor = 0;
  /** First visible code point when the line is wider than the screen. */
  scroll = 0;
  readonly history: string[] = [];
  #historyAt = 0;
  /** Lines never kept in the history (they hold a password). */
  secretLine: (line: string) => boolean = () => false;
  #draft: string[] = [];

  /** The line as a string. */
  get text(): string {
    return this.chars.join("");
  }

  /** Applies an editing key; returns the entered line on Enter, else `null`. */
  apply(key: Key): string | null {
    switch (key.kind) {
      case "text": {
        const add = [...key.text];
        this.chars.splice(this.cursor, 0, ...add);
        this.cursor += add.length;
        break;
      }
      case "backspace":
        if (this.cursor > 0) this.chars.splice(--this.cursor, 1);
        break;
      case "delete":
        this.chars.splice(this.cursor, 1);
        break;
      case "left":
        this.cursor = Math.max(0, this.cursor - 1);
        break;
      case "right":
        this.cursor = Math.min(this.chars.length, this.cursor + 1);
        break;
      case "home":
        this.cursor = 0;
        break;
      case "end":
        this.cursor = this.chars.length;
        break;
      case "kill_line":
        this.chars.splice(0, this.cursor);
        this.cursor = 0;
        break;
      case "kill_to_end":
        this.chars.length = this.cursor;
        break;
      case "kill_word": {
        let start = this.cursor;
        while (start > 0 && this.chars[start - 1] === " ") start--;
        while (start > 0 && this.chars[start - 1] !== " ") start--;
        this.chars.splice(start, this.cursor - start);
        this.cursor = start;
        break;
      }
      case "up":
      case "down":
        this.#recall(key.kind === "up" ? -1 : 1);
        break;
      case "enter": {
        const line = this.text;
        const worthKeeping = line.trim() !== "" && this.history.at(-1) !== line;
        if (worthKeeping && !this.secretLine(line)) this.history.push(line);
        this.#historyAt = this.history.length;
        this.chars = [];
        this.cursor = 0;
        this.scroll = 0;
        return line;
      }
    }
    return null;
  }

  /** Drops the line being edited and forgets `lines` entered ahead (not kept for Up/Down). */
  discard(lines: readonly string[]): void {
    for (const line of lines) {
      const at = this.history.lastIndexOf(line);
      if (at >= 0) this.history.splice(at, 1);
    }
    this.#historyAt = this.history.length;
    this.chars = [];
    this.cursor = 0;
    this.scroll = 0;
  }

  #recall(step: number): void {
    const at = this.#historyAt + step;
    if (at < 0 || at > this.history.length) return;
    if (this.#historyAt === this.history.length) this.#draft = this.chars;
    this.#historyAt = at;
    this.chars = at === this.history.length ? this.#draft : [...this.history[at]];
    this.cursor = this.chars.length;
  }

  /**
   * The visible part of the line for a screen `cols` wide after a prompt of `promptWidth`
   * columns, and the cursor's column. The line scrolls sideways instead of wrapping, so it always
   * stays on one screen row and can be redrawn with a single clear-line.
   */
  view(cols: number, promptWidth: number): { visible: string; cursorCol: number } {
    const room = Math.max(8, cols - promptWidth - 1);
    if (this.cursor < this.scroll) this.scroll = this.cursor;
    const widthBetween = (a: number, b: number) => {
      let w = 0;
      for (let i = a; i < b; i++) w += charWidth(this.chars[i]);
      return w;
    };
    while (widthBetween(this.scroll, this.cursor) >= room) this.scroll++;
    // Never hide text on the left while there is room on the right (after the screen widened, or
    // text at the end was deleted): the line ends at most at the last column.
    while (this.scroll > 0 && widthBetween(this.scroll - 1, this.chars.length) < room) {
      this.scroll--;
    }
    let visible = "";
    let w = 0;
    for (let i = this.scroll; i < this.chars.length; i++) {
      const cw = charWidth(this.chars[i]);
      if (w + cw > room) break;
      visible += this.chars[i];
      w += cw;
    }
    return { visible, cursorCol: promptWidth + widthBetween(this.scroll, this.cursor) };
  }
}

const encoder = new TextEncoder();

/** Opens the input line: the raw-mode editor when `editor`, plain stdin/stdout lines otherwise. */
export function openLineInput(opts: {
  editor: boolean;
  showPrompts?: boolean;
  /** Lines never kept for Up/Down (a password typed on the line). */
  secretLine?: (line: string) => boolean;
}): LineInput {
  return opts.editor
    ? new TtyLineEditor(opts.secretLine)
    : new PlainLineInput(opts.showPrompts ?? false);
}

/** Signals that mean "leave now": the app says goodbye to the server and restores the terminal. */
const LEAVE_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Adds `handler` for each signal the platform supports; returns a function that removes them. */
function onSignals(signals: Deno.Signal[], handler: () => void): () => void {
  const added = signals.filter((sig) => {
    try {
      Deno.addSignalListener(sig, handler);
      return true;
    } catch {
      return false; // not supported on this platform
    }
  });
  return () => added.forEach((sig) => Deno.removeSignalListener(sig, handler));
}

/** Plain lines: no raw mode, no cursor movement. */
class PlainLineInput implements LineInput {
  readonly #bytes = new StdinBytes();
  #lines: AsyncGenerator<string> | null = null;
  #eof = false;
  readonly #unlisten = onSignals(LEAVE_SIGNALS, () => this.onInterrupt());
  onInterrupt: () => void = () => {};

  constructor(private readonly showPrompts: boolean) {}

  async readLine(prompt: string): Promise<string | null> {
    if (this.#eof) return null;
    if (this.showPrompts && prompt) writeAllSync(Deno.stdout, encoder.encode(prompt));
    this.#lines ??= readLines(this.#bytes.stream(), MAX_INPUT_LINE_BYTES);
    try {
      const next = await this.#lines.next();
      if (next.done) this.#eof = true;
      return next.done ? null : next.value;
    } catch (e) {
      if (e instanceof LineTooLongError) throw new Error(`stdin: ${e.message}`);
      throw e;
    }
  }

  readSecret(prompt: string): Promise<string | null> {
    // A terminal in line mode hands over whole lines, so nothing is buffered between the two.
    if (this.#eof || !Deno.stdin.isTerminal()) return Promise.resolve(null);
    return readTerminalSecret(prompt, this.#bytes);
  }

  print(text: string): void {
    writeAllSync(Deno.stdout, encoder.encode(text + "\n"));
  }

  setStatus(): void {
    // Plain lines: no status row, so piped output stays what it was.
  }

  close(): void {
    this.#unlisten();
  }
}

/** The raw-mode editor. */
class TtyLineEditor implements LineInput {
  readonly #buf = new EditBuffer();
  #prompt = "";
  #active = false;
  #keep = false;
  #queue: string[] = [];
  #waiter: ((line: string | null) => void) | null = null;
  #eof = false;
  #closed = false;
  #unlisten: () => void = () => {};
  /** A password being typed: keys go to it, and nothing of it is ever drawn. */
  #secret: { buffer: SecretBuffer; prompt: string; done: (s: string | null) => void } | null = null;
  /** The cursor's column on the input row as last drawn (where a resize finds it). */
  #cursorCol = 0;
  /** The status row's text, and whether (and how wide) it is on screen above the input row. */
  #status = "";
  #statusShown = false;
  #statusWidth = 0;
  onInterrupt: () => void = () => {};

  constructor(secretLine?: (line: string) => boolean) {
    if (secretLine) this.#buf.secretLine = secretLine;
    Deno.stdin.setRaw(true);
    const unResize = onSignals(["SIGWINCH"], () => this.#resized());
    // In raw mode Ctrl-C is a key, but `kill` and a closing terminal still send signals.
    const unLeave = onSignals(LEAVE_SIGNALS, () => this.onInterrupt());
    this.#unlisten = () => (unResize(), unLeave());
    this.#pump();
  }

  readLine(prompt: string, opts: { keep?: boolean } = {}): Promise<string | null> {
    this.#prompt = prompt;
    this.#keep = opts.keep ?? false;
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      if (this.#keep) this.print(`${prompt}${this.#shown(queued)}`);
      return Promise.resolve(queued);
    }
    if (this.#eof) return Promise.resolve(null);
    this.#active = true;
    this.#redraw();
    return new Promise((resolve) => this.#waiter = resolve);
  }

  readSecret(prompt: string): Promise<string | null> {
    if (this.#eof || this.#closed || this.#secret) return Promise.resolve(null);
    // Whatever was typed before the prompt appeared is dropped, as a terminal flushes it for a
    // password prompt: it would otherwise be taken as the next line and echoed.
    this.#buf.discard(this.#queue.splice(0));
    this.#write(`\r\x1b[2K${prompt}`);
    this.#cursorCol = textWidth(prompt);
    return new Promise((done) => this.#secret = { buffer: new SecretBuffer(), prompt, done });
  }

  print(text: string): void {
    if (this.#closed) return;
    const body = text.split("\n").join("\r\n");
    this.#write(`${this.#top()}${body}\r\n${this.#bottom()}`);
  }

  setStatus(text: string): void {
    if (text === this.#status) return;
    this.#status = text;
    if (!this.#closed) this.#write(this.#top() + this.#bottom());
  }

  close(): void {
    if (this.#closed) return;
    this.#endSecret(null);
    this.#closed = true;
    if (this.#active || this.#statusShown) this.#write(this.#top());
    this.#statusShown = false;
    this.#active = false;
    this.#unlisten();
    try {
      Deno.stdin.setRaw(false);
    } catch { /* stdin already gone */ }
  }

  /**
   * From the input row to the start of the bottom area (the status row, if shown), clearing both:
   * what is printed next replaces them.
   */
  #top(): string {
    return `\r\x1b[2K${this.#statusShown ? "\x1b[1A\r\x1b[2K" : ""}`;
  }

  /** Draws the bottom area on cleared rows: the status row, then the input row. */
  #bottom(): string {
    let out = "";
    this.#statusShown = this.#status !== "";
    if (this.#statusShown) {
      const text = fitWidth(this.#status, consoleColumns() - 1);
      this.#statusWidth = textWidth(text);
      out += `${text}\r\n`;
    }
    this.#cursorCol = 0;
    if (this.#secret) {
      this.#cursorCol = textWidth(this.#secret.prompt);
      return out + this.#secret.prompt;
    }
    return this.#active ? out + this.#line() : out;
  }

  /** The prompt line with the cursor placed, preceded by a clear of the current row. */
  #line(): string {
    const cols = consoleColumns();
    const promptWidth = textWidth(this.#prompt);
    const { visible, cursorCol } = this.#buf.view(cols, promptWidth);
    this.#cursorCol = cursorCol;
    return `\r\x1b[2K${this.#prompt}${visible}\r${cursorCol > 0 ? `\x1b[${cursorCol}C` : ""}`;
  }

  /**
   * Redraws after the window changed size. Most terminals (tmux, VTE, kitty, iTerm2) rewrap rows
   * that no longer fit, so a narrower window turns the input row into several rows with the cursor
   * on a later one: go up to the first, clear everything below, and draw the row anew for the new
   * width. (A terminal that cuts rows instead loses a few message rows from the screen, not the
   * input.)
   */
  #resized(): void {
    if (this.#closed) return;
    const cols = consoleColumns();
    const statusRows = this.#statusShown ? Math.max(1, Math.ceil(this.#statusWidth / cols)) : 0;
    const up = Math.floor(this.#cursorCol / cols) + statusRows;
    this.#write(`${up > 0 ? `\x1b[${up}A` : ""}\r\x1b[J${this.#bottom()}`);
  }

  #redraw(): void {
    if (this.#active && !this.#closed && !this.#secret) this.#write(this.#line());
  }

  #write(s: string): void {
    writeAllSync(Deno.stdout, encoder.encode(s));
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    const chunk = new Uint8Array(4096);
    let rest = "";
    while (!this.#closed) {
      let n: number | null;
      try {
        n = await Deno.stdin.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) return this.#endOfInput();
      const parsed = parseKeys(rest + decoder.decode(chunk.subarray(0, n), { stream: true }));
      rest = parsed.rest;
      for (const key of parsed.keys) this.#handle(key);
      if (rest === "\x1b") {
        // A lone Escape key: nothing follows within this read, so drop it.
        rest = "";
      }
      this.#redraw();
    }
  }

  #handle(key: Key): void {
    if (this.#secret) {
      const step = this.#secret.buffer.apply(key);
      if (step !== null) this.#endSecret(step === "done" ? this.#secret.buffer.text : null);
      return;
    }
    if (key.kind === "interrupt") return this.onInterrupt();
    if (key.kind === "eof") {
      if (this.#buf.chars.length === 0) return this.#endOfInput();
      return void this.#buf.apply({ kind: "delete" });
    }
    if (key.kind === "redraw") return this.#write(`\x1b[2J\x1b[H${this.#bottom()}`);
    const line = this.#buf.apply(key);
    if (line === null) return;
    const waiter = this.#waiter;
    if (waiter && this.#active) {
      this.#waiter = null;
      this.#active = false;
      if (this.#keep) this.print(`${this.#prompt}${this.#shown(line)}`);
      else this.#write("\r\x1b[2K");
      this.#cursorCol = 0;
      waiter(line);
    } else {
      this.#queue.push(line);
    }
  }

  /** An entered line as left on screen: a line holding a password is not. */
  #shown(line: string): string {
    return this.#buf.secretLine(line) ? "" : line;
  }

  /** Finishes the password prompt (the prompt stays on screen, the password never was). */
  #endSecret(secret: string | null): void {
    const pending = this.#secret;
    if (!pending) return;
    this.#secret = null;
    this.print(pending.prompt);
    pending.done(secret);
  }

  #endOfInput(): void {
    this.#endSecret(null);
    this.#eof = true;
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter) {
      this.#active = false;
      this.#write("\r\x1b[2K");
      waiter(null);
    }
  }
}

/** `s` cut to at most `max` columns (its colours dropped when it has to be cut). */
function fitWidth(s: string, max: number): string {
  if (textWidth(s) <= max) return s;
  let out = "";
  let w = 0;
  // deno-lint-ignore no-control-regex -- the colour codes take no columns
  for (const ch of s.replace(/\x1b\[[0-9;]*m/g, "")) {
    if (w + charWidth(ch) > max) break;
    out += ch;
    w += charWidth(ch);
  }
  return out;
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}
