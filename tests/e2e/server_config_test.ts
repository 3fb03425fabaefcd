/**
 * The server's settings from a `--config` JSONC file and `FASTIM_*` variables beneath the command
 * line, `--print-config`, every bad-config error (one line naming the file and key, or the
 * variable; exit 2), and `--log-format json`, against the real server entrypoint.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { parseJsonc } from "../../lib/shared/jsonc.ts";
import { JsonClient } from "../helpers/lines.ts";
import { runServerToExit, startServer } from "../helpers/server.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-config-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `--print-config`'s settings, and the source named in each line's comment. */
function printed(stdout: string): { values: Record<string, unknown>; from: Map<string, string> } {
  const from = new Map<string, string>();
  for (const m of stdout.matchAll(/^ {2}"([a-z-]+)": .*\/\/ (.+)$/gm)) from.set(m[1], m[2]);
  return { values: parseJsonc(stdout) as Record<string, unknown>, from };
}

Deno.test("settings come from the file, then FASTIM_* variables, then flags, each overriding the last", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/server.jsonc`;
    await Deno.writeTextFile(
      file,
      `{
        // every key is a flag's long name
        "max-line": "16KiB",
        "history": 5,
        "admin": "root",
        "no-plain": false, /* a switch */
      }`,
    );
    const r = await runServerToExit(
      ["--config", file, "--admin", "alice", "--print-config"],
      10_000,
      undefined,
      { FASTIM_HISTORY: "7", FASTIM_ADMIN: "ops", FASTIM_LOG_LEVEL: "debug" },
    );
    strictEqual(r.code, 0, r.stderr);
    const { values, from } = printed(r.stdout);
    deepStrictEqual(values, {
      "max-line": "16KiB",
      history: 7,
      admin: "alice",
      "no-plain": false,
      "log-level": "debug",
    });
    deepStrictEqual(Object.fromEntries(from), {
      "max-line": file,
      history: "FASTIM_HISTORY",
      admin: "--admin",
      "no-plain": file,
      "log-level": "FASTIM_LOG_LEVEL",
    });
    // Defaults are listed too, commented out, with where they came from.
    match(r.stdout, /^ {2}\/\/ "port": 8888, +\/\/ default$/m);
  });
});

Deno.test("--print-config's output, read back with --config, gives the same settings", async () => {
  await withDir(async (dir) => {
    const first = await runServerToExit(
      ["--port", "9000", "--idle-timeout", "2m", "--print-config"],
      10_000,
      undefined,
      { FASTIM_WORKERS: "2" },
    );
    strictEqual(first.code, 0, first.stderr);
    await Deno.writeTextFile(`${dir}/again.jsonc`, first.stdout);
    const again = await runServerToExit(["--config", `${dir}/again.jsonc`, "--print-config"]);
    strictEqual(again.code, 0, again.stderr);
    deepStrictEqual(printed(again.stdout).values, printed(first.stdout).values);
    deepStrictEqual(printed(again.stdout).values, { port: 9000, "idle-timeout": "2m", workers: 2 });
  });
});

Deno.test("a server runs with its config file, FASTIM_CONFIG names it, and flags win", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/server.jsonc`;
    // Port 1 would need root: the test's --port 0 must win over it for the server to start.
    await Deno.writeTextFile(file, `{"port": 1, "log-format": "json", "history": 1}`);
    await using server = await startServer([], { env: { FASTIM_CONFIG: file } });
    const a = await JsonClient.connect(server.port, { name: "alice" });
    for (const text of ["one", "two"]) {
      strictEqual((await a.request({ type: "say", text })).type, "ok");
    }
    // "history": 1 from the file: a newcomer is sent the last message only.
    const b = await JsonClient.connect(server.port, { name: "bob" });
    const h = await b.read();
    deepStrictEqual([h.history, h.text], [true, "two"]);
    a.close();
    b.close();
    const lines = server.stderr().trim().split("\n");
    ok(lines.every((l) => l.startsWith("{")), server.stderr());
  });
});

