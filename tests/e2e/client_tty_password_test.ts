/**
 * Password prompts in a real pseudo-terminal under tmux: what is typed at a prompt never reaches
 * the screen (the whole scrollback is searched for it), and the login it was typed for works.
 */

import assert from "node:assert/strict";
import { clientShellCommand, hasTmux, Tmux } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const lastLine = (lines: string[]) => lines.at(-1) ?? "";
const at = (port: number) => ["-port", String(port)];
/** No FASTIM_PASSWORD from the environment the tests run in. */
const NO_PASSWORD = { FASTIM_PASSWORD: "" };

/** Registers `name` with `password` over a JSON connection of its own, then leaves. */
async function register(port: number, name: string, password: string): Promise<void> {
  const c = await JsonClient.connect(port, { name });
  try {
    assert.equal((await c.request({ type: "register", password })).type, "ok");
  } finally {
    c.close();
  }
}

/** Whether `password` logs in as `name` (the other session of that name is replaced). */
async function canLogIn(port: number, name: string, password: string): Promise<boolean> {
  const c = await JsonClient.connect(port, { name, password });
  c.close();
  return c.welcome.account === name;
}

/** Waits for a password prompt, checks that typing shows nothing, and presses Enter. */
async function typeSecret(tmux: Tmux, prompt: string, secret: string): Promise<void> {
  await tmux.waitFor((l) => lastLine(l) === prompt.trimEnd(), `the prompt "${prompt}"`);
  await tmux.type(secret);
  await new Promise((r) => setTimeout(r, 150)); // let the client read the keys
  assert.equal(lastLine(await tmux.screen()), prompt.trimEnd(), "nothing echoed");
  assert.deepEqual((await tmux.cursor()).x, prompt.length, "the cursor did not move");
  await tmux.keys("Enter");
}

async function assertNeverShown(tmux: Tmux, ...secrets: string[]): Promise<void> {
  const all = await tmux.everything();
  for (const secret of secrets) assert.ok(!all.includes(secret), `"${secret}" shown:\n${all}`);
}

Deno.test({
  name: "client tty: /register asks twice without echo, and the password then logs in",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const secret = "Tr0ub4dor&3-register";
    await using tmux = new Tmux();
    await tmux.start(
      clientShellCommand([...at(server.port), "--name", "alice"]),
      NO_PASSWORD,
    );
    await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
    await tmux.keys("1", "Enter");
    await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");
    await tmux.type("/register");
    await tmux.keys("Enter");
    await typeSecret(tmux, "choose a password: ", secret);
    await typeSecret(tmux, "again: ", secret);
    await tmux.waitFor((l) => l.includes("you registered alice"), "the registration");
    await tmux.waitFor((l) => lastLine(l) === "public>", "the chat prompt again");

    // Up recalls the last line typed: /register, never a password.
    await tmux.keys("Up");
    await tmux.waitFor((l) => lastLine(l) === "public> /register", "the recalled line");
    await tmux.keys("C-u", "C-c");
    await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
    await assertNeverShown(tmux, secret);
    assert.ok(await canLogIn(server.port, "alice", secret));
  },
});

Deno.test({
  name: "client tty: --name of a registered user online elsewhere asks for the password and joins",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const secret = "correct horse battery";
    await register(server.port, "alice", secret);
    const elsewhere = await JsonClient.connect(server.port, { name: "alice", password: secret });
    assert.equal(elsewhere.welcome.account, "alice");
    try {
      await using tmux = new Tmux();
      await tmux.start(
        clientShellCommand([...at(server.port), "--name", "alice"]),
        NO_PASSWORD,
      );
      await typeSecret(tmux, "password for alice: ", secret);
      const screen = await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu");
      assert.ok(screen.some((l) => /^connected to 127\.0\.0\.1:\d+ as alice \(/.test(l)));
      // The other connection stays: no notice, and a private message reaches it still.
      const bob = await JsonClient.connect(server.port, { name: "bob" });
      assert.equal((await bob.request({ type: "msg", to: "alice", text: "both?" })).type, "ok");
      const got = await elsewhere.readUntil((f) => f.type === "private" || f.type === "notice");
      assert.equal(got.text, "both?");
      bob.close();
      await tmux.keys("0", "Enter");
      await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
    } finally {
      elsewhere.close();
    }
  },
});

