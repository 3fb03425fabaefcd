/**
 * JSONC, the config files' format: JSON plus `//` and `/* *\/` comments and trailing commas. A few
 * lines of our own rather than a dependency: comments and trailing commas become spaces (so
 * positions in `JSON.parse`'s errors stay true), then `JSON.parse` does the rest.
 *
 * @module
 */

/** JSONC that does not parse; `line` and `column` (1-based) say where, when known. */
export class JsoncError extends SyntaxError {
  override name = "JsoncError";
  constructor(message: string, readonly line?: number, readonly column?: number) {
    super(message);
  }
}

/**
 * Parses JSONC text. Throws {@link JsoncError} with the line and column of the problem.
 *
 * @example
 * ```ts
 * parseJsonc('{ "port": 9000, // the chat\n }'); // { port: 9000 }
 * ```
 */
export function parseJsonc(text: string): unknown {
  const json = stripJsonc(text);
  try {
    return JSON.parse(json);
  } catch (e) {
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    const reason = message.replace(/ in JSON at position \d+.*$/s, "").replace(
      /^JSON\.parse: /,
      "",
    );
    if (!at) throw new JsoncError(reason);
    const before = json.slice(0, Number(at[1]));
    const line = before.split("\n").length;
    const column = Number(at[1]) - before.lastIndexOf("\n");
    throw new JsoncError(`${reason} (line ${line}, column ${column})`, line, column);
  }
}

/** `text` with comments and trailing commas replaced by spaces (newlines kept). */
function stripJsonc(text: string): string {
  const out = text.split("");
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  let i = 0;
  /** Index of the last comma outside strings, while only whitespace and comments follow it. */
  let pendingComma = -1;
  /** The last character outside strings and comments that is not whitespace. */
  let previous = "";
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      pendingComma = -1;
      previous = c;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) throw new JsoncError("unterminated /* comment");
      blank(i, end + 2);
      i = end + 2;
    } else if (c === ",") {
      // Only a comma after a value can be trailing: `{,}` and `[1,,]` stay errors.
      pendingComma = previous === "" || "{[,".includes(previous) ? -1 : i;
      previous = c;
      i++;
    } else {
      if ((c === "}" || c === "]") && pendingComma >= 0) out[pendingComma] = " ";
      if (!/\s/.test(c)) {
        pendingComma = -1;
        previous = c;
      }
      i++;
    }
  }
  return out.join("");
}
