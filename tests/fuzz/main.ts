/**
 * `deno task fuzz`: a long fuzz run with a fresh seed (or a given one), printed first so that any
 * failure can be rerun.
 *
 *     deno task fuzz [--seed N] [--iterations N] [--target I] [--from I]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fuzz, FuzzFailure, TARGETS } from "./fuzz.ts";

function int(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) {
    throw new RangeError(`--${flag} expects a whole number; got "${value}"`);
  }
  return Number(value);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string" },
      iterations: { type: "string" },
      target: { type: "string" },
      from: { type: "string" },
    },
  });
  const seed = int(values.seed, crypto.getRandomValues(new Uint32Array(1))[0], "seed") >>> 0;
  const iterations = int(values.iterations, 50_000, "iterations");
  const from = int(values.from, 0, "from");
  const only = values.target === undefined ? undefined : int(values.target, 0, "target");
  console.log(`fuzz: seed ${seed}, ${iterations} iterations per target`);
  let failed = 0;
  for (const [i, target] of TARGETS.entries()) {
    if (only !== undefined && i !== only) continue;
    const started = performance.now();
    try {
      fuzz(i, seed, iterations, from);
      console.log(`ok   ${target.name} (${Math.round(performance.now() - started)} ms)`);
    } catch (e) {
      if (!(e instanceof FuzzFailure)) throw e;
      failed++;
      console.log(`FAIL ${e.message}`);
    }
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
