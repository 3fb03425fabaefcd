import { deepStrictEqual } from "node:assert/strict";
import { findViolations, parseRule } from "../../../scripts/check_imports.ts";

const CORE = { folder: "lib/core", imports: ["core", "protocol", "shared"], pure: true };
const SERVER = { folder: "lib/server", imports: ["server", "core", "shared"], pure: false };
const WORKERS = { folder: "lib/server/workers", imports: ["server"], pure: false };

Deno.test("parseRule reads @imports and @pure from a mod.ts comment", () => {
  deepStrictEqual(
    parseRule(
      "lib/core",
      "/**\n * The chat.\n *\n * @imports core, protocol, shared\n * @pure\n */",
    ),
    CORE,
  );
  deepStrictEqual(parseRule("lib/x", "/** no rule here */"), undefined);
});

Deno.test("findViolations names each forbidden import with its line", async (t) => {
  await t.step("core importing the server or the store", () => {
    const source = [
      'import { ChatCore } from "./chat.ts";',
      'import { Store } from "../store/sqlite.ts";',
      'import type { X } from "../server/connection.ts";',
    ].join("\n");
    deepStrictEqual(findViolations([{ path: "lib/core/a.ts", source }], [CORE, SERVER]), [
      "lib/core/a.ts:2: imports lib/store/sqlite.ts, but lib/core may import only core, protocol, shared",
      "lib/core/a.ts:3: imports lib/server/connection.ts, but lib/core may import only core, protocol, shared",
    ]);
  });
  await t.step("Deno.* in a pure folder, but not in a comment", () => {
    const source = "// Deno.exit is not called here\nconst n = Deno.pid;";
    deepStrictEqual(findViolations([{ path: "lib/core/b.ts", source }], [CORE]), [
      "lib/core/b.ts:2: calls Deno.*, but lib/core is pure (no I/O)",
    ]);
  });
  await t.step("the deepest folder's rule applies, and allowed imports pass", () => {
    const source = 'import { a } from "../outbox.ts";\nimport { b } from "../../core/chat.ts";';
    deepStrictEqual(
      findViolations([{ path: "lib/server/workers/hub.ts", source }], [SERVER, WORKERS]),
      [
        "lib/server/workers/hub.ts:2: imports lib/core/chat.ts, but lib/server/workers may import only server",
      ],
    );
  });
  await t.step("npm:, node: and files outside lib/ are not ruled", () => {
    const source = 'import "node:crypto";\nimport x from "../../deno.json" with { type: "json" };';
    deepStrictEqual(findViolations([{ path: "lib/core/c.ts", source }], [CORE]), []);
  });
});
