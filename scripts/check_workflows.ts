/**
 * Validates the GitHub Actions workflows in `.github/workflows/` against GitHub's schema with
 * action-validator (pinned in deno.json, locked in deno.lock), as part of `deno task check`, so a
 * mistyped key in the release workflow is found before a tag is pushed. Prints one line per
 * problem, naming the file and the place in it, and exits 1.
 *
 * @module
 */

import { validateWorkflow, type ValidationError } from "@action-validator/core";

/** The folder of the workflows, relative to the project root. */
export const WORKFLOWS_DIR = ".github/workflows";

/**
 * The problems in one workflow's YAML text, one line each (`PATH: DETAIL`); empty when it is
 * valid. Where a value matches none of the schema's alternatives (a job is either steps on a runner
 * or a call to a reusable workflow), the reasons of the closest alternative (fewest errors) are
 * given.
 *
 * @example
 * ```ts
 * import { workflowProblems } from "./check_workflows.ts";
 *
 * workflowProblems("on: push\njobs: {}\n"); // [] or the schema's complaints
 * ```
 */
export function workflowProblems(yaml: string): string[] {
  const lines = new Set<string>();
  const walk = (errors: ValidationError[]) => {
    for (const e of errors) {
      if ("states" in e && e.states?.length) {
        const closest = e.states.reduce((a, b) => b.errors.length < a.errors.length ? b : a);
        walk(closest.errors);
        continue;
      }
      const where = "path" in e
        ? e.path || "/"
        : e.location
        ? `line ${e.location.line}, column ${e.location.column}`
        : "/";
      lines.add(`${where}: ${e.detail ?? e.title}`);
    }
  };
  walk(validateWorkflow(yaml).errors);
  return [...lines];
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  let failed = 0;
  let checked = 0;
  for (const entry of Deno.readDirSync(`${root}${WORKFLOWS_DIR}`)) {
    if (!/\.ya?ml$/.test(entry.name)) continue;
    const file = `${WORKFLOWS_DIR}/${entry.name}`;
    checked++;
    for (const problem of workflowProblems(Deno.readTextFileSync(`${root}${file}`))) {
      console.error(`${file}: ${problem}`);
      failed++;
    }
  }
  if (checked === 0) {
    console.error(`no workflow files in ${WORKFLOWS_DIR}`);
    Deno.exit(1);
  }
  if (failed > 0) Deno.exit(1);
}
