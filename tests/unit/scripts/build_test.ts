import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { gitCommit, RUNTIME_FLAGS } from "../../../scripts/build.ts";
import denoJson from "../../../deno.json" with { type: "json" };

const root = new URL("../../../", import.meta.url);

Deno.test("deno task server, dev and client run with the flags the build bakes in", () => {
  const flagsOf = (task: string, entry: string) =>
    task.split(/\s+/).slice(0, task.split(/\s+/).indexOf(`${entry}.ts`))
      .filter((w) => w.startsWith("--") && w !== "--watch");
  // (The shell quotes --allow-env=FASTIM_* so that it is not read as a file pattern.)
  const unquoted = (task: string) => task.replaceAll("'", "");
  deepStrictEqual(flagsOf(unquoted(denoJson.tasks.server), "server"), RUNTIME_FLAGS.server);
  deepStrictEqual(flagsOf(unquoted(denoJson.tasks.dev), "server"), RUNTIME_FLAGS.server);
  deepStrictEqual(flagsOf(unquoted(denoJson.tasks.client), "client"), RUNTIME_FLAGS.client);
});

Deno.test("gitCommit names the commit built, or unknown outside a git work tree", async () => {
  match(await gitCommit(root), /^[0-9a-f]{12}(-dirty)?$/);
  const dir = await Deno.makeTempDir();
  try {
    strictEqual(await gitCommit(dir), "unknown");
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("a binary's --version names the commit the build recorded", async () => {
  // lib/shared/version.ts in a copy of the tree's layout, with the record build.ts writes.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/lib/shared`, { recursive: true });
    await Deno.copyFile(new URL("deno.json", root), `${dir}/deno.json`);
    await Deno.copyFile(new URL("lib/shared/version.ts", root), `${dir}/lib/shared/version.ts`);
    const line = async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          "--no-lock",
          `import { versionLine } from "${dir}/lib/shared/version.ts";` +
          `console.log(versionLine("server"))`,
        ],
        cwd: dir,
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    };
    strictEqual(
      await line(),
      `fastim server ${denoJson.version} (source, Deno ${Deno.version.deno})`,
    );
    await Deno.writeTextFile(`${dir}/lib/shared/build_info.json`, '{"commit":"1a2b3c4d5e6f"}');
    strictEqual(
      await line(),
      `fastim server ${denoJson.version} (commit 1a2b3c4d5e6f, Deno ${Deno.version.deno})`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
