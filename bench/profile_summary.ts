/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): the functions with the most
 * self time, and the same grouped by source file, so a profile reads as a short table.
 *
 * Usage: `deno run --allow-read bench/profile_summary.ts FILE.cpuprofile [TOP]`
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One row of the summary. */
export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

function shortUrl(url: string): string {
  if (!url) return "(native)";
  const m = /\/work\/main\/(.+)$/.exec(url) ?? /([^/]+\/[^/]+)$/.exec(url);
  return m ? m[1] : url;
}

/**
 * Self time per function (`name file:line`) and per file, largest first.
 *
 * @example
 * ```ts
 * const { byFunction } = summarise(JSON.parse(Deno.readTextFileSync("x.cpuprofile")));
 * ```
 */
export function summarise(p: CpuProfile): { byFunction: SelfTime[]; byFile: SelfTime[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; charge it to the sampled node.
  for (let i = 0; i < p.samples.length; i++) {
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const where = shortUrl(f.url);
    const name = `${f.functionName || "(anonymous)"} ${where}${
      f.url ? `:${f.lineNumber + 1}` : ""
    }`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(where, (file.get(where) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m].map(([name, us]) => ({ name, ms: us / 1000, share: us / total }))
      .sort((a, b) => b.ms - a.ms);
  return { byFunction: rows(fn), byFile: rows(file) };
}

function table(title: string, rows: SelfTime[], top: number): string {
  const lines = [`| ${title} | self ms | share |`, "| --- | --- | --- |"];
  for (const r of rows.slice(0, top)) {
    lines.push(`| \`${r.name}\` | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)} % |`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const [path, topArg] = Deno.args;
  if (!path) {
    console.error("usage: profile_summary.ts FILE.cpuprofile [TOP]");
    Deno.exit(2);
  }
  const top = Number(topArg ?? 25);
  const { byFunction, byFile } = summarise(JSON.parse(await Deno.readTextFile(path)));
  console.log(table("function (self time)", byFunction, top));
  console.log("");
  console.log(table("file (self time)", byFile, 15));
}
