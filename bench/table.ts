/**
 * Results as tables: rows of repeated runs are folded into medians (each figure on its own),
 * then printed as one Markdown table per scenario, ready to paste into docs/BENCHMARKS.md.
 *
 * @module
 */

import type { Row } from "./scenarios.ts";

/** The median of `xs` (mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Folds rows of the same scenario, server and dialect into one row of medians. */
export function foldRuns(rows: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.scenario}\u0000${r.server}\u0000${r.dialect}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const figures: Record<string, number> = {};
    for (const k of Object.keys(g[0].figures)) {
      const v = median(g.map((r) => r.figures[k]).filter((x) => x !== undefined));
      figures[k] = Number(v.toFixed(2));
    }
    const notes = [...new Set(g.flatMap((r) => r.notes))];
    if (g.length > 1) notes.unshift(`median of ${g.length} runs`);
    return { ...g[0], figures, notes };
  });
}

function fmt(v: number | undefined): string {
  if (v === undefined) return "";
  return Math.abs(v) >= 10_000 ? Math.round(v).toLocaleString("en-US") : String(v);
}

/** Markdown tables, one per scenario, in first-seen order. */
export function renderTables(rows: Row[]): string {
  const byScenario = new Map<string, Row[]>();
  for (const r of rows) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const out: string[] = [];
  for (const [scenario, group] of byScenario) {
    const keys = [...new Set(group.flatMap((r) => Object.keys(r.figures)))];
    const head = ["server", "dialect", ...keys, "notes"];
    out.push(
      `### ${scenario}`,
      "",
      `| ${head.join(" | ")} |`,
      `|${head.map(() => " --- ").join("|")}|`,
    );
    for (const r of group) {
      const cells = [
        r.server,
        r.dialect,
        ...keys.map((k) => fmt(r.figures[k])),
        r.notes.join("; "),
      ];
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}
