/**
 * The client's config file ($XDG_CONFIG_HOME/fastim/client.jsonc, else ~/.config/...) against a
 * real server: its settings apply, flags override them, and every bad file is one line naming the
 * file and key, exit 2.
 */
import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { runClient } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

/** Writes `text` as `DIR/fastim/client.jsonc` in a new folder and returns the folder. */
async function configHome(text: string, sub = ""): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-client-config-" });
  await Deno.mkdir(`${dir}${sub}/fastim`, { recursive: true });
  await Deno.writeTextFile(`${dir}${sub}/fastim/client.jsonc`, text);
  return dir;
}

/** Sends `text` with the client and returns who the listener saw it from. */
async function sender(
  port: number,
  args: string[],
  env: Record<string, string>,
  text: string,
): Promise<string> {
  const listener = await JsonClient.connect(port, { name: `l${crypto.randomUUID().slice(0, 6)}` });
  try {
    const r = await runClient([...args, "--send", text], { env });
    strictEqual(r.code, 0, r.stderr);
    const frame = await listener.readUntil((f) => f.type === "public" && f.text === text);
    return String(frame.from);
  } finally {
    listener.close();
  }
}

Deno.test("the config file's host, port and name apply, and flags override them", async (t) => {
  await using server = await startServer();
  await t.step("from $XDG_CONFIG_HOME/fastim/client.jsonc", async () => {
    const dir = await configHome(
      `{ // where I chat\n "host": "127.0.0.1", "port": ${server.port}, "name": "carol", }`,
    );
    try {
      strictEqual(
        await sender(server.port, [], { XDG_CONFIG_HOME: dir }, "from the file"),
        "carol",
      );
      // Flags win: another name; the port too (the file's would now be wrong).
      await Deno.writeTextFile(`${dir}/fastim/client.jsonc`, `{"port": 1, "name": "carol"}`);
      strictEqual(
        await sender(server.port, ["--port", String(server.port), "--name", "dave"], {
          XDG_CONFIG_HOME: dir,
        }, "flags win"),
        "dave",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("from ~/.config/fastim/client.jsonc without XDG_CONFIG_HOME", async () => {
    const home = await configHome(`{"port": ${server.port}, "name": "erin"}`, "/.config");
    try {
      const env = { HOME: home, XDG_CONFIG_HOME: "" };
      strictEqual(await sender(server.port, [], env, "from home"), "erin");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  });
});

Deno.test("a bad client config file is one line naming the file and key; exit 2", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["an unknown key", `{"hots": "x"}`, /"hots" is not a setting; the file may set host, port/],
    ["a wrong type", `{"tls": "yes"}`, /"tls" must be true or false, not "yes"/],
    ["a bad port", `{"port": 0}`, /"port" must be a number from 1 to 65535, not 0/],
    ["an empty name", `{"name": " "}`, /"name" must not be empty/],
    ["a list for a host", `{"host": ["a"]}`, /"host" must be a string, not a list/],
    ["not JSONC", `{"host": "a" "port": 1}`, /not valid JSONC: .*\(line 1, column 14\)/],
    ["not an object", `"chat.example.com"`, /must hold one object of settings/],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, async () => {
      const dir = await configHome(text);
      try {
        const r = await runClient(["--send", "x"], { env: { XDG_CONFIG_HOME: dir } });
        strictEqual(r.code, 2, r.stderr);
        const lines = r.stderr.trim().split("\n");
        deepStrictEqual(lines.length, 1, r.stderr);
        match(lines[0], new RegExp(`^client: ${dir}/fastim/client\\.jsonc: `));
        match(lines[0], expected);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});
