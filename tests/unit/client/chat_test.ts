import assert from "node:assert/strict";
import { describeRefusal, retryDelayMs } from "../../../lib/client/chat.ts";
import type { Frame } from "../../../lib/client/connection.ts";

const limited = (f: Record<string, unknown>) =>
  ({ type: "error", code: "rate_limited", ...f }) as Frame;

Deno.test("client chat: a rate-limited request waits as long as the server says", () => {
  assert.equal(retryDelayMs(limited({ retryAfterMs: 250 })), 250);
  assert.equal(
    retryDelayMs(
      limited({ message: "slow down: at most 10 messages per second; try again in 0.4 s" }),
    ),
    400,
  );
  assert.equal(retryDelayMs(limited({ message: "try again in 1.5 min" })), 60_000, "capped");
  assert.equal(retryDelayMs(limited({ message: "try again in 0.0 s" })), 50, "at least 50 ms");
  assert.equal(retryDelayMs(limited({ message: "slow down" })), 1000, "a second if unsaid");
});

Deno.test("client chat: a refusal that names the text dialect's join says /join", () => {
  assert.equal(
    describeRefusal({
      type: "error",
      code: "no_such_room",
      message: "there is no room #ops: join|#ops creates it",
    }),
    "there is no room #ops: /join #ops creates it",
  );
  assert.equal(
    describeRefusal({
      type: "error",
      code: "not_in_room",
      message: "you are not in #a: join|#a first",
    }),
    "you are not in #a: /join #a first",
  );
});
