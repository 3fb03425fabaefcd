import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { type FlagSpec, formatHelp, parseFlags, UsageError } from "../../../lib/shared/cli.ts";
import {
  parseServerArgs,
  SERVER_DEFAULTS,
  SERVER_FLAGS,
  type ServerConfig,
} from "../../../lib/server/config.ts";
import { DEFAULT_HTTP_SETTINGS } from "../../../lib/server/http/http_config.ts";
import { DEFAULT_IRC_SETTINGS } from "../../../lib/server/irc/irc_config.ts";

const SPECS: FlagSpec[] = [
  { name: "host", type: "string", aliases: ["ip"], value: "ADDR", default: "0.0.0.0", doc: "h" },
  { name: "port", type: "string", value: "PORT", doc: "p" },
  { name: "help", type: "boolean", short: "h", doc: "show help" },
];

/** Asserts `fn` throws a one-line UsageError whose message matches `pattern`. */
function usageError(fn: () => unknown, pattern: RegExp): void {
  throws(fn, (e: unknown) => {
    ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    ok(!e.message.includes("\n"), `one line: ${JSON.stringify(e.message)}`);
    ok(pattern.test(e.message), `${JSON.stringify(e.message)} matches ${pattern}`);
    return true;
  });
}

function serve(args: string[]): ServerConfig {
  const command = parseServerArgs(args);
  if (command.kind !== "serve") throw new Error(`expected serve, got ${command.kind}`);
  return command.config;
}

Deno.test("parseFlags reads Go-style and GNU-style flags", async (t) => {
  const cases: [string[], Record<string, unknown>][] = [
    [[], {}],
    [["-port", "9000"], { port: "9000" }],
    [["--port", "9000"], { port: "9000" }],
    [["--port=1"], { port: "1" }],
    [["-port=9000"], { port: "9000" }],
    [["-ip", "127.0.0.1"], { host: "127.0.0.1" }],
    [["--ip=10.0.0.1"], { host: "10.0.0.1" }],
    [["--host", "::1", "-port", "0"], { host: "::1", port: "0" }],
    [["-h"], { help: true }],
    [["--help"], { help: true }],
    [["-help"], { help: true }],
    [["--port", "1", "--port", "2"], { port: "2" }],
    [["--port", "-5"], { port: "-5" }],
    [["--port="], { port: "" }],
    [["--host=a=b"], { host: "a=b" }],
  ];
  for (const [args, values] of cases) {
    await t.step(
      args.join(" ") || "(none)",
      () => deepStrictEqual(parseFlags(args, SPECS), values),
    );
  }
});

Deno.test("parseFlags rejects bad command lines with one line", async (t) => {
  await t.step(
    "unknown flag",
    () => usageError(() => parseFlags(["--nope"], SPECS), /unknown flag --nope/),
  );
  await t.step(
    "unknown Go-style flag",
    () => usageError(() => parseFlags(["-nope", "1"], SPECS), /unknown flag -nope/),
  );
  await t.step(
    "unknown short flag",
    () => usageError(() => parseFlags(["-x"], SPECS), /unknown flag -x/),
  );
  await t.step(
    "missing value",
    () => usageError(() => parseFlags(["--port"], SPECS), /flag --port needs a value/),
  );
  await t.step(
    "missing value, Go style",
    () => usageError(() => parseFlags(["-port"], SPECS), /flag -port needs a value/),
  );
  await t.step(
    "value given to a boolean",
    () => usageError(() => parseFlags(["--help=yes"], SPECS), /--help takes no value/),
  );
  await t.step(
    "positional argument",
    () => usageError(() => parseFlags(["9000"], SPECS), /unexpected argument "9000"/),
  );
  await t.step(
    "bare dashes",
    () => usageError(() => parseFlags(["--"], SPECS), /unexpected argument|unknown flag/),
  );
  await t.step(
    "single dash",
    () => usageError(() => parseFlags(["-"], SPECS), /unexpected argument|unknown flag/),
  );
});

