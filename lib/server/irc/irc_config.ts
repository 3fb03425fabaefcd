/**
 * The IRC listener's flags: `--irc-port`, `--no-irc`, `--ircs-port` (with `--tls-cert`). Parsed with
 * the rest of the server's flags (config.ts) into {@link IrcSettings}.
 *
 * @module
 */

import type { FlagSpec, FlagValues } from "../../shared/cli.ts";
import { parseIntFlag } from "../../shared/units.ts";

/** Where the IRC listener listens. */
export interface IrcSettings {
  /** Plain IRC port (0 picks a free one), or undefined with `--no-plain`. */
  port?: number;
  /** IRC over TLS, when TLS is on (`--tls-cert`/`--tls-key`). */
  tlsPort?: number;
}

/** The IANA ports: 6667 for IRC, 6697 for IRC over TLS. */
export const IRC_DEFAULTS = { port: 6667, tlsPort: 6697 };

/**
 * What the command line gives without any IRC flag. (`SERVER_DEFAULTS` has no IRC listener, so
 * that a server built in code, as in the tests, opens no port it was not asked for.)
 */
export const DEFAULT_IRC_SETTINGS: IrcSettings = { port: IRC_DEFAULTS.port, tlsPort: undefined };

/** The IRC flags, with their help. */
export const IRC_FLAGS: FlagSpec[] = [
  {
    name: "irc-port",
    type: "string",
    value: "PORT",
    default: String(IRC_DEFAULTS.port),
    doc: "IRC port: any IRC client joins the same chat (0 picks a free one; see docs/IRC.md)",
  },
  { name: "no-irc", type: "boolean", doc: "serve no IRC" },
  {
    name: "ircs-port",
    type: "string",
    value: "PORT",
    default: String(IRC_DEFAULTS.tlsPort),
    doc: "IRC over TLS port, with --tls-cert and --tls-key (0 picks a free one)",
  },
];

/**
 * Reads the IRC flags; throws RangeError with one line on a bad value. `tls` and `plain` are the
 * already parsed TLS settings: IRC over TLS needs TLS, and `--no-plain` turns plain IRC off too.
 *
 * @example
 * ```ts
 * import { parseIrcFlags } from "./irc_config.ts";
 *
 * parseIrcFlags({ "irc-port": "0" }, false, true); // { port: 0, tlsPort: undefined }
 * parseIrcFlags({ "no-irc": true }, false, true); // undefined
 * ```
 */
export function parseIrcFlags(
  v: FlagValues,
  tls: boolean,
  plain: boolean,
): IrcSettings | undefined {
  if (v["no-irc"]) {
    for (const flag of ["irc-port", "ircs-port"]) {
      if (v[flag] !== undefined) throw new RangeError(`--${flag} cannot go with --no-irc`);
    }
    return undefined;
  }
  let port: number | undefined = IRC_DEFAULTS.port;
  if (typeof v["irc-port"] === "string") port = parseIntFlag(v["irc-port"], "irc-port", 0, 65535);
  if (!plain) port = undefined;
  let tlsPort: number | undefined;
  if (tls) {
    tlsPort = IRC_DEFAULTS.tlsPort;
    if (typeof v["ircs-port"] === "string") {
      tlsPort = parseIntFlag(v["ircs-port"], "ircs-port", 0, 65535);
    }
  } else if (v["ircs-port"] !== undefined) {
    throw new RangeError("--ircs-port needs --tls-cert FILE and --tls-key FILE");
  }
  return { port, tlsPort };
}
