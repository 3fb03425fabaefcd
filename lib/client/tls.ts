/**
 * The client's TLS: reading a private CA (`--ca FILE`), connecting with the handshake done up
 * front (so a certificate the client does not trust fails at once, not at the first read), and
 * turning TLS failures into one line for the user. Nothing here ever falls back to plain TCP.
 *
 * @example
 * ```ts
 * const caCerts = [readCaFile("ca.pem")];
 * const conn = await connectTls({ host: "chat.example", port: 8889, caCerts });
 * ```
 * @module
 */

import { ConfigError } from "./config.ts";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * Reads `--ca FILE`: PEM text with at least one certificate. Throws {@linkcode ConfigError} with
 * one line when it is missing, unreadable or not PEM (Deno would silently ignore a bad one, and
 * the user would get a puzzling "unknown issuer" instead).
 *
 * @example
 * ```ts
 * readCaFile("/etc/fastim/ca.pem"); // "-----BEGIN CERTIFICATE-----\n…"
 * ```
 */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(`cannot read --ca ${path}: ${describeReadError(e)}`);
  }
  if (!PEM_CERTIFICATE.test(text)) {
    throw new ConfigError(
      `--ca ${path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`,
    );
  }
  return text;
}

function describeReadError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (e instanceof Deno.errors.NotCapable) return "no read permission (run with --allow-read)";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

/** A TLS handshake failed: reconnecting would fail the same way, so the client gives up. */
export class TlsHandshakeError extends Error {
  override name = "TlsHandshakeError";
}

/**
 * Connects with TLS and completes the handshake, verifying the server's certificate against the
 * public roots and `caCerts`. Throws {@linkcode TlsHandshakeError} (message: one line) when the
 * handshake fails, or the connect error as Deno threw it (refused, timed out …).
 */
export async function connectTls(
  opts: { host: string; port: number; caCerts?: string[] },
): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({
    hostname: opts.host,
    port: opts.port,
    caCerts: opts.caCerts,
  });
  try {
    await conn.handshake();
  } catch (e) {
    try {
      conn.close();
    } catch { /* already closed */ }
    throw e instanceof Deno.errors.InvalidData || e instanceof Deno.errors.UnexpectedEof
      ? new TlsHandshakeError(describeHandshakeError(e, opts.host))
      : e;
  }
  return conn;
}

/** What rustls reports for a certificate, in words. */
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  UnknownIssuer: "it is signed by a CA this client does not trust",
  BadSignature: "its signature does not match the CA this client trusts",
  Expired: "it has expired",
  NotValidYet: "it is not valid yet",
  NotValidForName: "it is not valid for HOST",
  Revoked: "it has been revoked",
  InvalidPurpose: "it is not meant for a server",
};

/**
 * One line for a failed handshake: why the certificate is not trusted, and what to do.
 *
 * @example
 * ```ts
 * describeHandshakeError(new Error("invalid peer certificate: UnknownIssuer"), "h");
 * // "the server's certificate is not trusted: it is signed by a CA this client does not trust …"
 * ```
 */
export function describeHandshakeError(e: unknown, host: string): string {
  const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
  const m = /invalid peer certificate: ([A-Za-z]+)/.exec(message);
  if (m) {
    const kind = m[1].replace(/Context$/, "");
    const why = CERTIFICATE_PROBLEMS[kind]?.replace("HOST", host) ?? kind;
    const hint = kind === "UnknownIssuer" || kind === "BadSignature"
      ? " (for a private CA, give its certificate with --ca FILE)"
      : "";
    return `the server's certificate is not trusted: ${why}${hint}`;
  }
  if (/corrupt message|InvalidContentType|peer is incompatible|eof/i.test(message)) {
    return `the TLS handshake failed (${message}): is this a TLS port?`;
  }
  return `the TLS handshake failed: ${message}`;
}