Deno.test("formatHelp lists every flag with its aliases, value and default", () => {
  const help = formatHelp(["Usage: x [flags]"], SPECS, ["footer"]);
  const lines = help.split("\n");
  strictEqual(lines[0], "Usage: x [flags]");
  ok(lines.includes("Flags:"));
  ok(/--host ADDR, -ip\s+h \(default 0\.0\.0\.0\)/.test(help), help);
  ok(/--port PORT\s+p$/m.test(help), help);
  ok(/-h, --help\s+show help/.test(help), help);
  strictEqual(lines.at(-1), "footer");
});

Deno.test("parseFlags: a value left out before the next flag is named as missing", () => {
  usageError(() => parseFlags(["--port", "--host", "x"], SPECS), /^flag --port needs a value/);
  usageError(() => parseFlags(["-port", "-ip=1.2.3.4"], SPECS), /^flag -port needs a value/);
});

Deno.test("parseServerArgs: defaults", () => {
  deepStrictEqual(serve([]), {
    ...SERVER_DEFAULTS,
    http: DEFAULT_HTTP_SETTINGS,
    irc: DEFAULT_IRC_SETTINGS,
  });
  const { host, port, idleTimeoutMs, maxLineBytes, maxQueueBytes, logLevel } = SERVER_DEFAULTS;
  deepStrictEqual({ host, port, idleTimeoutMs, maxLineBytes, maxQueueBytes, logLevel }, {
    host: "0.0.0.0",
    port: 8888,
    idleTimeoutMs: 60_000,
    maxLineBytes: 8192,
    maxQueueBytes: 1024 * 1024,
    logLevel: "info",
  });
});

Deno.test("parseServerArgs: every flag in every style", async (t) => {
  const cases: [string[], Partial<ServerConfig>][] = [
    [["-port", "9000"], { port: 9000 }],
    [["--port", "9000"], { port: 9000 }],
    [["--port=1"], { port: 1 }],
    [["--port", "0"], { port: 0 }],
    [["--port", "65535"], { port: 65535 }],
    [["-ip", "127.0.0.1"], { host: "127.0.0.1" }],
    [["--host", "::"], { host: "::" }],
    [["--idle-timeout", "500ms"], { idleTimeoutMs: 500 }],
    [["--idle-timeout", "0"], { idleTimeoutMs: 0 }],
    [["--idle-timeout", "90"], { idleTimeoutMs: 90_000 }],
    [["--idle-timeout=2m"], { idleTimeoutMs: 120_000 }],
    [["--max-line", "1KiB"], { maxLineBytes: 1024 }],
    [["--max-line", "64"], { maxLineBytes: 64 }],
    [["--max-queue", "64KiB"], { maxQueueBytes: 65536 }],
    [["-max-queue", "2M"], { maxQueueBytes: 2 * 1024 * 1024 }],
    [["--log-level", "debug"], { logLevel: "debug" }],
    [["-log-level=silent"], { logLevel: "silent" }],
    [["--irc-port", "7000"], { irc: { port: 7000, tlsPort: undefined } }],
    [["--no-irc"], { irc: undefined }],
  ];
  for (const [args, expected] of cases) {
    await t.step(
      args.join(" "),
      () =>
        deepStrictEqual(serve(args), {
          ...SERVER_DEFAULTS,
          http: DEFAULT_HTTP_SETTINGS,
          irc: DEFAULT_IRC_SETTINGS,
          ...expected,
        }),
    );
  }
});

Deno.test("parseServerArgs: --help and --version", async (t) => {
  await t.step("help lists every flag", () => {
    for (const args of [["--help"], ["-h"], ["-help"], ["--port", "x", "--help"]]) {
      const command = parseServerArgs(args);
      if (command.kind !== "help") throw new Error(`expected help for ${args}`);
      for (const spec of SERVER_FLAGS) ok(command.text.includes(`--${spec.name}`), spec.name);
      ok(command.text.includes("-ip"));
      ok(command.text.startsWith("Usage: server"));
    }
  });
  await t.step("version", () => {
    deepStrictEqual(parseServerArgs(["--version"]), { kind: "version" });
  });
});

