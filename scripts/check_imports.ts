/**
 * The layout's import rule, checked by `deno task check`. Each folder of `lib/` opens with a
 * `mod.ts` whose doc comment names the folders it may import from (`@imports core, shared`) and,
 * with `@pure`, promises no `Deno.*` calls. A file belongs to the deepest folder with a `mod.ts`.
 * The entrypoints are ruled here: the server may not import the client, nor the client the server.
 * Prints one line per broken rule, naming the file, the line and the import, and exits 1.
 *
 * @module
 */

import { dirname, join, normalize, relative } from "node:path";

/** What one folder may do. */
export interface FolderRule {
  /** The folder, relative to the project root (`lib/core`). */
  folder: string;
  /** Folder names under `lib/` it may import from (`core`, `server`...). */
  imports: string[];
  /** No `Deno.*` calls. */
  pure: boolean;
}

/** The rules for the top-level entrypoints, which have no `mod.ts`. */
export const ENTRY_RULES: FolderRule[] = [
  {
    folder: "server.ts",
    imports: ["server", "cluster", "core", "protocol", "shared", "store"],
    pure: false,
  },
  { folder: "client.ts", imports: ["client", "protocol", "shared"], pure: false },
];

/**
 * Reads a folder's rule from its `mod.ts` text, or `undefined` when it states none.
 *
 * @example
 * ```ts
 * import { parseRule } from "./check_imports.ts";
 * parseRule("lib/core", "/** @imports core, shared\n * @pure *\/");
 * // { folder: "lib/core", imports: ["core", "shared"], pure: true }
 * ```
 */
export function parseRule(folder: string, modSource: string): FolderRule | undefined {
  const m = /@imports\s+([\w/, ]+)/.exec(modSource);
  if (!m) return undefined;
  const imports = m[1].split(",").map((s) => s.trim()).filter((s) => s !== "");
  return { folder, imports, pure: /@pure\b/.test(modSource) };
}

/** The `lib/` folder an import target lies in (`lib/server/workers/hub.ts` → `server`). */
function topFolder(path: string): string | undefined {
  const parts = path.split("/");
  return parts[0] === "lib" && parts.length > 2 ? parts[1] : undefined;
}

/** Removes comments, so that a `Deno.` or an import in a comment or an example does not count. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "))
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/**
 * Lists the broken rules in `files` (paths relative to the project root), one line each.
 *
 * @example
 * ```ts
 * import { findViolations } from "./check_imports.ts";
 * const rules = [{ folder: "lib/core", imports: ["core"], pure: true }];
 * findViolations([{ path: "lib/core/a.ts", source: 'import "../server/b.ts";' }], rules);
 * // ['lib/core/a.ts:1: imports lib/server/b.ts, but lib/core may import only core']
 * ```
 */
export function findViolations(
  files: { path: string; source: string }[],
  rules: FolderRule[],
): string[] {
  const out: string[] = [];
  for (const { path, source } of files) {
    const rule = rules
      .filter((r) => path === r.folder || path.startsWith(r.folder + "/"))
      .sort((a, b) => b.folder.length - a.folder.length)[0];
    if (!rule) continue;
    const lines = stripComments(source).split("\n");
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)) {
        const spec = m[1];
        if (!spec.startsWith(".")) continue;
        const target = normalize(join(dirname(path), spec));
        const folder = topFolder(target);
        if (folder !== undefined && !rule.imports.includes(folder)) {
          out.push(
            `${path}:${i + 1}: imports ${target}, but ${rule.folder} may import only ` +
              rule.imports.join(", "),
          );
        }
      }
      if (rule.pure && /\bDeno\s*\./.test(line)) {
        out.push(`${path}:${i + 1}: calls Deno.*, but ${rule.folder} is pure (no I/O)`);
      }
    });
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...walk(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url).pathname;
  const rel = (p: string) => relative(root, p);
  const files = [...walk(join(root, "lib")), join(root, "server.ts"), join(root, "client.ts")];
  const rules = [...ENTRY_RULES];
  const unruled: string[] = [];
  for (const file of files.filter((f) => f.endsWith("/mod.ts"))) {
    const rule = parseRule(rel(dirname(file)), Deno.readTextFileSync(file));
    if (rule) rules.push(rule);
    else unruled.push(`${rel(file)}: states no @imports rule`);
  }
  const problems = [
    ...unruled,
    ...findViolations(
      files.map((f) => ({ path: rel(f), source: Deno.readTextFileSync(f) })),
      rules,
    ),
  ];
  for (const p of problems) console.error(p);
  if (problems.length > 0) Deno.exit(1);
}
