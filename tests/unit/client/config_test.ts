import assert from "node:assert/strict";
import { ConfigError, DEFAULT_HOST, parseConfig, usage } from "../../../lib/client/config.ts";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../../../lib/shared/address.ts";

const TTY = { stdin: true, stdout: true };
const PIPE = { stdin: false, stdout: false };

Deno.test("client config: defaults are the Go original's 127.0.0.1:8888", () => {
  const c = parseConfig([], {}, TTY);
  assert.deepEqual([c.host, c.port], [DEFAULT_HOST, DEFAULT_PORT]);
  assert.deepEqual([DEFAULT_HOST, DEFAULT_PORT], ["127.0.0.1", 8888]);
  assert.deepEqual(c.mode, "menu");
  assert.deepEqual(c.reconnect, true);
});

Deno.test("client config: Go-style single-dash flags are normalised", async (t) => {
  await t.step("-ip and -port", () => {
    const c = parseConfig(["-ip", "10.1.2.3", "-port", "9000"], {}, TTY);
    assert.deepEqual([c.host, c.port], ["10.1.2.3", 9000]);
  });
  await t.step("-ip=… and -port=…", () => {
    const c = parseConfig(["-ip=10.1.2.3", "-port=9000"], {}, TTY);
    assert.deepEqual([c.host, c.port], ["10.1.2.3", 9000]);
  });
  await t.step("--ip is an alias of --host", () => {
    assert.deepEqual(parseConfig(["--ip", "h"], {}, TTY).host, "h");
  });
  await t.step("-name, -send, -to, -no-color", () => {
    const c = parseConfig(["-name", "a", "-send", "x", "-to", "b", "-no-color"], {}, TTY);
    assert.deepEqual([c.name, c.send, c.to, c.color], ["a", "x", "b", false]);
  });
  await t.step("a value that is one of our flags must be given with =", () => {
    assert.throws(() => parseConfig(["--send", "-port"], {}, TTY), /--send needs a value/);
    assert.deepEqual(parseConfig(["--send=-port"], {}, TTY).send, "-port");
  });
});

Deno.test("client config: mode follows stdin and flags", async (t) => {
  await t.step(
    "terminal stdin: menu",
    () => assert.deepEqual(parseConfig([], {}, TTY).mode, "menu"),
  );
  await t.step(
    "piped stdin: lines",
    () => assert.deepEqual(parseConfig([], {}, PIPE).mode, "lines"),
  );
  await t.step("--menu forces the menu", () => {
    assert.deepEqual(parseConfig(["--menu"], {}, PIPE).mode, "menu");
  });
  await t.step("--json at a terminal: lines", () => {
    assert.deepEqual(parseConfig(["--json"], {}, TTY).mode, "lines");
  });
  await t.step("--send: send, without reconnecting", () => {
    const c = parseConfig(["--send", "hi", "--to", "bob"], {}, TTY);
    assert.deepEqual([c.mode, c.send, c.to, c.reconnect], ["send", "hi", "bob", false]);
  });
  await t.step("--no-reconnect", () => {
    assert.deepEqual(parseConfig(["--no-reconnect"], {}, TTY).reconnect, false);
  });
});

Deno.test("client config: colour and cursor movement only on a terminal", async (t) => {
  await t.step("terminal: colour and line editor", () => {
    const c = parseConfig([], {}, TTY);
    assert.deepEqual([c.color, c.lineEditor], [true, true]);
  });
  await t.step("stdout not a terminal: neither", () => {
    const c = parseConfig(["--menu"], {}, { stdin: true, stdout: false });
    assert.deepEqual([c.color, c.lineEditor], [false, false]);
  });
  await t.step("NO_COLOR set and non-empty: no colour, editor kept", () => {
    const c = parseConfig([], { NO_COLOR: "1" }, TTY);
    assert.deepEqual([c.color, c.lineEditor], [false, true]);
  });
  await t.step("NO_COLOR empty is ignored", () => {
    assert.deepEqual(parseConfig([], { NO_COLOR: "" }, TTY).color, true);
  });
  await t.step(
    "--no-color",
    () => assert.deepEqual(parseConfig(["--no-color"], {}, TTY).color, false),
  );
  await t.step("TERM=dumb: neither", () => {
    const c = parseConfig([], { TERM: "dumb" }, TTY);
    assert.deepEqual([c.color, c.lineEditor], [false, false]);
  });
  await t.step(
    "--json: no colour",
    () => assert.deepEqual(parseConfig(["--json"], {}, TTY).color, false),
  );
});

Deno.test("client config: FASTIM_PASSWORD logs --name in, and is ignored without it", () => {
  const env = { FASTIM_PASSWORD: "s3cret pass" };
  assert.equal(parseConfig(["--name", "alice"], env, TTY).password, "s3cret pass");
  assert.equal(parseConfig([], env, TTY).password, undefined);
  assert.equal(parseConfig(["--name", "alice"], { FASTIM_PASSWORD: "" }, TTY).password, undefined);
});

Deno.test("client config: bad flags throw one-line ConfigErrors", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /^unknown flag --bogus; try --help$/],
    [["--port"], /--port/],
    [["--port", "abc"], /--port must be a number from 1 to 65535, not "abc"/],
    [["--port", "0"], /from 1 to 65535/],
    [["--port", "70000"], /from 1 to 65535/],
    [["--host", ""], /--host must not be empty/],
    [["--name", " "], /--name must not be empty/],
    [["--ca", ""], /--ca must not be empty/],
    [["--to", "bob"], /--to needs --send/],
    [["--send", ""], /--send needs a non-empty TEXT/],
    [["--menu", "--send", "x"], /--menu cannot be combined with --send/],
    [["--menu", "--json"], /--menu cannot be combined with --json/],
    [["stray"], /stray/],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" ") || "(none)", () => {
      assert.throws(() => parseConfig(args, {}, TTY), (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, message);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
    });
  }
});

