import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { ERRORS, fail } from "../../../lib/protocol/errors.ts";

/** docs/PROTOCOL.md's error table: each code in a row's first cell, with the row's meaning. */
async function documentedErrors(): Promise<Map<string, string>> {
  const doc = await Deno.readTextFile(new URL("../../../docs/PROTOCOL.md", import.meta.url));
  const table = doc.slice(doc.indexOf("### Errors"));
  const rows = new Map<string, string>();
  for (const row of table.split("\n").filter((l) => l.startsWith("| `"))) {
    const [, codes, meaning] = row.split(/(?<!\\)\|/);
    for (const m of codes.matchAll(/`([a-z_]+)`/g)) rows.set(m[1], meaning.trim());
  }
  return rows;
}

Deno.test("the error table and docs/PROTOCOL.md list the same codes with the same meanings", async () => {
  const documented = await documentedErrors();
  // line_too_long is a notice, listed there for the reader's sake, not a request's error.
  documented.delete("line_too_long");
  deepStrictEqual([...documented.keys()].sort(), Object.keys(ERRORS).sort());
  for (const [code, info] of Object.entries(ERRORS)) {
    strictEqual(documented.get(code), info.doc, code);
  }
});

Deno.test("fail uses the table's message unless given one", () => {
  deepStrictEqual(fail("not_admin"), {
    ok: false,
    code: "not_admin",
    message: "only operators (--admin, logged in) may do that",
  });
  deepStrictEqual(fail("not_online", "tom is not online"), {
    ok: false,
    code: "not_online",
    message: "tom is not online",
  });
});
