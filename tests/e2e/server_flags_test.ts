/**
 * The server executable's command line, run as a user would: help, version, Go-style flags, and
 * one clear line (never a stack trace) for a bad flag, a bad value or a port in use.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, coreServerArgs } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";
import { VERSION } from "../../lib/shared/version.ts";

/** Asserts `stderr` is exactly one line with no stack trace, and returns it. */
function oneLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  strictEqual(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  // A stack frame is "    at fn (file:line)"; a bare `includes("at ")` would also flag the
  // message's own words, e.g. "a size of at least 1024 bytes".
  ok(!/^\s*at \S/m.test(stderr) && !/\(\S+:\d+:\d+\)/.test(stderr), `no stack trace: ${stderr}`);
  ok(!/Uncaught|E_INTERNAL/.test(stderr), `no internal error: ${stderr}`);
  return lines[0];
}

/** A port nothing listens on right now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("--help exits 0 and lists every flag", async (t) => {
  for (const flag of ["--help", "-h", "-help"]) {
    await t.step(flag, async () => {
      const { code, stdout, stderr } = await runServerToExit([flag]);
      strictEqual(code, 0, stderr);
      for (
        const f of [
          "--host",
          "-ip",
          "--port",
          "--idle-timeout",
          "--max-line",
          "--max-queue",
          "--log-level",
          "--help",
          "--version",
        ]
      ) {
        ok(new RegExp(`${f}\\b`).test(stdout), `${f} in:\n${stdout}`);
      }
      ok(/default 8888/.test(stdout), "defaults are shown");
      strictEqual(stderr, "");
    });
  }
});

Deno.test("--version and -V exit 0 and print the version", async () => {
  for (const flag of ["--version", "-V"]) {
    const { code, stdout, stderr } = await runServerToExit([flag]);
    strictEqual(code, 0, stderr);
    // From source: no build record, so "source" where a binary names its commit.
    strictEqual(stdout.trim(), `fastim server ${VERSION} (source, Deno ${Deno.version.deno})`);
  }
});

Deno.test("a bad command line is worded as the client words it", async () => {
  const { code, stderr } = await runServerToExit(["--prot", "1"]);
  strictEqual(code, 2, stderr);
  strictEqual(oneLine(stderr), "server: unknown flag --prot; try --help");
});

Deno.test("each flag error names what the user did wrong", async (t) => {
  const cases: [string[], RegExp][] = [
    // The value of --port was left out; "x.db" is not the mistake.
    [["--port", "--db", "x.db"], /^server: flag --port needs a value/],
    // --max-queue was not given: the error is about --max-line, and says the default.
    [["--max-line", "10GiB"], /^server: --max-line 10GiB is too large: .*--max-queue \(default/],
    [["--max-line", "100KiB"], /^server: --max-line 100KiB is too large: .*--byte-burst \(default/],
    [
      ["--max-line", "2MiB", "--max-queue", "1MiB"],
      /^server: --max-line 2MiB must be smaller than --max-queue 1MiB; try --help$/,
    ],
  ];
  for (const [args, pattern] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stderr } = await runServerToExit(args);
      strictEqual(code, 2, stderr);
      const line = oneLine(stderr);
      ok(pattern.test(line), `${JSON.stringify(line)} matches ${pattern}`);
    });
  }
});

Deno.test("a database that cannot be created says why, not which permission flag to add", async (t) => {
  const cases: [string, RegExp][] = [
    [
      "/proc/fastim.db",
      /cannot create or open database \/proc\/fastim\.db: \/proc is a kernel file system/,
    ],
    ["/nonexistent-dir/fastim.db", /the directory \/nonexistent-dir does not exist/],
  ];
  for (const [path, pattern] of cases) {
    await t.step(path, async () => {
      const { code, stderr } = await runServerToExit(["--port", "0", "--db", path]);
      strictEqual(code, 1, stderr);
      const line = oneLine(stderr);
      ok(pattern.test(line), `${JSON.stringify(line)} matches ${pattern}`);
      ok(!/allow-all/.test(line), line);
    });
  }
});

Deno.test("a bad command line exits 2 with one line on stderr and no stack trace", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /--bogus/],
    [["-bogus", "1"], /-bogus/],
    [["--port"], /--port needs a value/],
    [["-port"], /-port needs a value/],
    [["--port", "abc"], /--port .*"abc"/],
    [["--port", "70000"], /--port .*"70000"/],
    [["--idle-timeout", "soon"], /--idle-timeout .*"soon"/],
    [["--max-line", "0"], /--max-line/],
    [["--max-queue", "1"], /--max-queue/],
    [["--log-level", "loud"], /--log-level/],
    [["9000"], /9000/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stdout, stderr } = await runServerToExit(args);
      strictEqual(code, 2, stderr);
      const line = oneLine(stderr);
      ok(pattern.test(line), `${JSON.stringify(line)} matches ${pattern}`);
      strictEqual(stdout, "");
    });
  }
});

Deno.test("a port in use exits 1 with one clear line", async () => {
  await using first = await startServer();
  const { code, stderr } = await runServerToExit([
    ...await coreServerArgs(),
    "--host",
    "127.0.0.1",
    "--port",
    String(first.port),
  ]);
  strictEqual(code, 1, stderr);
  const line = oneLine(stderr);
  ok(line.includes("already in use"), line);
  ok(line.includes(String(first.port)), line);
});

Deno.test("a failed start leaves no files: a port in use creates no fastim.db", async () => {
  await using first = await startServer();
  const dir = await Deno.makeTempDir({ prefix: "fastim-failed-start-" });
  try {
    const args = ["--host", "127.0.0.1", "--port", String(first.port)];
    const { code, stderr } = await runServerToExit(args, 10_000, dir);
    strictEqual(code, 1, stderr);
    deepStrictEqual(await Array.fromAsync(Deno.readDir(dir)), [], "nothing left in the cwd");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Go-style flags start the server: -ip 127.0.0.1 -port N", async (t) => {
  for (const style of [["-ip", "127.0.0.1", "-port"], ["--host", "127.0.0.1", "--port"]]) {
    await t.step(style.join(" "), async () => {
      const port = freePort();
      await using server = await startServer([...style, String(port)]);
      strictEqual(server.port, port);
      strictEqual(server.host, "127.0.0.1");
      using c = await connectText(port);
      await c.send("who");
      strictEqual(await c.readLine(), `[${c.addr}],${c.addr}:online`);
    });
  }
  await t.step("--port=N", async () => {
    const port = freePort();
    await using server = await startServer([`--port=${port}`]);
    strictEqual(server.port, port);
  });
});