Deno.test("client config: --help lists every flag", () => {
  const text = usage();
  const flags = ["--host", "--port", "--tls", "--ca", "--name", "--send", "--to", "--json"];
  for (const flag of [...flags, "--no-color"]) {
    assert.ok(text.includes(flag), flag);
  }
  assert.ok(text.includes("-ip"));
  for (const line of text.split("\n")) {
    const names = line.match(/--[a-z-]+/g) ?? [];
    assert.equal(new Set(names).size, names.length, `a flag named twice: ${line}`);
  }
});

Deno.test("client config: --tls connects with TLS, to port 8889 unless --port says", async (t) => {
  await t.step("off by default", () => {
    const c = parseConfig([], {}, TTY);
    assert.deepEqual([c.tls, c.caFile, c.port], [false, undefined, 8888]);
  });
  await t.step("--tls: port 8889", () => {
    const c = parseConfig(["--tls"], {}, TTY);
    assert.deepEqual([c.tls, c.port, DEFAULT_TLS_PORT], [true, 8889, 8889]);
  });
  await t.step("--tls --port 9999 and -port: the port given", () => {
    assert.equal(parseConfig(["--tls", "--port", "9999"], {}, TTY).port, 9999);
    assert.equal(parseConfig(["-tls", "-port", "9999"], {}, TTY).port, 9999);
  });
  await t.step("--ca FILE implies --tls", () => {
    const c = parseConfig(["--ca", "ca.pem"], {}, TTY);
    assert.deepEqual([c.tls, c.caFile, c.port], [true, "ca.pem", 8889]);
  });
});

Deno.test("client config: passwords are asked for only when stdin is a terminal", () => {
  assert.equal(parseConfig([], {}, TTY).canPrompt, true);
  assert.equal(parseConfig(["--json"], {}, { stdin: true, stdout: false }).canPrompt, true);
  assert.equal(parseConfig(["--menu"], {}, PIPE).canPrompt, false);
});

Deno.test("client config: a flag value starting with a dash is taken as the value", () => {
  for (const args of [["--send", "-1"], ["-send", "-1"], ["--send=-1"], ["-send=-1"]]) {
    const c = parseConfig(args, {});
    assert.deepEqual([c.mode, c.send], ["send", "-1"], args.join(" "));
  }
  // A word that is one of our flags is not a value: the user left it out (`--send --to bob`).
  assert.throws(() => parseConfig(["--send", "--to", "bob"], {}), /flag --send needs a value/);
  assert.equal(parseConfig(["--send=--to"], {}).send, "--to");
  assert.equal(parseConfig(["--name", "-x", "--send", "hi"], {}).name, "-x");
});

Deno.test("client config: flags are read by the shared parser, as the server's are", async (t) => {
  await t.step("a missing value is one line", () => {
    assert.throws(() => parseConfig(["--send"], {}), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.message, "flag --send needs a value (TEXT); try --help");
      return true;
    });
  });
  await t.step("an unknown flag is worded as the server words it, Go style too", () => {
    for (const flag of ["--prot", "-prot"]) {
      assert.throws(() => parseConfig([flag, "1"], {}), (e: Error) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.message, `unknown flag ${flag}; try --help`);
        return true;
      });
    }
  });
  await t.step("a value given to a boolean", () => {
    assert.throws(() => parseConfig(["--no-color=1"], {}, TTY), /--no-color takes no value/);
    assert.throws(() => parseConfig(["--json=yes"], {}, TTY), /--json takes no value/);
  });
  await t.step("-no-color, -no-reconnect and the last of --color/--no-color win", () => {
    const c = parseConfig(["-no-color", "-no-reconnect"], {}, TTY);
    assert.deepEqual([c.color, c.reconnect], [false, false]);
    assert.equal(parseConfig(["--no-color", "--color"], {}, TTY).color, true);
    assert.equal(parseConfig(["--color", "--no-color"], {}, TTY).color, false);
  });
  await t.step("-h, -V, -help, -version", () => {
    assert.equal(parseConfig(["-h"], {}).help, true);
    assert.equal(parseConfig(["-help"], {}).help, true);
    assert.equal(parseConfig(["-V"], {}).version, true);
    assert.equal(parseConfig(["-version"], {}).version, true);
  });
  await t.step("a repeated flag keeps its last value", () => {
    assert.equal(parseConfig(["-port", "1", "--port=2"], {}).port, 2);
  });
});

Deno.test("config: --host takes several servers, each with or without its own port", () => {
  const c = parseConfig(["--host", "a, b:9000 ,[::1]:9001,::1", "--port", "7000"], {}, TTY);
  assert.deepEqual(c.servers, [
    { host: "a", port: 7000 },
    { host: "b", port: 9000 },
    { host: "::1", port: 9001 },
    { host: "::1", port: 7000 },
  ]);
  assert.deepEqual([c.host, c.port], ["a", 7000]);
  assert.deepEqual(parseConfig(["--host", "x"], {}, TTY).servers, [{ host: "x", port: 8888 }]);
  assert.throws(() => parseConfig(["--host", "a,,b"], {}, TTY), /--host has an empty server/);
  assert.throws(() => parseConfig(["--host", "a:0"], {}, TTY), /--host a:0 must be a number/);
});
