/**
 * The runtime flags that `deno task compile` bakes into each binary (permissions, unstable APIs,
 * V8 settings), read from scripts/build.ts so that tests and benchmarks run the entrypoints with
 * exactly those flags and cannot drift from them.
 *
 * @module
 */

import { RUNTIME_FLAGS } from "../../scripts/build.ts";

/**
 * Returns the `--allow-*` / `--unstable-*` / `--v8-flags` flags the compiled `entry` runs with.
 *
 * @example
 * ```ts
 * const flags = permissionFlags("server"); // e.g. ["--unstable-net", ..., "--allow-net"]
 * ```
 */
export function permissionFlags(entry: "server" | "client"): string[] {
  return [...RUNTIME_FLAGS[entry]];
}
