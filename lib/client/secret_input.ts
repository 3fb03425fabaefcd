/**
 * Reading a password from the terminal without echo: raw mode, nothing printed per key, Enter
 * ends it, Ctrl-C (or Ctrl-D on an empty line) cancels. The line editor has the same keys built
 * in (it owns stdin while it runs); {@linkcode readTerminalSecret} is for when no editor does
 * (`--send`, or no cursor movement: `TERM=dumb`, stdout not a terminal).
 *
 * @example
 * ```ts
 * import { readTerminalSecret, StdinBytes } from "./secret_input.ts";
 *
 * const password = await readTerminalSecret("password: ", new StdinBytes());
 * if (password === null) console.error("cancelled");
 * ```
 * @module
 */

import { type Key, parseKeys } from "./keys.ts";
import { writeAllSync } from "../shared/bytes.ts";

/** What a key did to a secret being typed. */
export type SecretStep = "done" | "cancel" | null;

/** The secret being typed. Pure: the terminal is elsewhere. */
export class SecretBuffer {
  #chars: string[] = [];

  /** The secret typed so far. */
  get text(): string {
    return this.#chars.join("");
  }

  /** Applies a key: Enter is `done`, Ctrl-C or Ctrl-D on nothing is `cancel`. */
  apply(key: Key): SecretStep {
    switch (key.kind) {
      case "text":
        this.#chars.push(...key.text);
        return null;
      case "backspace":
        this.#chars.pop();
        return null;
      case "kill_line":
      case "kill_word":
        this.#chars = [];
        return null;
      case "enter":
        return "done";
      case "interrupt":
        return "cancel";
      case "eof":
        return this.#chars.length === 0 ? "cancel" : null;
      default:
        return null; // cursor keys and the like: there is no cursor to move
    }
  }
}

/** Bytes from stdin, read only when asked (so raw and cooked reads can take turns). */
export class StdinBytes {
  readonly #pushback: Uint8Array[] = [];
  readonly #buf = new Uint8Array(4096);

  /** The next bytes from stdin; `null` at end of input. */
  async read(): Promise<Uint8Array | null> {
    const back = this.#pushback.shift();
    if (back) return back;
    const n = await Deno.stdin.read(this.#buf);
    return n === null ? null : this.#buf.slice(0, n);
  }

  /** Puts bytes back to be read first (typed ahead after a secret's Enter). */
  unread(bytes: Uint8Array): void {
    if (bytes.length > 0) this.#pushback.unshift(bytes);
  }

  /** The same bytes as a stream that reads nothing ahead of its consumer. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const bytes = await this.read();
        if (bytes === null) controller.close();
        else controller.enqueue(bytes);
      },
    }, { highWaterMark: 0 });
  }
}

const encoder = new TextEncoder();

/**
 * Shows `prompt` on stderr and reads a secret from the terminal in raw mode; resolves with it, or
 * `null` when cancelled or at end of input. Restores the terminal mode before returning.
 */
export async function readTerminalSecret(
  prompt: string,
  bytes: StdinBytes,
): Promise<string | null> {
  const write = (s: string) => writeAllSync(Deno.stderr, encoder.encode(s));
  const secret = new SecretBuffer();
  const decoder = new TextDecoder();
  let rest = "";
  write(prompt);
  Deno.stdin.setRaw(true);
  try {
    while (true) {
      const chunk = await bytes.read();
      if (chunk === null) return null;
      const text = rest + decoder.decode(chunk, { stream: true });
      const parsed = parseKeys(text);
      rest = parsed.rest;
      for (let i = 0; i < parsed.keys.length; i++) {
        const step = secret.apply(parsed.keys[i]);
        if (step === null) continue;
        bytes.unread(encoder.encode(typeAhead(parsed.keys.slice(i + 1)) + rest));
        return step === "done" ? secret.text : null;
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    write("\n");
  }
}

/** Text keys typed after the secret's Enter, kept for the next line (other keys are dropped). */
function typeAhead(keys: Key[]): string {
  return keys.map((k) => k.kind === "text" ? k.text : k.kind === "enter" ? "\n" : "").join("");
}
