/**
 * `deno task compile` (scripts/build.ts) without access to dl.deno.land: one line saying what is
 * needed and from where, a non-zero exit, and no output folder left behind.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";

const BUILD_TS = new URL("../../scripts/build.ts", import.meta.url).pathname;

Deno.test("compile offline: one line about denort and dl.deno.land, exit 1, no empty dist/", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-build-" });
  try {
    // Nothing listens on this port, so every download fails as it would offline.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = (listener.addr as Deno.NetAddr).port;
    listener.close();
    await Deno.mkdir(`${dir}/deno_dir`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-run",
        "--allow-read",
        "--allow-write",
        "--allow-env=DENORT_BIN",
        "--allow-net=dl.deno.land",
        BUILD_TS,
        "--out",
        `${dir}/dist`,
      ],
      // An empty DENO_DIR: denort is not cached. The proxy makes dl.deno.land unreachable.
      env: { DENO_DIR: `${dir}/deno_dir`, HTTPS_PROXY: `http://127.0.0.1:${closed}` },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    strictEqual(out.code, 1, stderr);
    const lines = stderr.trim().split("\n");
    strictEqual(lines.length, 1, stderr);
    ok(/^build: compiling needs Deno's runtime base \(denort\)/.test(lines[0]), lines[0]);
    ok(lines[0].includes("https://dl.deno.land/release/"), lines[0]);
    ok(lines[0].includes("cannot be reached"), lines[0]);
    ok(!/\bat \S+:\d+/.test(stderr), "no stack trace");
    deepStrictEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["deno_dir"],
      "no dist/ left behind",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
