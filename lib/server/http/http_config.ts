/**
 * The HTTP front's flags: where it listens, who may open `/ws` from which page, and who may read
 * `/metrics`. Parsed with the rest of the server's flags (config.ts) into {@link HttpSettings}.
 *
 * @module
 */

import type { FlagSpec, FlagValues } from "../../shared/cli.ts";
import { parseIntFlag } from "../../shared/units.ts";

/** The HTTP front's settings. */
export interface HttpSettings {
  /** Plain HTTP port (0 picks a free one), or undefined with `--no-http` or `--no-plain`. */
  port?: number;
  /** HTTPS port, when TLS is on (`--tls-cert`/`--tls-key`). */
  httpsPort?: number;
  /** Origins besides the page's own that may open `/ws` (`https://chat.example.org`). */
  allowedOrigins: string[];
  /** Addresses that may read `/metrics`; empty turns `/metrics` off. */
  metricsAllow: string[];
}

/** Defaults, one place. */
export const HTTP_DEFAULTS = {
  port: 8080,
  httpsPort: 8443,
  /** Loopback only: an operator opens it to the scraper's address on purpose. */
  metricsAllow: ["127.0.0.1", "::1"],
};

/**
 * What the command line gives without any HTTP flag. (`SERVER_DEFAULTS` has no HTTP front, so
 * that a server built in code, as in the tests, opens no port it was not asked for.)
 */
export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  port: HTTP_DEFAULTS.port,
  httpsPort: undefined,
  allowedOrigins: [],
  metricsAllow: HTTP_DEFAULTS.metricsAllow,
};

/** The HTTP front's flags, with their help. */
export const HTTP_FLAGS: FlagSpec[] = [
  {
    name: "http-port",
    type: "string",
    value: "PORT",
    default: String(HTTP_DEFAULTS.port),
    doc:
      "HTTP port for the chat page, /ws, the bot API /api/*, /healthz and /metrics (0 picks a free one)",
  },
  { name: "no-http", type: "boolean", doc: "serve no HTTP (no page, WebSocket or metrics)" },
  {
    name: "https-port",
    type: "string",
    value: "PORT",
    default: String(HTTP_DEFAULTS.httpsPort),
    doc: "HTTPS port, with --tls-cert and --tls-key (0 picks a free one)",
  },
  {
    name: "allowed-origins",
    type: "string",
    value: "ORIGINS",
    doc: "comma-separated origins besides the page's own that may open /ws " +
      "(e.g. https://chat.example.org)",
  },
  {
    name: "metrics-allow",
    type: "string",
    value: "ADDRS",
    default: HTTP_DEFAULTS.metricsAllow.join(","),
    doc: "comma-separated client addresses that may read /metrics; off = no /metrics",
  },
];

/**
 * Reads the HTTP flags; throws RangeError with one line on a bad value. `tls` and `plain` are the
 * already parsed TLS settings: HTTPS needs TLS, and `--no-plain` turns plain HTTP off too.
 *
 * @example
 * ```ts
 * import { parseHttpFlags } from "./http_config.ts";
 *
 * parseHttpFlags({ "http-port": "0" }, false, true); // { port: 0, allowedOrigins: [], ... }
 * ```
 */
export function parseHttpFlags(
  v: FlagValues,
  tls: boolean,
  plain: boolean,
): HttpSettings | undefined {
  const list = (flag: string) => {
    const value = v[flag];
    return typeof value === "string"
      ? value.split(",").map((s) => s.trim()).filter((s) => s !== "")
      : undefined;
  };
  if (v["no-http"]) {
    for (const flag of ["http-port", "https-port", "allowed-origins", "metrics-allow"]) {
      if (v[flag] !== undefined) throw new RangeError(`--${flag} cannot go with --no-http`);
    }
    return undefined;
  }
  let port: number | undefined = HTTP_DEFAULTS.port;
  if (typeof v["http-port"] === "string") {
    port = parseIntFlag(v["http-port"], "http-port", 0, 65535);
  }
  if (!plain) port = undefined;
  let httpsPort: number | undefined;
  if (tls) {
    httpsPort = HTTP_DEFAULTS.httpsPort;
    if (typeof v["https-port"] === "string") {
      httpsPort = parseIntFlag(v["https-port"], "https-port", 0, 65535);
    }
  } else if (v["https-port"] !== undefined) {
    throw new RangeError("--https-port needs --tls-cert FILE and --tls-key FILE");
  }
  if (port !== undefined && port !== 0 && port === httpsPort) {
    throw new RangeError("--https-port must differ from --http-port");
  }
  const allowedOrigins = list("allowed-origins") ?? [];
  for (const origin of allowedOrigins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch { /* reported below */ }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin.replace(/\/$/, "")) {
      throw new RangeError(
        `--allowed-origins expects origins like https://chat.example.org; got "${origin}"`,
      );
    }
  }
  let metricsAllow = list("metrics-allow") ?? HTTP_DEFAULTS.metricsAllow;
  if (metricsAllow.length === 1 && metricsAllow[0] === "off") metricsAllow = [];
  return {
    port,
    httpsPort,
    allowedOrigins: allowedOrigins.map((o) => new URL(o).origin),
    metricsAllow,
  };
}
