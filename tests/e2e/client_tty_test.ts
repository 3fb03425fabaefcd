/**
 * The client in a real pseudo-terminal: tmux runs it in a 100x30 window, `send-keys` types, and
 * `capture-pane` reads the screen. Checks that incoming messages are printed above the input
 * line without breaking what is being typed.
 */

import assert from "node:assert/strict";
import { clientShellCommand, hasTmux, Tmux } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const lastLine = (lines: string[]) => lines.at(-1) ?? "";

Deno.test({
  name: "client tty: the input line stays intact while messages arrive",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    await using tmux = new Tmux();
    try {
      await tmux.start(clientShellCommand(["-port", String(server.port), "--name", "alice"]));
      await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
      await tmux.keys("1", "Enter");
      await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");

      await tmux.type("typing in progress");
      await tmux.waitFor((l) => lastLine(l) === "public> typing in progress", "the typed text");
      for (let i = 1; i <= 5; i++) await bob.send({ type: "say", text: `message ${i}` });
      await bob.send({ type: "msg", to: "alice", text: "private one" });
      const screen = await tmux.waitFor(
        (l) => l.some((x) => x.includes("[bob -> you] private one")),
        "the incoming messages",
      );

      assert.equal(lastLine(screen), "public> typing in progress");
      for (let i = 1; i <= 5; i++) {
        assert.ok(screen.some((l) => /^\d\d:\d\d <bob> message \d$/.test(l) && l.endsWith(`${i}`)));
      }
      assert.equal(screen.filter((l) => l.includes("typing")).length, 1, screen.join("\n"));
      assert.deepEqual(await tmux.cursor(), {
        x: "public> typing in progress".length,
        y: screen.length - 1,
      });

      // The half-typed line is still the one being edited.
      await tmux.type(" done");
      await tmux.keys("Enter");
      const said = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
      assert.equal(said.text, "typing in progress done");
      await tmux.waitFor((l) => lastLine(l) === "public>", "a fresh prompt");

      // Ctrl-D on an empty line leaves cleanly.
      await tmux.keys("C-d");
      await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
      const gone = await bob.readUntil((f) => f.type === "presence" && f.event === "offline");
      assert.equal(gone.name, "alice");
    } finally {
      bob.close();
    }
  },
});

Deno.test({
  name: "client tty: editing keys, a long line on one row, Ctrl-C leaves cleanly",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    await using tmux = new Tmux();
    try {
      await tmux.start(clientShellCommand(["-port", String(server.port), "--name", "alice"]));
      await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
      await tmux.keys("1", "Enter");
      await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");

      // Left, Backspace and insertion in the middle; Home and End.
      await tmux.type("helo world");
      await tmux.keys("Left", "Left", "Left", "Left", "Left", "Left", "Left");
      await tmux.type("l");
      await tmux.keys("Home");
      await tmux.type(">");
      await tmux.keys("End", "BSpace");
      await tmux.type("d!");
      await tmux.keys("Enter");
      const edited = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
      assert.equal(edited.text, ">hello world!");

      // A line wider than the window scrolls sideways instead of wrapping.
      const long = Array.from({ length: 18 }, (_, i) => `word${String(i).padStart(2, "0")}xx`)
        .join(" ");
      assert.ok(long.length > 140);
      await tmux.type(long);
      await bob.send({ type: "say", text: "interruption" });
      const screen = await tmux.waitFor(
        (l) => l.some((x) => x.endsWith("<bob> interruption")) && lastLine(l).endsWith("word17xx"),
        "the long line and the interruption",
      );
      assert.ok(lastLine(screen).length < 100, lastLine(screen));
      assert.ok(lastLine(screen).startsWith("public> "), "the prompt stays visible");
      await tmux.keys("Enter");
      const sent = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
      assert.equal(sent.text, long);

      // Type-ahead then Ctrl-C: leaves at once and cleanly (the server announces it).
      await tmux.type("never sent");
      await tmux.keys("C-c");
      const after = await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
      assert.ok(after.some((l) => l.includes("disconnected; bye")));
      const gone = await bob.readUntil((f) => f.type === "presence" && f.event === "offline");
      assert.equal(gone.name, "alice");
    } finally {
      bob.close();
    }
  },
});