Deno.test("parseServerArgs rejects bad values with one line naming the flag", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /unknown flag --bogus/],
    [["--port"], /--port needs a value/],
    [["-port"], /-port needs a value/],
    [["--port", "abc"], /--port expects a whole number from 0 to 65535; got "abc"/],
    [["--port", "70000"], /--port expects a whole number from 0 to 65535; got "70000"/],
    [["--port", "-1"], /--port expects a whole number/],
    [["--port", "8e3"], /--port expects a whole number/],
    [["--port", " 80"], /--port expects a whole number/],
    [["--port="], /--port expects a whole number/],
    [["--host", ""], /--host needs an address/],
    [["--idle-timeout", "5x"], /--idle-timeout expects a duration like 60, 500ms, 2m; got "5x"/],
    [["--idle-timeout", "-1"], /--idle-timeout expects a duration/],
    [["--max-line", "0"], /--max-line expects a size/],
    [["--max-line", "lots"], /--max-line expects a size like 8192, 8KiB, 1MiB; got "lots"/],
    [["--max-line", "10"], /--max-line expects a size of at least 64 bytes/],
    [["--max-queue", "100"], /--max-queue expects a size of at least 1024 bytes/],
    [
      ["--max-line", "64KiB", "--max-queue", "64KiB"],
      /^--max-line 64KiB must be smaller than --max-queue 64KiB$/,
    ],
    [
      ["--log-level", "loud"],
      /--log-level expects one of debug, info, warn, error, silent; got "loud"/,
    ],
    [["--help=1"], /--help takes no value/],
    [["9000"], /unexpected argument/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(args.join(" "), () => usageError(() => parseServerArgs(args), pattern));
  }
});

Deno.test("parseFlags: --no-NAME turns off a negatable boolean", async (t) => {
  const specs: FlagSpec[] = [
    ...SPECS,
    { name: "color", type: "boolean", negatable: true, doc: "colours" },
  ];
  const cases: [string[], Record<string, unknown>][] = [
    [["--color"], { color: true }],
    [["--no-color"], { color: false }],
    [["-no-color"], { color: false }],
    [["--no-color", "--color"], { color: true }],
    [["--color", "-no-color"], { color: false }],
  ];
  for (const [args, values] of cases) {
    await t.step(args.join(" "), () => deepStrictEqual(parseFlags(args, specs), values));
  }
  await t.step(
    "takes no value",
    () => usageError(() => parseFlags(["--no-color=1"], specs), /flag --no-color takes no value/),
  );
  await t.step(
    "only for negatable flags",
    () => usageError(() => parseFlags(["--no-help"], specs), /unknown flag --no-help/),
  );
  await t.step("help shows a flag that is on by default by its --no- form, once", () => {
    const on = specs.map((s) =>
      s.name === "color" ? { ...s, default: "on", doc: "no colours" } : s
    );
    const help = formatHelp(["Usage: x"], on);
    ok(/^ {2}--no-color\s+no colours$/m.test(help), help);
    strictEqual(help.match(/no-color/g)?.length, 1, help);
  });
});

Deno.test("parseServerArgs: --redis and --cluster make a cluster node; bad values are one line", () => {
  const node = serve(["--redis", "redis://:pw@127.0.0.1:6379", "--cluster", "eu-1"]);
  strictEqual(node.redisUrl, "redis://:pw@127.0.0.1:6379");
  strictEqual(node.cluster, "eu-1");
  strictEqual(serve([]).redisUrl, undefined);
  strictEqual(serve([]).cluster, "fastim");
  strictEqual(serve(["--redis", "rediss://h.example:6380"]).redisUrl, "rediss://h.example:6380");
  usageError(() => parseServerArgs(["--redis", "http://h:1"]), /--redis expects redis:\/\//);
  // The password is not echoed back.
  usageError(() => parseServerArgs(["--redis", "http://:secret@h"]), /^(?!.*secret)/);
  usageError(() => parseServerArgs(["--cluster", "a b"]), /--cluster expects/);
  usageError(
    () => parseServerArgs(["--redis", "redis://h", "--workers", "2"]),
    /--redis and --workers cannot be combined/,
  );
  usageError(
    () => parseServerArgs(["--redis", "redis://h", "--retain-days", "30"]),
    /do not apply to a cluster yet/,
  );
});
