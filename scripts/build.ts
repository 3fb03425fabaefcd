/**
 * `deno task compile`: builds `dist/server` and `dist/client` with `deno compile`, and holds the
 * runtime flags baked into each binary, the one list the tests and the benchmarks run the
 * entrypoints with (tests/helpers/permissions.ts).
 *
 * `deno compile` needs Deno's runtime base (`denort`) for this Deno version, downloaded once from
 * dl.deno.land into Deno's cache. Offline, `deno compile` fails with a DNS error and a stack
 * backtrace after creating the output folder, so this script checks first and says so in one line.
 *
 * Each binary records the git commit it was built from (lib/shared/version.ts): this script writes
 * `lib/shared/build_info.json` for the compile, `--include`s it, and removes it afterwards.
 *
 * Usage: `deno task compile [--target TARGET] [--out DIR]` (default: this machine, `dist`). The
 * release workflow cross-compiles each target with `--target` (e.g. `aarch64-apple-darwin`);
 * Windows binaries get `.exe`.
 *
 * @module
 */

import { BUNDLE, bundle } from "./bundle.ts";
import { BUILD_INFO_FILE, type BuildInfo } from "../lib/shared/version.ts";

/** The runtime flags baked into each binary: permissions, unstable APIs and V8 settings. */
export const RUNTIME_FLAGS: Record<"server" | "client", string[]> = {
  server: [
    "--unstable-net", // SO_REUSEPORT for --workers
    "--v8-flags=--max-semi-space-size=4", // a small young generation: see docs/BENCHMARKS.md
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env=FASTIM_*", // settings as FASTIM_PORT etc., beneath flags (lib/server/config_sources.ts)
  ],
  client: [
    "--allow-net",
    "--allow-read",
    // HOME and XDG_CONFIG_HOME: where ~/.config/fastim/client.jsonc is.
    "--allow-env=NO_COLOR,TERM,FASTIM_PASSWORD,HOME,XDG_CONFIG_HOME",
  ],
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
async function cachedDenort(target: string): Promise<string | undefined> {
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  if (!info.success) return undefined;
  const denoDir: string = JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
  const path = `${denoDir}/dl/release/v${Deno.version.deno}/denort-${target}.zip`;
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Why denort cannot be had, or undefined when it is cached, set by DENORT_BIN, or reachable. */
async function denortProblem(target: string): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  if (await cachedDenort(target)) return undefined;
  const url = denortUrl(Deno.version.deno, target);
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

/** The build's record for lib/shared/version.ts: the commit, `-dirty` with uncommitted changes. */
export async function gitCommit(cwd: URL | string = ROOT): Promise<string> {
  const git = async (...args: string[]) => {
    try {
      const out = await new Deno.Command("git", { args, cwd, stderr: "null" }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    } catch {
      return undefined; // no git installed
    }
  };
  const commit = await git("rev-parse", "--short=12", "HEAD");
  if (!commit) return "unknown";
  const changes = await git("status", "--porcelain", "--untracked-files=no");
  return changes ? `${commit}-dirty` : commit;
}

/** The value of `--name VALUE` in `args`, or `fallback`. */
function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

async function main(args: string[]): Promise<number> {
  const out = option(args, "out", "dist");
  const target = option(args, "target", Deno.build.target);
  const problem = await denortProblem(target);
  if (problem) {
    console.error(
      `build: compiling needs Deno's runtime base (denort), downloaded once from ${
        denortUrl(Deno.version.deno, target)
      }; ${problem}: connect to the internet and retry, or set DENORT_BIN to a denort binary`,
    );
    return 1;
  }
  // The commit, before anything below writes into the tree.
  const info: BuildInfo = { commit: await gitCommit() };
  // The page's script is bundled from its TypeScript first, so the binary serves the current page.
  try {
    await Deno.writeTextFile(new URL(BUNDLE, ROOT), await bundle());
  } catch (e) {
    console.error(`build: bundling the chat page failed: ${(e as Error).message}`);
    return 1;
  }
  const buildInfo = new URL(`lib/shared/${BUILD_INFO_FILE}`, ROOT);
  Deno.writeTextFileSync(buildInfo, JSON.stringify(info) + "\n");
  try {
    return await compileBoth(out, target);
  } finally {
    Deno.removeSync(buildInfo);
  }
}

/** Compiles both entrypoints for `target` into `out`; 0 on success. */
async function compileBoth(out: string, target: string): Promise<number> {
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
        "--target",
        target,
        ...RUNTIME_FLAGS[entry],
        ...[...INCLUDES[entry], `lib/shared/${BUILD_INFO_FILE}`].flatMap((f) => ["--include", f]),
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
  console.error(`build: wrote ${out}/server and ${out}/client for ${target}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
