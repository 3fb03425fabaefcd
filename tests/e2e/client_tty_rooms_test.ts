/**
 * Rooms in the client on a real terminal (tmux): menu item `4. rooms` lists the rooms and joins
 * one; the prompt and the status line name the current room; a line from another room is shown
 * with its room and counted as unread in the status line until the client switches to it.
 */

import assert from "node:assert/strict";
import { clientShellCommand, hasTmux, Tmux } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const lastLine = (lines: string[]) => lines.at(-1) ?? "";
const above = (l: string[]) => (l.at(-2) ?? "").trim();

Deno.test({
  name: "client tty rooms: menu 4 joins a room; prompt, status line and unread counts follow",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer();
    using bob = await JsonClient.connect(server.port, { name: "bob" });
    await bob.request({ type: "join", room: "#dev" });
    await bob.request({ type: "topic", room: "#dev", text: "ship it" });
    await using tmux = new Tmux();
    await tmux.start(clientShellCommand(["-port", String(server.port), "--name", "alice"]));
    const menu = await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
    assert.ok(menu.includes("4. rooms"), menu.join("\n"));

    await tmux.keys("4", "Enter");
    const list = await tmux.waitFor((l) => lastLine(l) === "room>", "the room prompt");
    assert.ok(list.includes("* #lobby (2 online)"), list.join("\n"));
    assert.ok(list.includes("  #dev (1 member): ship it"), list.join("\n"));

    await tmux.type("#dev");
    await tmux.keys("Enter");
    const inDev = await tmux.waitFor((l) => lastLine(l) === "#dev>", "the room's prompt");
    assert.equal(above(inDev), "alice in #dev · 2 online");
    assert.ok(inDev.some((l) => l.startsWith("you are in #dev now (2 members)")), inDev.join("\n"));
    assert.ok(inDev.includes("topic of #dev: ship it"), inDev.join("\n"));

    await bob.send({ type: "say", text: "lobby line" });
    await bob.send({ type: "say", text: "lobby again" });
    const unread = await tmux.waitFor(
      (l) => above(l) === "alice in #dev · 2 online · unread #lobby 2",
      "the lobby's unread count",
    );
    assert.ok(unread.some((l) => / \[#lobby\] <bob> lobby line$/.test(l)), unread.join("\n"));
    await bob.send({ type: "say", room: "#dev", text: "dev line" });
    await tmux.waitFor((l) => l.some((x) => / <bob> dev line$/.test(x)), "the room's line");

    await tmux.type("hi dev");
    await tmux.keys("Enter");
    const got = await bob.readUntil((f) => f.type === "public" && f.from === "alice");
    assert.deepEqual([got.room, got.text], ["#dev", "hi dev"]);

    await tmux.type("/join #lobby");
    await tmux.keys("Enter");
    const back = await tmux.waitFor((l) => lastLine(l) === "public>", "the lobby's prompt");
    assert.equal(above(back), "alice in #lobby · 2 online", "switching read the lobby's lines");

    await tmux.keys("C-c");
    await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
  },
});
