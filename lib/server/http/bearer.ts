/**
 * The bot HTTP API's credentials: `Authorization: Bearer <token>`, the header Matterbridge's api
 * gateway reads (its echo KeyAuth middleware), and the 401 answer with a JSON error for a missing,
 * malformed or unknown token. Whether a token is known is decided elsewhere; this reads the header.
 *
 * @module
 */

/** The largest Authorization header read; a token is 47 characters, so this is generous. */
const MAX_HEADER_LENGTH = 256;

/** The token from an Authorization header, or the one-line reason there is none. */
export type BearerResult = { ok: true; token: string } | { ok: false; error: string };

/** Reads `Authorization: Bearer <token>` (the scheme is case-insensitive, as RFC 6750 says). */
export function bearerToken(header: string | null): BearerResult {
  if (header === null || header.trim() === "") {
    return { ok: false, error: "missing bearer token (send Authorization: Bearer <token>)" };
  }
  if (header.length > MAX_HEADER_LENGTH) {
    return { ok: false, error: "authorization header too long" };
  }
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match) return { ok: false, error: "authorization is not a bearer token" };
  return { ok: true, token: match[1] };
}

/** The 401 answer: `{"error": "..."}` with the challenge RFC 6750 asks for. */
export function unauthorized(error: string): Response {
  return new Response(JSON.stringify({ error }) + "\n", {
    status: 401,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "www-authenticate": 'Bearer realm="fastim"',
      "cache-control": "no-store",
    },
  });
}
