/**
 * IRC messages (RFC 1459/2812 as the Modern IRC document describes them, with IRCv3 message tags):
 * parsing one line into tags, source, command and parameters, and serializing one back. Pure and
 * total: every input line gives a message or one line of error, never an exception.
 *
 * @module
 */

/** One parsed IRC message. */
export interface IrcMessage {
  /** IRCv3 tags, unescaped; a tag without a value is `""`. */
  tags: Record<string, string>;
  /** The source (`nick!user@host` or a server name), without its `:`. */
  source?: string;
  /** The command, upper-cased (`PRIVMSG`), or a three-digit numeric. */
  command: string;
  /** The parameters, the trailing one (after ` :`) last, unescaped. */
  params: string[];
}

/** Most parameters a message may carry (RFC 2812 allows 15). */
export const MAX_PARAMS = 15;
/** Most bytes of tags a client may send (the IRCv3 message-tags limit). */
export const MAX_CLIENT_TAG_BYTES = 4094;

const COMMAND = /^(?:[A-Za-z]+|[0-9]{3})$/;
const TAG_KEY = /^\+?(?:[A-Za-z0-9.-]+\/)?[A-Za-z0-9-]+$/;

/**
 * Parses one line (without its CR LF) into a message, or says in one line why it is not one.
 *
 * @example
 * ```ts
 * import { parseIrcLine } from "./irc_message.ts";
 *
 * parseIrcLine("@time=x :alice!a@h PRIVMSG #dev :hi there");
 * // { tags: { time: "x" }, source: "alice!a@h", command: "PRIVMSG", params: ["#dev", "hi there"] }
 * ```
 */
export function parseIrcLine(line: string): IrcMessage | { error: string } {
  let rest = line;
  const tags: Record<string, string> = {};
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    if (space < 0) return { error: "a message needs a command after its tags" };
    const raw = rest.slice(1, space);
    if (raw.length > MAX_CLIENT_TAG_BYTES) return { error: "the tags are too long" };
    for (const part of raw.split(";")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const key = eq < 0 ? part : part.slice(0, eq);
      if (!TAG_KEY.test(key)) return { error: `bad tag name ${JSON.stringify(key.slice(0, 40))}` };
      tags[key] = eq < 0 ? "" : unescapeTag(part.slice(eq + 1));
    }
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  let source: string | undefined;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    if (space < 0) return { error: "a message needs a command after its source" };
    source = rest.slice(1, space);
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  const params: string[] = [];
  let command = "";
  while (rest !== "") {
    if (command !== "" && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space + 1).replace(/^ +/, "");
    if (command === "") command = word;
    else params.push(word);
    if (params.length > MAX_PARAMS) return { error: `more than ${MAX_PARAMS} parameters` };
  }
  if (command === "") return { error: "a message needs a command" };
  if (!COMMAND.test(command)) {
    return { error: `bad command ${JSON.stringify(command.slice(0, 40))}` };
  }
  return { tags, source, command: command.toUpperCase(), params };
}

/**
 * Serializes a message to one line without CR LF. The last parameter is sent as a trailing one
 * (`:` first) after another parameter or when it needs to be; CR, LF and NUL, which would end or
 * break the line, become spaces (`_` in a middle parameter, which cannot hold a space), so no
 * value can inject a second line or parameter.
 *
 * @example
 * ```ts
 * import { formatIrcLine } from "./irc_message.ts";
 *
 * formatIrcLine({ tags: {}, source: "fastim", command: "001", params: ["alice", "Welcome"] });
 * // ":fastim 001 alice :Welcome"
 * formatIrcLine({ tags: {}, command: "JOIN", params: ["#dev"] }); // "JOIN #dev"
 * formatIrcLine({ tags: {}, command: "PRIVMSG", params: ["#dev", "hi there"] });
 * // "PRIVMSG #dev :hi there"
 * ```
 */
export function formatIrcLine(message: IrcMessage): string {
  let out = "";
  const tagParts = Object.entries(message.tags).map(([k, v]) =>
    v === "" ? k : `${k}=${escapeTag(v)}`
  );
  if (tagParts.length > 0) out += `@${tagParts.join(";")} `;
  if (message.source) out += `:${safe(message.source).replaceAll(" ", "_")} `;
  out += message.command;
  const { params } = message;
  for (let i = 0; i < params.length; i++) {
    const p = safe(params[i]);
    const last = i === params.length - 1;
    // Always trailing after another parameter, as servers do (some clients expect it).
    if (last && (i > 0 || p === "" || p.includes(" ") || p.startsWith(":"))) out += ` :${p}`;
    else out += ` ${p.replaceAll(" ", "_").replace(/^:/, "_")}`;
  }
  return out;
}

// deno-lint-ignore no-control-regex -- the characters that would end or break an IRC line
const LINE_BREAKERS = /[\r\n\x00]/g;

function safe(s: string): string {
  return s.replace(LINE_BREAKERS, " ");
}

/** Escapes a tag value (IRCv3 message-tags). */
export function escapeTag(value: string): string {
  return value.replace(
    // deno-lint-ignore no-control-regex -- the characters a tag value must escape
    /[\\; \r\n\x00]/g,
    (c) =>
      c === "\\"
        ? "\\\\"
        : c === ";"
        ? "\\:"
        : c === " "
        ? "\\s"
        : c === "\r"
        ? "\\r"
        : c === "\n"
        ? "\\n"
        : "",
  );
}

/** Unescapes a tag value: `\:` `\s` `\\` `\r` `\n`; any other `\x` is `x`; a lone `\` at the end is dropped. */
export function unescapeTag(value: string): string {
  if (!value.includes("\\")) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break;
    out += next === ":"
      ? ";"
      : next === "s"
      ? " "
      : next === "r"
      ? "\r"
      : next === "n"
      ? "\n"
      : next;
  }
  return out;
}
