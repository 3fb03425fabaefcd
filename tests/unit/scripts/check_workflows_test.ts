import { deepStrictEqual, match } from "node:assert/strict";
import { workflowProblems, WORKFLOWS_DIR } from "../../../scripts/check_workflows.ts";

Deno.test("workflowProblems names a misspelt key in a job, not the alternatives' noise", () => {
  const yaml = "on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    stepz:\n      - run: x\n";
  deepStrictEqual(workflowProblems(yaml), [
    "/jobs/build: Additional property 'stepz' is not allowed",
  ]);
});

Deno.test("workflowProblems reports YAML that does not parse, with its place", () => {
  const [problem, ...rest] = workflowProblems("on: [push\n");
  match(problem, /line 2 column 1/);
  deepStrictEqual(rest, []);
});

Deno.test("the project's workflows are valid", async () => {
  const root = new URL("../../../", import.meta.url).pathname;
  for await (const entry of Deno.readDir(`${root}${WORKFLOWS_DIR}`)) {
    const text = await Deno.readTextFile(`${root}${WORKFLOWS_DIR}/${entry.name}`);
    deepStrictEqual(workflowProblems(text), [], entry.name);
  }
});
