import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { ChunkQueue, concat, writeAll, writeAllSync } from "../../../lib/shared/bytes.ts";

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

Deno.test("ChunkQueue reads chunks out in order, across buffers of any size", () => {
  const q = new ChunkQueue();
  strictEqual(q.empty, true);
  strictEqual(q.readInto(new Uint8Array(4)), 0);
  const text = ["hello\n", "", "wide 🌍 world\n", "x"];
  for (const t of text) q.push(new TextEncoder().encode(t));
  const out: number[] = [];
  // Buffers of 1, 2, 3... bytes: a chunk is split across reads, and several fill one read.
  for (let size = 1; !q.empty; size++) {
    const buf = new Uint8Array(size);
    const n = q.readInto(buf);
    strictEqual(n <= size, true);
    out.push(...buf.subarray(0, n));
  }
  strictEqual(new TextDecoder().decode(new Uint8Array(out)), text.join(""));
  strictEqual(q.readInto(new Uint8Array(8)), 0);
});
