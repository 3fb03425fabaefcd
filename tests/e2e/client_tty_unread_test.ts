/**
 * Unread counts from the account's read markers, in the real client on a real terminal (tmux):
 * one account on two connections (the client, and a JSON "phone"). A message in another room is
 * unread in the status line; the phone reads it and the client's count goes to 0; a restarted
 * client takes its count from the markers (messages sent while no device was reading); switching
 * to the room, and reading there, moves the marker, which the phone is told about (a burst of
 * messages moves it once).
 */

import assert from "node:assert/strict";
import { clientShellCommand, hasTmux, Tmux } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const lastLine = (lines: string[]) => lines.at(-1) ?? "";
const statusLine = (l: string[]) => (l.at(-2) ?? "").trim();
const PASSWORD = "amy-password";

/** Says `text` in `room` and returns its message id. */
async function say(c: JsonClient, room: string, text: string): Promise<number> {
  const ok = await c.request({ type: "say", room, text });
  assert.equal(ok.type, "ok", JSON.stringify(ok));
  return ok.msgId as number;
}

/** Starts the client as amy (logged in from FASTIM_PASSWORD) and waits for its menu. */
async function startAmy(tmux: Tmux, port: number): Promise<void> {
  await tmux.start(clientShellCommand(["-port", String(port), "--name", "amy"]), {
    FASTIM_PASSWORD: PASSWORD,
  });
  await tmux.waitFor((l) => lastLine(l) === "choose>", "the menu prompt");
}

Deno.test({
  name: "client tty unread: counts follow the account's read markers across its connections",
  ignore: !hasTmux,
  async fn() {
    await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
    using phone = await JsonClient.connect(server.port, { name: "amy" });
    assert.equal((await phone.request({ type: "register", password: PASSWORD })).type, "ok");
    await phone.request({ type: "join", room: "#dev" });
    using bob = await JsonClient.connect(server.port, { name: "bob" });
    await bob.request({ type: "join", room: "#dev" });

    {
      await using tmux = new Tmux();
      await startAmy(tmux, server.port);
      await tmux.waitFor((l) => statusLine(l) === "amy in #lobby · 2 online", "no unread yet");
      await say(bob, "#dev", "one");
      const two = await say(bob, "#dev", "two");
      await tmux.waitFor(
        (l) => statusLine(l) === "amy in #lobby · 2 online · unread #dev 2",
        "#dev's two unread messages",
      );
      // Read on the phone: the client is told, and its count goes to 0.
      const marked = await phone.request({ type: "mark", target: "#dev", msgId: two });
      assert.equal(marked.unread, 0);
      await tmux.waitFor(
        (l) => statusLine(l) === "amy in #lobby · 2 online",
        "the count cleared by the phone's reading",
      );
      await say(bob, "#dev", "three");
      await tmux.waitFor((l) => statusLine(l).endsWith("unread #dev 1"), "one unread again");
      await tmux.keys("C-c");
      await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
    }

    // While no device reads #dev, one more; a new client counts both from the marker.
    const four = await say(bob, "#dev", "four");
    await using tmux = new Tmux();
    await startAmy(tmux, server.port);
    await tmux.waitFor(
      (l) => statusLine(l) === "amy in #lobby · 2 online · unread #dev 2",
      "the count seeded from the account's marker",
    );

    // Switching to #dev reads it: the marker moves, and the phone is told.
    await tmux.keys("4", "Enter");
    await tmux.waitFor((l) => lastLine(l) === "room>", "the room prompt");
    await tmux.type("#dev");
    await tmux.keys("Enter");
    await tmux.waitFor((l) => lastLine(l) === "#dev>", "the room's prompt");
    const moved = await phone.readUntil((f) => f.type === "marker", 5000);
    assert.deepEqual(moved, { type: "marker", target: "#dev", msgId: four, unread: 0 });
    assert.equal(statusLine(await tmux.screen()), "amy in #dev · 2 online");

    // Lines shown in the current room are read: a burst moves the marker once, to its last.
    await say(bob, "#dev", "five");
    const six = await say(bob, "#dev", "six");
    await tmux.waitFor((l) => l.some((x) => x.endsWith("<bob> six")), "the burst on screen");
    const next = await phone.readUntil((f) => f.type === "marker", 5000);
    assert.deepEqual(next, { type: "marker", target: "#dev", msgId: six, unread: 0 });
    const markers = await phone.request({ type: "markers" });
    assert.deepEqual(markers.markers, [{ target: "#dev", msgId: six, unread: 0 }]);

    await tmux.keys("C-c");
    await tmux.waitFor((l) => l.includes("[exit 0]"), "the client to exit");
  },
});
