/**
 * FastIM names as IRC nicks and back. A FastIM name is letters, digits, `_ - .` (see
 * lib/shared/names.ts), and a guest who has not chosen one is named after its address
 * (`127.0.0.1:5000`, `[::1]:5000`). IRC nicks may not contain `.` or `:`, so those two are written
 * as `|` and `^`, which no FastIM name can contain: the mapping is one-to-one both ways, every user
 * is addressable from IRC (`jo.ann` is `jo|ann`, `10.0.0.7:5000` is `10|0|0|7^5000`), and an IRC
 * nick names exactly one FastIM name. Whether a name may be taken at all (look-alikes, registered
 * names, mixed scripts) is the core's rule, the same for every transport.
 *
 * @module
 */

/**
 * The IRC nick of a FastIM name.
 *
 * @example
 * ```ts
 * import { nickOf } from "./irc_names.ts";
 *
 * nickOf("jo.ann"); // "jo|ann"
 * nickOf("127.0.0.1:5000"); // "127|0|0|1^5000"
 * ```
 */
export function nickOf(name: string): string {
  return name.replaceAll(".", "|").replaceAll(":", "^");
}

/**
 * The FastIM name an IRC nick stands for (the inverse of {@link nickOf}).
 *
 * @example
 * ```ts
 * import { nameOf } from "./irc_names.ts";
 *
 * nameOf("jo|ann"); // "jo.ann"
 * ```
 */
export function nameOf(nick: string): string {
  return nick.replaceAll("|", ".").replaceAll("^", ":");
}

/** Characters no nick may hold (Modern IRC), and `.` which ours never hold (it would be `|`). */
const NOT_IN_NICK = /[ ,*?!@.:]/;

/**
 * Why `nick` cannot be a nick at all (before the core's name rules), or undefined.
 *
 * @example
 * ```ts
 * import { badNick } from "./irc_names.ts";
 *
 * badNick("alice"); // undefined
 * badNick("#alice"); // "a nick may not start with #, &, $ or :"
 * ```
 */
export function badNick(nick: string): string | undefined {
  if (nick === "") return "a nick may not be empty";
  if (/^[#&$:]/.test(nick)) return "a nick may not start with #, &, $ or :";
  const bad = NOT_IN_NICK.exec(nick);
  if (bad) {
    return bad[0] === "."
      ? 'a nick may not contain "." (write "|" for the "." of a FastIM name)'
      : `a nick may not contain ${bad[0] === " " ? "a space" : `"${bad[0]}"`}`;
  }
  return undefined;
}

/**
 * The host shown in `nick!user@host` for a user at `addr` (`IP:PORT`): its IP, with a `0` before
 * an IPv6 address that starts with `:` (a word may not start with `:` in IRC).
 *
 * @example
 * ```ts
 * import { hostOf } from "./irc_names.ts";
 *
 * hostOf("127.0.0.1:5000"); // "127.0.0.1"
 * hostOf("[::1]:5000"); // "0::1"
 * ```
 */
export function hostOf(addr: string | undefined): string {
  if (!addr) return "fastim";
  const m = /^\[(.*)\]:\d+$/.exec(addr) ?? /^(.*):\d+$/.exec(addr);
  const ip = m ? m[1] : addr;
  return ip.startsWith(":") ? `0${ip}` : ip || "fastim";
}
