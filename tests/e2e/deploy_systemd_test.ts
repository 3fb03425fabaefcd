/**
 * The systemd units in deploy/ (the server, and the daily backup) pass `systemd-analyze verify` with no complaint, as shipped and
 * with the variants their comments describe (TLS certificates as credentials, a port below 1024).
 * Skipped when systemd-analyze is missing, except under CI (where .ci/run installs it).
 */

import { deepStrictEqual, ok } from "node:assert/strict";

const DEPLOY = new URL("../../deploy/", import.meta.url).pathname;
/** Where the units expect the server binary; the test points it at a stand-in executable. */
const BINARY = "/usr/local/bin/fastim-server";

const hasSystemdAnalyze = Deno.env.get("CI") === "true" ||
  await new Deno.Command("systemd-analyze", { args: ["--version"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false);

/**
 * Runs `systemd-analyze verify` on `units` (file name to text) written to a temporary folder,
 * with the binary's path replaced by an executable that exists (verify checks that it does).
 */
async function verify(units: Record<string, string>): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-systemd-" });
  try {
    const binary = `${dir}/fastim-server`;
    await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const paths = [];
    for (const [name, text] of Object.entries(units)) {
      await Deno.writeTextFile(`${dir}/${name}`, text.replaceAll(BINARY, binary));
      paths.push(`${dir}/${name}`);
    }
    const out = await new Deno.Command("systemd-analyze", { args: ["verify", ...paths] })
      .output();
    const dec = new TextDecoder();
    return { code: out.code, output: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim() };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const unit = await Deno.readTextFile(`${DEPLOY}fastim.service`);
const backupUnit = await Deno.readTextFile(`${DEPLOY}fastim-backup.service`);
const backupTimer = await Deno.readTextFile(`${DEPLOY}fastim-backup.timer`);

Deno.test({
  name: "the systemd units in deploy/ pass systemd-analyze verify",
  ignore: !hasSystemdAnalyze,
  async fn(t) {
    await t.step("as shipped, sandboxed and without capabilities", async () => {
      for (const line of ["DynamicUser=yes", "StateDirectory=fastim", "ProtectSystem=strict"]) {
        ok(unit.includes(`\n${line}\n`), line);
      }
      ok(unit.includes("\nNoNewPrivileges=yes\n") && unit.includes("\nAmbientCapabilities=\n"));
      deepStrictEqual(await verify({ "fastim.service": unit }), { code: 0, output: "" });
    });
    await t.step(
      "with the TLS credentials and a port below 1024, as its comments say",
      async () => {
        const variant = unit
          .replace(/^#(LoadCredential=|ExecStart=)/gm, "$1")
          .replace(/^(CapabilityBoundingSet|AmbientCapabilities)=$/gm, "$1=CAP_NET_BIND_SERVICE");
        ok(variant.includes("--tls-cert %d/tls.crt") && variant !== unit);
        deepStrictEqual(await verify({ "fastim.service": variant }), { code: 0, output: "" });
      },
    );
    await t.step("the daily backup service and its timer", async () => {
      ok(backupUnit.includes(`${BINARY} --db /var/lib/fastim/fastim.db --backup`));
      ok(backupUnit.includes("\nUser=fastim\n") && backupUnit.includes("\nDynamicUser=yes\n"));
      deepStrictEqual(
        await verify({ "fastim-backup.service": backupUnit, "fastim-backup.timer": backupTimer }),
        { code: 0, output: "" },
      );
    });
    await t.step("a misspelt directive is caught (the check is real)", async () => {
      const broken = unit.replace("ProtectClock=yes", "ProtectClok=yes");
      const { output } = await verify({ "fastim.service": broken });
      ok(output.includes("Unknown key 'ProtectClok'"), output);
    });
  },
});
