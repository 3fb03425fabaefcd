/**
 * Smoke test of the benchmark suite: runs `bench/run.ts --quick` against the real server as
 * a subprocess and checks that messages were delivered and that it stopped by itself within
 * its time budget. It asserts no speed figure: CI machines vary.
 *
 * @module
 */

const RUNNER = new URL("../../bench/run.ts", import.meta.url).pathname;
/** The quick run takes a few seconds; this bounds a hung one. */
const BUDGET_MS = 60_000;

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

Deno.test("bench --quick delivers messages and stops by itself", async () => {
  const out = await Deno.makeTempFile({ prefix: "fastim-bench-", suffix: ".json" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      RUNNER,
      "--quick",
      "--servers",
      "fastim",
      "--scenarios",
      "startup,fanout,private,idle,slow,persist,history",
      "--out",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    Deno.kill(child.pid, "SIGKILL");
  }, BUDGET_MS);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const log = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  try {
    assert(!timedOut, `bench --quick did not stop within ${BUDGET_MS} ms:\n${log}`);
    assert(code === 0, `bench --quick exited with ${code}:\n${log}`);
    const { rows } = JSON.parse(await Deno.readTextFile(out)) as {
      rows: { scenario: string; dialect: string; figures: Record<string, number> }[];
    };
    const fanout = rows.filter((r) => /^fanout \d+$/.test(r.scenario));
    assert(fanout.length === 2, `expected a text and a JSON fan-out row:\n${log}`);
    for (const r of [...fanout, ...rows.filter((r) => r.scenario.startsWith("private"))]) {
      assert(r.figures["deliveries/s"] > 0, `${r.scenario}/${r.dialect} delivered nothing`);
    }
    const history = rows.find((r) => r.scenario === "history");
    assert(history && history.figures["search p50 ms"] > 0, `no search was timed:\n${log}`);
    assert(history.figures["catch-up msgs/s"] > 0, `no catch-up was timed:\n${log}`);
    const idle = rows.find((r) => r.scenario.startsWith("idle"));
    assert(idle && idle.figures.held > 0, `no idle connection was held:\n${log}`);
    assert(rows.some((r) => r.scenario === "startup"), "no startup row");
  } finally {
    await Deno.remove(out);
  }
});
