/**
 * `deno task compile`: builds `dist/server` and `dist/client` with `deno compile`, and holds the
 * runtime flags baked into each binary, the one list the tests and the benchmarks run the
 * entrypoints with (tests/helpers/permissions.ts).
 *
 * `deno compile` needs Deno's runtime base (`denort`) for this Deno version, downloaded once from
 * dl.deno.land into Deno's cache. Offline, `deno compile` fails with a DNS error and a stack
 * backtrace after creating the output folder, so this script checks first and says so in one line.
 *
 * Usage: `deno task compile [--out DIR]` (default `dist`).
 *
 * @module
 */

import { BUNDLE, bundle } from "./bundle.ts";

/** The runtime flags baked into each binary: permissions, unstable APIs and V8 settings. */
export const RUNTIME_FLAGS: Record<"server" | "client", string[]> = {
  server: [
    "--unstable-net", // SO_REUSEPORT for --workers
    "--v8-flags=--optimize-for-size",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env=FASTIM_*", // settings as FASTIM_PORT etc., beneath flags (lib/server/config_sources.ts)
  ],
  client: ["--allow-net", "--allow-read", "--allow-env=NO_COLOR,TERM,FASTIM_PASSWORD"],
};

/** Files `deno compile` cannot find by following imports (workers are started by URL; the page is read). */
const INCLUDES: Record<"server" | "client", string[]> = {
  server: [
    "lib/server/workers/edge_thread.ts",
    "lib/web/static/", // the chat page, read at start (lib/server/http/page.ts)
  ],
  client: [],
};

const ROOT = new URL("../", import.meta.url);

/** Where `deno compile` downloads denort from, for this Deno and this machine. */
export function denortUrl(
  version: string = Deno.version.deno,
  target: string = Deno.build.target,
): string {
  return `https://dl.deno.land/release/v${version}/denort-${target}.zip`;
}

/** Where Deno caches denort once downloaded (`DENO_DIR/dl/release/vX/denort-TARGET.zip`). */
async function cachedDenort(): Promise<string | undefined> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  if (!info.success) return undefined;
  const denoDir: string = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
  const path = `${denoDir}/dl/release/v${Deno.version.deno}/denort-${Deno.build.target}.zip`;
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Why denort cannot be had, or undefined when it is cached, set by DENORT_BIN, or reachable. */
async function denortProblem(): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  if (await cachedDenort()) return undefined;
  const url = denortUrl();
  try {
    const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
    await res.body?.cancel();
    if (res.ok) return undefined;
    return `${url} answered ${res.status}`;
  } catch (e) {
    return `${new URL(url).host} cannot be reached (${shortReason(e)})`;
  }
}

/** A network error in a few words: fetch's own message nests three layers of causes. */
function shortReason(e: unknown): string {
  const error = e as Error & { cause?: Error };
  const text = `${error?.message ?? e}: ${error?.cause?.message ?? ""}`.replace(/: $/, "");
  if (/dns error|lookup/i.test(text)) return "DNS lookup failed: no internet?";
  if (/refused/i.test(text)) return "connection refused";
  if (/timed? ?out|abort/i.test(text)) return "no answer within 10 s";
  return text.split(": ").at(-1) ?? text;
}

/** Removes `dir` if it exists and is empty (what a failed `deno compile` leaves). */
function removeIfEmpty(dir: string): void {
  try {
    if ([...Deno.readDirSync(dir)].length === 0) Deno.removeSync(dir);
  } catch { /* absent: nothing to do */ }
}

async function main(args: string[]): Promise<number> {
  const outIndex = args.indexOf("--out");
  const out = outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : "dist";
  const problem = await denortProblem();
  if (problem) {
    console.error(
      `build: compiling needs Deno's runtime base (denort), downloaded once from ${denortUrl()}; ` +
        `${problem}: connect to the internet and retry, or set DENORT_BIN to a denort binary`,
    );
    return 1;
  }
  // The page's script is bundled from its TypeScript first, so the binary serves the current page.
  try {
    await Deno.writeTextFile(new URL(BUNDLE, ROOT), await bundle());
  } catch (e) {
    console.error(`build: bundling the chat page failed: ${(e as Error).message}`);
    return 1;
  }
  const existed = (() => {
    try {
      Deno.statSync(out);
      return true;
    } catch {
      return false;
    }
  })();
  for (const entry of ["server", "client"] as const) {
    const compile = new Deno.Command(Deno.execPath(), {
      cwd: ROOT,
      args: [
        "compile",
        ...RUNTIME_FLAGS[entry],
        ...INCLUDES[entry].flatMap((file) => ["--include", file]),
        "--output",
        `${out}/${entry}`,
        `${entry}.ts`,
      ],
    });
    const { success } = await compile.spawn().status;
    if (!success) {
      if (!existed) removeIfEmpty(out);
      console.error(`build: deno compile ${entry}.ts failed (see above)`);
      return 1;
    }
  }
  console.error(`build: wrote ${out}/server and ${out}/client`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
