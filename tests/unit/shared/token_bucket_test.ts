import { ok, strictEqual, throws } from "node:assert/strict";
import { TokenBucket } from "../../../lib/shared/token_bucket.ts";

Deno.test("TokenBucket allows a burst, then refills at its rate", async (t) => {
  const b = new TokenBucket(10, 20, 0);
  await t.step("the burst is allowed at once", () => {
    for (let i = 0; i < 20; i++) strictEqual(b.take(1, 0), 0);
  });
  await t.step("the next one waits a tenth of a second", () => {
    strictEqual(b.take(1, 0), 100);
    strictEqual(b.take(1, 50), 50);
    strictEqual(b.take(1, 100), 0);
  });
  await t.step("it never holds more than the burst", () => {
    strictEqual(b.tokens(1_000_000), 20);
    ok(b.full(1_000_000));
  });
  await t.step("a clock going backwards mints nothing", () => {
    b.take(20, 1_000_000);
    strictEqual(b.tokens(0), 0);
    strictEqual(b.tokens(1_000_000), 0);
  });
  await t.step("charge goes into debt, and debt must be repaid", () => {
    const d = new TokenBucket(1000, 1000, 0);
    d.charge(3000, 0);
    strictEqual(d.tokens(0), -2000);
    strictEqual(d.waitMs(0, 0), 2000);
    strictEqual(d.waitMs(0, 2000), 0);
  });
  await t.step("a zero rate or burst is refused", () => {
    throws(() => new TokenBucket(0, 1, 0), RangeError);
    throws(() => new TokenBucket(1, 0, 0), RangeError);
  });
});
