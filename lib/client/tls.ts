/**
 * The client's TLS: reading a private CA (`--ca FILE`), connecting with the handshake done up
 * front (so a certificate the client does not trust fails at once, not at the first read), and
 * turning TLS failures into one line for the user. Nothing here ever falls back to plain TCP.
 *
 * @example
 * ```ts
 * import { connectTls, readCaFile } from "./tls.ts";
 *
 * const caCerts = [readCaFile("ca.pem")];
 * const conn = await connectTls({ host: "chat.example", port: 8889, caCerts });
 * ```
 * @module
 */

import { ConfigError } from "./config.ts";
import { closeQuietly } from "../shared/close_quietly.ts";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * Reads `--ca FILE`: PEM text with at least one certificate. Throws {@linkcode ConfigError} with
 * one line when it is missing, unreadable or not PEM (Deno would silently ignore a bad one, and
 * the user would get a puzzling "unknown issuer" instead).
 *
 * @example
 * ```ts
 * import { readCaFile } from "./tls.ts";
 *
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
    closeQuietly(conn);
    throw e instanceof Deno.errors.InvalidData || e instanceof Deno.errors.UnexpectedEof
      ? new TlsHandshakeError(describeHandshakeError(e, opts.host))
      : e;
  }
  return conn;
}

/** What rustls reports for a certificate, in words; HOST is the host connected to. */
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  // A self-signed certificate has no issuer but itself, so it is reported like an unknown CA.
  UnknownIssuer: "it is self-signed, or signed by a CA this client does not trust " +
    "(pass that certificate, or its CA's, with --ca FILE)",
  BadSignature: "its signature does not match the CA this client trusts " +
    "(is --ca the CA that signed it?)",
  Expired: "it has expired (the server needs a new one)",
  NotValidYet: "it is not valid yet (is a clock wrong?)",
  NotValidForName: "it is not valid for HOST",
  Revoked: "it has been revoked",
  InvalidPurpose: "it is not meant for a server",
  // `openssl req -x509` marks the certificates it makes as CAs unless told otherwise.
  CaUsedAsEndEntity: "it is a CA certificate, which no client accepts as a server's own " +
    "(make it with -addext basicConstraints=critical,CA:FALSE, then pass it with --ca FILE)",
};

/**
 * One line for a failed handshake: why the certificate is not trusted, and what to do.
 *
 * @example
 * ```ts
 * import { describeHandshakeError } from "./tls.ts";
 *
 * describeHandshakeError(new Error("invalid peer certificate: UnknownIssuer"), "h");
 * // "the server's certificate is not trusted: it is self-signed, or signed by a CA …"
 * ```
 */
export function describeHandshakeError(e: unknown, host: string): string {
  const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
  const m = /invalid peer certificate: (.*)$/.exec(message);
  if (m) return `the server's certificate is not trusted: ${certificateProblem(m[1], host)}`;
  if (/corrupt message|InvalidContentType|peer is incompatible|eof/i.test(message)) {
    return `the TLS handshake failed (${message}): is this a TLS port?`;
  }
  return `the TLS handshake failed: ${message}`;
}

/**
 * rustls's reason (`UnknownIssuer`, `Other(OtherError(CaUsedAsEndEntity))`, or a sentence such
 * as `certificate not valid for name "h"; certificate is only valid for DnsName("x")`) in words.
 */
function certificateProblem(reason: string, host: string): string {
  const names = /not valid for name "[^"]*"; certificate is only valid for (.*)$/.exec(reason);
  if (names) {
    const valid = [...names[1].matchAll(/"([^"]+)"/g)].map((n) => n[1]).join(", ") || names[1];
    return `it is for ${valid}, not ${host} (connect with --host ${valid.split(", ")[0]}, ` +
      `or give the server a certificate for ${host})`;
  }
  if (/^certificate expired/i.test(reason)) return CERTIFICATE_PROBLEMS.Expired;
  if (/^certificate not valid yet/i.test(reason)) return CERTIFICATE_PROBLEMS.NotValidYet;
  const kind = /^(?:Other\(OtherError\()?([A-Za-z]+)/.exec(reason)?.[1] ?? reason;
  const known = CERTIFICATE_PROBLEMS[kind.replace(/Context$/, "")];
  return known?.replace("HOST", host) ?? kind;
}
