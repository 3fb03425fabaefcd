/**
 * The release workflow's smoke test (scripts/smoke_test.ts), run here against the entrypoints
 * wrapped as `server` and `client` executables with the permission flags the build bakes in (the
 * compiled binaries cannot be built without downloading Deno's runtime).
 */

import { ok, rejects } from "node:assert/strict";
import { smokeTest } from "../../scripts/smoke_test.ts";
import { permissionFlags } from "../helpers/permissions.ts";

const root = new URL("../../", import.meta.url).pathname;

/** A directory holding `server` and `client` scripts that run the sources like the binaries. */
async function wrappers(overrides: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-smoke-" });
  for (const entry of ["server", "client"] as const) {
    const script = overrides[entry] ??
      `exec '${Deno.execPath()}' run ${permissionFlags(entry).join(" ")} '${root}${entry}.ts' "$@"`;
    await Deno.writeTextFile(`${dir}/${entry}`, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  }
  return dir;
}

Deno.test("the smoke test passes for a working server and client", async () => {
  const dir = await wrappers();
  try {
    const lines: string[] = [];
    await smokeTest(dir, (line) => lines.push(line));
    ok(lines.some((l) => l.includes("one message from alice reached bob")), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the release's smoke test (--built) refuses binaries that name no commit", async () => {
  const dir = await wrappers();
  try {
    await rejects(smokeTest(dir, () => {}, { built: true }), /--version printed .*source/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the smoke test fails when the client cannot deliver", async () => {
  // A client that answers --version but cannot connect.
  const dir = await wrappers({
    client:
      `[ "$1" = --version ] && echo "fastim client 0 (source, Deno 2)" && exit 0; echo refused >&2; exit 1`,
  });
  try {
    await rejects(smokeTest(dir, () => {}), /exited while waiting for bob's welcome/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
