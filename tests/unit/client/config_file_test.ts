import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { clientConfigPath, readClientConfigFile } from "../../../lib/client/config_file.ts";
import { ConfigError, parseConfig } from "../../../lib/client/config.ts";

Deno.test("clientConfigPath follows the XDG rules", () => {
  strictEqual(clientConfigPath({ HOME: "/h", XDG_CONFIG_HOME: "/x/" }), "/x/fastim/client.jsonc");
  strictEqual(
    clientConfigPath({ HOME: "/h", XDG_CONFIG_HOME: "" }),
    "/h/.config/fastim/client.jsonc",
  );
  // A relative XDG_CONFIG_HOME is invalid by the spec, and ignored.
  strictEqual(
    clientConfigPath({ HOME: "/h", XDG_CONFIG_HOME: "rel" }),
    "/h/.config/fastim/client.jsonc",
  );
  strictEqual(clientConfigPath({}), undefined);
});

Deno.test("readClientConfigFile: no file is none; a relative ca is beside the file", () => {
  const missing = () => {
    throw new Deno.errors.NotFound("x");
  };
  strictEqual(readClientConfigFile("/c/client.jsonc", missing), undefined);
  const file = readClientConfigFile(
    "/c/fastim/client.jsonc",
    () => `{"ca": "ca.pem", "port": "8889", "tls": true, "color": false}`,
  );
  deepStrictEqual(file, {
    file: "/c/fastim/client.jsonc",
    ca: "/c/fastim/ca.pem",
    port: "8889",
    tls: true,
    color: false,
  });
});

Deno.test("parseConfig puts the file beneath the flags", async (t) => {
  const tty = { stdin: false, stdout: true };
  const file = { file: "/f", host: "h.example", port: "9000", name: "carol", color: false };
  await t.step("the file's values apply", () => {
    const c = parseConfig(["--send", "x"], {}, tty, file);
    deepStrictEqual([c.host, c.port, c.name], ["h.example", 9000, "carol"]);
  });
  await t.step("flags override them, --color too", () => {
    const c = parseConfig(["--json", "--port", "1234", "--color"], {}, tty, { ...file });
    strictEqual(c.port, 1234);
    strictEqual(parseConfig(["--color"], {}, tty, file).color, true);
    strictEqual(parseConfig([], {}, tty, file).color, false);
  });
  await t.step("--no-tls drops the file's TLS and its CA", () => {
    const tlsFile = { file: "/f", tls: true, ca: "/f/ca.pem" };
    const on = parseConfig([], {}, tty, tlsFile);
    deepStrictEqual([on.tls, on.caFile, on.port], [true, "/f/ca.pem", 8889]);
    const off = parseConfig(["--no-tls"], {}, tty, tlsFile);
    deepStrictEqual([off.tls, off.caFile, off.port], [false, undefined, 8888]);
  });
  await t.step("bad values name the file and key", () => {
    throws(
      () => readClientConfigFile("/f.jsonc", () => `{"color": 1}`),
      (e: Error) =>
        e instanceof ConfigError && e.message === '/f.jsonc: "color" must be true or false, not 1',
    );
  });
});
