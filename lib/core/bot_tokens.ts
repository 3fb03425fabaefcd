/**
 * Bot tokens: made once, shown once, kept only as a digest. A token is 32 random bytes (256 bits),
 * so a plain SHA-256 digest is enough to keep a stolen database from giving tokens away: the slow,
 * salted scrypt of accounts.ts exists because passwords are guessable, and a 256-bit random token
 * is not. The fast digest also lets every HTTP request be checked without taking a hash slot.
 *
 * @module
 */

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every token starts with this, so a leaked one is easy to recognise in logs and scanners. */
export const TOKEN_PREFIX = "fim_";
/** Random bytes per token. */
const TOKEN_BYTES = 32;
/** A token's exact shape: the prefix and 43 base64url characters (32 bytes, no padding). */
const TOKEN_SHAPE = /^fim_[A-Za-z0-9_-]{43}$/;

/** A freshly made token and the digest to store in its place. */
export interface NewBotToken {
  token: string;
  digest: Uint8Array;
}

/**
 * Makes a new token. Show `token` to the admin once; store only `digest`.
 *
 * @example
 * ```ts
 * import { newBotToken, tokenMatches } from "./bot_tokens.ts";
 *
 * const { token, digest } = newBotToken();
 * tokenMatches(token, digest); // true
 * ```
 */
export function newBotToken(): NewBotToken {
  const token = TOKEN_PREFIX + base64url(randomBytes(TOKEN_BYTES));
  return { token, digest: tokenDigest(token) };
}

/** The digest stored for `token` (SHA-256 of its UTF-8 bytes). */
export function tokenDigest(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token, "utf8").digest());
}

/** Whether `token` has a token's shape; anything else is refused before any lookup. */
export function isTokenShaped(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** Whether `token` is the one whose digest is `digest`, compared in constant time. */
export function tokenMatches(token: string, digest: Uint8Array): boolean {
  if (!isTokenShaped(token)) return false;
  const candidate = tokenDigest(token);
  return candidate.length === digest.length && timingSafeEqual(candidate, digest);
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