Deno.test("--log-format json writes one JSON object per line, with the same events and fields", async () => {
  await using server = await startServer(["--log-format", "json", "--log-level", "debug"]);
  const a = await JsonClient.connect(server.port, { name: "alice" });
  a.close();
  await server.stop();
  const records = server.stderr().trim().split("\n").map((l) => JSON.parse(l));
  const listening = records.find((r) => String(r.msg).startsWith("listening on "));
  ok(listening, server.stderr());
  deepStrictEqual(Object.keys(listening).slice(0, 3), ["time", "level", "msg"]);
  strictEqual(listening.level, "info");
  ok(!isNaN(Date.parse(listening.time)));
  const connect = records.find((r) => r.msg === "connect");
  ok(connect && /^127\.0\.0\.1:\d+$/.test(connect.addr), server.stderr());
  ok(records.some((r) => r.msg === "stopped"), server.stderr());
});

Deno.test("every bad setting is one line naming the file and key, or the variable; exit 2", async (t) => {
  await withDir(async (dir) => {
    const file = `${dir}/bad.jsonc`;
    const cases: [string, string, Record<string, string>, RegExp][] = [
      [
        "unknown key, near a real one",
        `{"prot": 9000}`,
        {},
        /bad\.jsonc: unknown key "prot" \(did you mean "port"\?\)/,
      ],
      [
        "unknown key",
        `{"colour": "red"}`,
        {},
        /bad\.jsonc: unknown key "colour": the keys are the long names/,
      ],
      [
        "a command, not a setting",
        `{"backup": "x.db"}`,
        {},
        /bad\.jsonc: "backup" is a command-line flag, not a setting/,
      ],
      [
        "a number where a switch goes",
        `{"no-plain": 1}`,
        {},
        /bad\.jsonc: "no-plain" must be true or false, not 1/,
      ],
      [
        "a switch where a number goes",
        `{"port": true}`,
        {},
        /bad\.jsonc: "port" must be a PORT string or number, not true/,
      ],
      [
        "a list",
        `{"admin": ["a", "b"]}`,
        {},
        /bad\.jsonc: "admin" must be a NAMES string or number, not a list/,
      ],
      ["null", `{"db": null}`, {}, /bad\.jsonc: "db" must be a PATH string or number, not null/],
      [
        "a value out of range",
        `{"port": 99999}`,
        {},
        /bad\.jsonc: "port" expects a whole number from 0 to 65535; got "99999"/,
      ],
      ["a bad size", `{"max-line": "lots"}`, {}, /bad\.jsonc: "max-line" expects a size/],
      ["a bad level", `{"log-level": "loud"}`, {}, /bad\.jsonc: "log-level" expects one of debug/],
      [
        "a bad log format",
        `{"log-format": "xml"}`,
        {},
        /bad\.jsonc: "log-format" expects text or json; got "xml"/,
      ],
      [
        "a setting that needs another",
        `{"tls-port": 8443}`,
        {},
        /bad\.jsonc: "tls-port" needs --tls-cert FILE and --tls-key FILE/,
      ],
      [
        "not JSONC",
        `{\n  "port": 9000\n  "db": "x"\n}`,
        {},
        /bad\.jsonc: not valid JSONC: .*\(line 3, column 3\)/,
      ],
      ["not an object", `[{"port": 9000}]`, {}, /bad\.jsonc: must hold one object of settings/],
      [
        "a bad variable",
        `{}`,
        { FASTIM_PORT: "eighty" },
        /FASTIM_PORT expects a whole number from 0 to 65535; got "eighty"/,
      ],
      [
        "a bad switch variable",
        `{}`,
        { FASTIM_NO_PLAIN: "maybe" },
        /FASTIM_NO_PLAIN expects true or false \(1 or 0\); got "maybe"/,
      ],
    ];
    for (const [name, text, env, expected] of cases) {
      await t.step(name, async () => {
        await Deno.writeTextFile(file, text);
        const r = await runServerToExit(["--config", file], 10_000, undefined, env);
        strictEqual(r.code, 2, r.stderr);
        match(r.stderr, expected);
        strictEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
      });
    }
    await t.step("a missing file", async () => {
      const r = await runServerToExit(["--config", `${dir}/missing.jsonc`]);
      strictEqual(r.code, 2);
      match(r.stderr, /cannot read the config file .*missing\.jsonc: no such file/);
    });
    await t.step("a missing file named by FASTIM_CONFIG", async () => {
      const r = await runServerToExit([], 10_000, undefined, {
        FASTIM_CONFIG: `${dir}/nope.jsonc`,
      });
      strictEqual(r.code, 2);
      match(r.stderr, /cannot read the config file .*nope\.jsonc: no such file/);
    });
  });
});
