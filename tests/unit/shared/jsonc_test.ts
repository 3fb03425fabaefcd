import { deepStrictEqual, throws } from "node:assert/strict";
import { JsoncError, parseJsonc } from "../../../lib/shared/jsonc.ts";

Deno.test("parseJsonc reads comments and trailing commas, and leaves strings alone", () => {
  const text = `{
    // the port
    "port": 9000, /* and a
    block */ "db": "/var/lib/x.db // not a comment",
    "tls-cert": "a/*b*/c",
    "list": [1, 2,],
    "quote": "say \\"hi\\", // still text",
  }`;
  deepStrictEqual(parseJsonc(text), {
    port: 9000,
    db: "/var/lib/x.db // not a comment",
    "tls-cert": "a/*b*/c",
    list: [1, 2],
    quote: 'say "hi", // still text',
  });
});

Deno.test("parseJsonc says where the text is broken", async (t) => {
  await t.step("a missing comma, by line and column", () => {
    throws(() => parseJsonc('{\n  "port": 9000\n  "db": "x"\n}'), (e: JsoncError) => {
      deepStrictEqual([e.line, e.column], [3, 3]);
      return /line 3, column 3/.test(e.message);
    });
  });
  await t.step("an unterminated comment", () => {
    throws(() => parseJsonc('{"port": 1 /* oops'), /unterminated \/\* comment/);
  });
  await t.step("a comma alone is still an error", () => {
    throws(() => parseJsonc("{,}"), JsoncError);
  });
});
