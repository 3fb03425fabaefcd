/**
 * The runtime flags that `deno task compile` bakes into each binary (permissions, unstable APIs,
 * V8 settings), read from deno.json so that tests and benchmarks run the entrypoints with exactly
 * those flags and cannot drift from them.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/**
 * Returns the `--allow-*` / `--deny-*` / `--unstable-*` / `--v8-flags` flags of the `deno compile`
 * command that builds `entry`.
 *
 * @example
 * ```ts
 * const flags = permissionFlags("server"); // e.g. ["--allow-net"]
 * ```
 */
export function permissionFlags(entry: "server" | "client"): string[] {
  const commands = denoJson.tasks.compile.split("&&").map((c) => c.trim().split(/\s+/));
  const command = commands.find((words) => words.includes(`${entry}.ts`));
  if (!command) throw new Error(`deno.json compile task does not build ${entry}.ts`);
  return command.filter((w) => /^--(allow-|deny-|unstable-|v8-flags=)/.test(w));
}
