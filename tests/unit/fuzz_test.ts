/**
 * A short, fixed-seed fuzz pass over the parsers, encoders and core (see tests/fuzz/fuzz.ts);
 * `deno task fuzz` runs a long one with a fresh seed.
 *
 * @module
 */

import { fuzz, TARGETS } from "../fuzz/fuzz.ts";

/** Fixed so that CI is reproducible; `deno task fuzz` explores other seeds. */
const SEED = 0xfa57_1e;
const ITERATIONS = [3000, 3000, 400, 3000];

for (const [i, target] of TARGETS.entries()) {
  Deno.test(`fuzz: ${target.name} (seed ${SEED}, ${ITERATIONS[i]} iterations)`, () => {
    fuzz(i, SEED, ITERATIONS[i]);
  });
}