Deno.test({
  name:
    "client tty: a resize redraws the input row: no stale copy when narrower, unscrolled when wider",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    await using tmux = new Tmux();
    try {
      await tmux.start(clientShellCommand(["-port", String(server.port), "--name", "alice"]));
      await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
      await tmux.keys("1", "Enter");
      await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");
      const text = Array.from({ length: 9 }, (_, i) => `w${i}xxxxx`).join(" "); // 71 columns
      await tmux.type(text);
      await tmux.waitFor((l) => lastLine(l) === `public> ${text}`, "the typed line");

      await tmux.resize(50);
      const narrow = await tmux.waitFor(
        (l) => lastLine(l).startsWith("public> ") && lastLine(l).length <= 50,
        "the line redrawn for 50 columns",
      );
      assert.ok(lastLine(narrow).endsWith("w8xxxxx"), lastLine(narrow));
      const input = narrow.filter((l) => /public>|xxxxx/.test(l));
      assert.deepEqual(input, [lastLine(narrow)], `one input row:\n${narrow.join("\n")}`);

      await tmux.resize(100);
      const wide = await tmux.waitFor(
        (l) => lastLine(l) === `public> ${text}`,
        "the whole line again",
      );
      assert.equal(wide.filter((l) => /public>|xxxxx/.test(l)).length, 1, wide.join("\n"));

      // Still the line being edited, and a message still prints above it.
      await bob.send({ type: "say", text: "after the resize" });
      await tmux.waitFor((l) => l.some((x) => x.endsWith("<bob> after the resize")), "a message");
      await tmux.type("!");
      await tmux.keys("Enter");
      const said = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
      assert.equal(said.text, `${text}!`);
      await tmux.keys("C-c");
      await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
    } finally {
      bob.close();
    }
  },
});

Deno.test({
  name: "client tty: a status line above the input shows the room and how many are online",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    await using tmux = new Tmux();
    const status = (n: number) => `alice in #lobby · ${n} online`;
    const above = (l: string[]) => (l.at(-2) ?? "").trim();
    await tmux.start(clientShellCommand(["-port", String(server.port), "--name", "alice"]));
    await tmux.waitFor((l) => lastLine(l) === "choose>" && above(l) === status(1), "1 online");
    const bob = await JsonClient.connect(server.port, { name: "bob" });
    try {
      await tmux.waitFor((l) => above(l) === status(2), "2 online after bob came");
      await tmux.keys("1", "Enter");
      await tmux.type("half typed");
      await bob.send({ type: "say", text: "hello" });
      const screen = await tmux.waitFor(
        (l) => l.some((x) => x.endsWith("<bob> hello")) && lastLine(l) === "public> half typed",
        "a message above the status line",
      );
      assert.equal(above(screen), status(2));
      assert.equal(screen.filter((l) => l.includes("#lobby")).length, 1, screen.join("\n"));
    } finally {
      bob.close();
    }
    const after = await tmux.waitFor((l) => above(l) === status(1), "1 online after bob left");
    assert.equal(after.filter((l) => l.includes("#lobby")).length, 1, after.join("\n"));
    await tmux.keys("C-c");
    const gone = await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
    assert.ok(!gone.some((l) => l.includes("#lobby")), "the status line goes when the client does");
  },
});

Deno.test({
  name: "client tty: names in colour on a terminal, none with NO_COLOR",
  ignore: !hasTmux,
  async fn(t) {
    await using server = await startServer();
    for (const noColor of [false, true]) {
      await t.step(noColor ? "NO_COLOR=1" : "colour", async () => {
        const bob = await JsonClient.connect(server.port, { name: "bob" });
        await using tmux = new Tmux();
        try {
          await tmux.start(
            clientShellCommand(["-port", String(server.port), "--name", "alice"]),
            noColor ? { NO_COLOR: "1" } : {},
          );
          await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
          await tmux.keys("1", "Enter");
          await tmux.waitFor((l) => lastLine(l) === "public>", "the public chat prompt");
          await bob.send({ type: "say", text: "colourful?" });
          await tmux.waitFor((l) => l.some((x) => x.endsWith("<bob> colourful?")), "the message");
          const line = (await tmux.screen(true)).find((l) => l.includes("colourful?"))!;
          // deno-lint-ignore no-control-regex -- looking for the SGR that colours "bob"
          const coloured = /\x1b\[[0-9;]*m\s*bob/.test(line);
          assert.equal(coloured, !noColor, JSON.stringify(line));
          await tmux.keys("C-c");
          await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
        } finally {
          bob.close();
        }
      });
    }
  },
});

Deno.test({
  name: "client tty: stdout on a terminal, stderr redirected: no colour codes in the stderr file",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    await using tmux = new Tmux();
    const errFile = await Deno.makeTempFile({ suffix: ".err" });
    try {
      const client = clientShellCommand(["-port", String(server.port), "--name", "painter"]);
      await tmux.start(`printf 'hello\\n/nosuchcommand\\n' | ${client} 2>'${errFile}'`);
      await tmux.waitFor((l) => l.some((x) => x.startsWith("[exit ")), "the client to exit");
      const err = await Deno.readTextFile(errFile);
      assert.match(err, /unknown command \/nosuchcommand/);
      assert.ok(!err.includes("\x1b"), JSON.stringify(err));
      // stdout (the terminal) still gets colour.
      const painted = (await tmux.screen(true)).join("\n");
      assert.ok(painted.includes("\x1b["), "colour on the terminal");
    } finally {
      await Deno.remove(errFile).catch(() => {});
    }
  },
});