Deno.test({
  name: "client tty: --name of a registered user asks for the password, again after a wrong one",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const secret = "correct horse battery";
    await register(server.port, "alice", secret);
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    await using tmux = new Tmux();
    try {
      await tmux.start(
        clientShellCommand([...at(server.port), "--name", "alice"]),
        NO_PASSWORD,
      );
      await typeSecret(tmux, "password for alice: ", "wrong guess 1");
      await tmux.waitFor(
        (l) => l.includes("! wrong name or password; try again"),
        "the wrong password refused",
      );
      await typeSecret(tmux, "password for alice: ", secret);
      const screen = await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu");
      assert.ok(screen.some((l) => /^connected to 127\.0\.0\.1:\d+ as alice \(/.test(l)));
      const renamed = await bob.readUntil((f) => f.type === "presence" && f.event === "renamed");
      assert.equal(renamed.name, "alice");

      await tmux.keys("0", "Enter");
      await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
      await assertNeverShown(tmux, secret, "wrong guess 1");
    } finally {
      bob.close();
    }
  },
});

Deno.test({
  name: "client tty: /login NAME and /passwd ask without echo; Ctrl-C cancels a prompt",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const [old, next] = ["first password", "second password"];
    await register(server.port, "carol", old);
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    await using tmux = new Tmux();
    try {
      await tmux.start(clientShellCommand(at(server.port)), NO_PASSWORD);
      await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
      await tmux.keys("1", "Enter");
      await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");

      // Ctrl-C at the prompt cancels the prompt, not the client.
      await tmux.type("/login carol");
      await tmux.keys("Enter");
      await tmux.waitFor((l) => lastLine(l) === "password for carol:", "the login prompt");
      await tmux.type("half typed");
      await tmux.keys("C-c");
      await tmux.waitFor((l) => l.includes("cancelled") && lastLine(l) === "public>", "cancel");

      await tmux.type("/login carol");
      await tmux.keys("Enter");
      await typeSecret(tmux, "password for carol: ", old);
      await tmux.waitFor((l) => l.includes("you are logged in as carol"), "the login");

      await tmux.type("/passwd");
      await tmux.keys("Enter");
      await typeSecret(tmux, "old password: ", old);
      await typeSecret(tmux, "new password: ", next);
      await typeSecret(tmux, "again: ", next);
      await tmux.waitFor((l) => l.includes("your password was changed"), "the change");

      await tmux.type("as carol");
      await tmux.keys("Enter");
      const said = await bob.readUntil((f) => f.type === "public");
      assert.deepEqual([said.from, said.text], ["carol", "as carol"]);
      await tmux.keys("C-c");
      await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
      await assertNeverShown(tmux, old, next, "half typed");
      assert.ok(await canLogIn(server.port, "carol", next));
      assert.ok(!(await canLogIn(server.port, "carol", old)));
    } finally {
      bob.close();
    }
  },
});

Deno.test({
  name: "client tty: without the line editor (TERM=dumb, --send) the prompt does not echo either",
  ignore: !hasTmux,
  async fn(t) {
    await using server = await startServer();
    const secret = "dumb terminal secret";
    await register(server.port, "dora", secret);
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    try {
      await t.step("TERM=dumb: the menu after logging in", async () => {
        await using tmux = new Tmux();
        await tmux.start(
          clientShellCommand([...at(server.port), "--name", "dora"]),
          { ...NO_PASSWORD, TERM: "dumb" },
        );
        await typeSecret(tmux, "password for dora: ", secret);
        await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu");
        await tmux.type("1");
        await tmux.keys("Enter");
        await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");
        await tmux.type("typed after the prompt");
        await tmux.keys("Enter");
        const said = await bob.readUntil((f) => f.type === "public");
        assert.deepEqual([said.from, said.text], ["dora", "typed after the prompt"]);
        await tmux.keys("C-d");
        await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
        await assertNeverShown(tmux, secret);
      });
      await t.step("--send at a terminal", async () => {
        await using tmux = new Tmux();
        await tmux.start(
          clientShellCommand([...at(server.port), "--name", "dora", "--send", "sent once"]),
          NO_PASSWORD,
        );
        await typeSecret(tmux, "password for dora: ", secret);
        await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
        const said = await bob.readUntil((f) => f.type === "public");
        assert.deepEqual([said.from, said.text], ["dora", "sent once"]);
        await assertNeverShown(tmux, secret);
      });
    } finally {
      bob.close();
    }
  },
});
