/**
 * The release version, from deno.json so it is written in one place, and what a binary was built
 * from: `deno task compile` (scripts/build.ts) writes the git commit into `build_info.json` beside
 * this file and `--include`s it in the binary; run from source there is no such file.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** FastIM's version, e.g. `0.1.0`. */
export const VERSION: string = denoJson.version;

/** The file scripts/build.ts writes for the compile, and removes after it. */
export const BUILD_INFO_FILE = "build_info.json";

/** What scripts/build.ts records in {@link BUILD_INFO_FILE}. */
export interface BuildInfo {
  /** The git commit compiled (`unknown` without git), `-dirty` when the tree had changes. */
  commit: string;
}

/** The build's record, or `undefined` when running from source. */
function readBuildInfo(): BuildInfo | undefined {
  try {
    const text = Deno.readTextFileSync(new URL(`./${BUILD_INFO_FILE}`, import.meta.url));
    const info = JSON.parse(text);
    return typeof info?.commit === "string" ? { commit: info.commit } : undefined;
  } catch {
    return undefined; // from source (or without read permission): no build record
  }
}

/**
 * The line `--version` prints: the version, the commit built (or `source`), and the Deno version
 * (a compiled binary's runtime is the Deno that compiled it).
 *
 * @example
 * ```ts
 * versionLine("server"); // "fastim server 0.1.0 (commit 1a2b3c4d5e6f, Deno 2.9.6)"
 * ```
 */
export function versionLine(program: "server" | "client"): string {
  const info = readBuildInfo();
  const built = info ? `commit ${info.commit}` : "source";
  return `fastim ${program} ${VERSION} (${built}, Deno ${Deno.version.deno})`;
}
