import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { bearerToken, unauthorized } from "../../../lib/server/http/bearer.ts";

Deno.test("bearer: the token is read from Authorization: Bearer, any case of the scheme", () => {
  deepStrictEqual(bearerToken("Bearer fim_abc"), { ok: true, token: "fim_abc" });
  deepStrictEqual(bearerToken("bearer fim_abc"), { ok: true, token: "fim_abc" });
});

Deno.test("bearer: missing, other schemes, extra words and huge headers are refused in one line", () => {
  const errorOf = (header: string | null) => {
    const result = bearerToken(header);
    return result.ok ? "accepted" : result.error;
  };
  strictEqual(errorOf(null), "missing bearer token (send Authorization: Bearer <token>)");
  strictEqual(errorOf("  "), "missing bearer token (send Authorization: Bearer <token>)");
  strictEqual(errorOf("Basic dXNlcjpwYXNz"), "authorization is not a bearer token");
  strictEqual(errorOf("Bearer"), "authorization is not a bearer token");
  strictEqual(errorOf("Bearer a b"), "authorization is not a bearer token");
  strictEqual(errorOf("Bearer " + "a".repeat(300)), "authorization header too long");
});

Deno.test("bearer: the 401 answer is JSON with a Bearer challenge", async () => {
  const response = unauthorized("unknown or revoked token");
  strictEqual(response.status, 401);
  strictEqual(response.headers.get("www-authenticate"), 'Bearer realm="fastim"');
  strictEqual(response.headers.get("content-type"), "application/json; charset=utf-8");
  deepStrictEqual(await response.json(), { error: "unknown or revoked token" });
});
