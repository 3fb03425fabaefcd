/**
 * A real IRC client, Debian's irssi, driven in tmux against the real server: it connects, joins a
 * room, talks with a FastIM text user both ways, receives a private message, and is kicked.
 * `.ci/run` installs irssi; elsewhere the test is skipped when irssi is missing.
 */
import { connectText } from "../helpers/lines.ts";
import { Tmux } from "../helpers/client.ts";
import { ircPort, startServer } from "../helpers/server.ts";

const hasIrssi: boolean = Deno.env.get("CI") === "true" ||
  await new Deno.Command("irssi", { args: ["--version"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false);

const has = (what: string) => (lines: string[]) => lines.some((l) => l.includes(what));

Deno.test({
  name: "irssi: connects, joins, talks with a FastIM user, gets a private message, is kicked",
  ignore: !hasIrssi,
  async fn() {
    await using server = await startServer(["--msg-rate", "0", "--who-rate", "0"]);
    const port = await ircPort(server);
    // The FastIM user opens the room, so it is its operator.
    using tex = await connectText(server.port);
    await tex.send("rename|tex");
    await tex.readUntil((l) => l === "You renamed to tex");
    await tex.send("join|#dev");
    await tex.readUntil((l) => l.startsWith("[#dev]") && l.endsWith("tex:joined"));

    const home = await Deno.makeTempDir({ prefix: "fastim-irssi-" });
    try {
      // A private message opens no window of its own: it shows in the status window.
      await Deno.writeTextFile(
        `${home}/config`,
        `settings = { "fe-common/core" = { autocreate_query_level = "NONE"; }; };\n`,
      );
      await using tmux = new Tmux();
      await tmux.start(`irssi --home=${home} -n ivy -c 127.0.0.1 -p ${port}`, {
        TERM: "screen",
      });
      await tmux.waitFor(has("Welcome to FastIM, ivy"), "the welcome");
      await tex.readUntil((l) => l.endsWith("renamed to ivy"));

      await tmux.type("/join #dev");
      await tmux.keys("Enter");
      await tmux.waitFor(has("ivy [fastim@127.0.0.1] has joined #dev"), "the join");
      await tex.readUntil((l) => l.startsWith("[#dev]") && l.endsWith("ivy:joined"));

      await tmux.type("hello from irssi");
      await tmux.keys("Enter");
      await tex.readUntil((l) => l.startsWith("[#dev]") && l.endsWith("ivy:hello from irssi"));
      await tex.send("to|#dev|hi irssi, from FastIM");
      await tmux.waitFor(has("hi irssi, from FastIM"), "the FastIM user's line");

      await tex.send("to|ivy|a private word");
      // It lands in the status window (window 1; no query window, see the config above).
      await tmux.waitFor(has("Act: 1"), "activity in the status window");
      await tmux.type("/window 1");
      await tmux.keys("Enter");
      await tmux.waitFor(has("a private word"), "the private message");
      await tmux.type("/window goto #dev");
      await tmux.keys("Enter");
      await tmux.waitFor(has("hi irssi, from FastIM"), "back in #dev");

      await tex.send("kick|#dev|ivy|that will do");
      await tmux.waitFor(has("ivy was kicked from #dev by tex [that will do]"), "the kick");
      await tmux.type("/quit");
      await tmux.keys("Enter");
      await tex.readUntil((l) => l.endsWith("ivy:offline"));
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
