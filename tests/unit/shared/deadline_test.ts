import { strictEqual } from "node:assert/strict";
import { TIMED_OUT, within } from "../../../lib/shared/deadline.ts";

Deno.test("within gives the value in time, TIMED_OUT after, and passes a rejection", async () => {
  strictEqual(await within(Promise.resolve(7), 1000), 7);
  strictEqual(await within(new Promise(() => {}), 0), TIMED_OUT);
  let error: unknown;
  await within(Promise.reject(new Error("no")), 1000).catch((e) => error = e);
  strictEqual((error as Error).message, "no");
});
