import { notStrictEqual, strictEqual } from "node:assert/strict";
import {
  isTokenShaped,
  newBotToken,
  tokenDigest,
  tokenMatches,
} from "../../../lib/core/bot_tokens.ts";

Deno.test("bot tokens: a new token matches its digest and nothing else does", () => {
  const { token, digest } = newBotToken();
  strictEqual(isTokenShaped(token), true);
  strictEqual(tokenMatches(token, digest), true);
  const other = newBotToken();
  notStrictEqual(other.token, token);
  strictEqual(tokenMatches(other.token, digest), false);
  // One character changed is a different token.
  const last = token.at(-1) === "A" ? "B" : "A";
  strictEqual(tokenMatches(token.slice(0, -1) + last, digest), false);
});

Deno.test("bot tokens: only the digest is kept, and it is not the token", () => {
  const { token, digest } = newBotToken();
  strictEqual(digest.length, 32);
  strictEqual(new TextDecoder().decode(digest).includes(token), false);
  strictEqual(tokenDigest(token).every((b, i) => b === digest[i]), true);
});

Deno.test("bot tokens: anything not shaped like a token is refused before hashing", () => {
  const { digest } = newBotToken();
  for (
    const bad of ["", "fim_", "fim_short", "Bearer x", "fim_" + "a".repeat(44), "x".repeat(47)]
  ) {
    strictEqual(isTokenShaped(bad), false, bad);
    strictEqual(tokenMatches(bad, digest), false, bad);
  }
});
