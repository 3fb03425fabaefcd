import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { concat, writeAll, writeAllSync } from "../../../lib/shared/bytes.ts";

/** A writer that takes at most `most` bytes a call, as a socket under pressure does. */
function stingy(most: number) {
  const got: number[] = [];
  const take = (b: Uint8Array) => {
    const n = Math.min(most, b.length);
    got.push(...b.subarray(0, n));
    return n;
  };
  return { got, write: (b: Uint8Array) => Promise.resolve(take(b)), writeSync: take };
}

Deno.test("concat joins chunks in order, empty ones included", () => {
  deepStrictEqual(
    concat([Uint8Array.of(1), new Uint8Array(), Uint8Array.of(2, 3)]),
    Uint8Array.of(1, 2, 3),
  );
  strictEqual(concat([]).length, 0);
});

Deno.test("writeAll and writeAllSync keep writing until every byte is taken", async () => {
  const bytes = Uint8Array.from({ length: 10 }, (_, i) => i);
  const a = stingy(3);
  await writeAll(a, bytes);
  deepStrictEqual(a.got, [...bytes]);
  const b = stingy(4);
  writeAllSync(b, bytes);
  deepStrictEqual(b.got, [...bytes]);
});
