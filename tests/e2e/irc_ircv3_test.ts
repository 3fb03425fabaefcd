/**
 * IRCv3 over real sockets: CAP LS 302/REQ/LIST/END holding registration, SASL PLAIN with a FastIM
 * account, server-time, message-tags with msgid, echo-message.
 */
import { ok, strictEqual } from "node:assert/strict";
import { IrcClient } from "../helpers/irc.ts";
import { connectText } from "../helpers/lines.ts";
import { ircPort, startServer } from "../helpers/server.ts";

const QUIET = ["--msg-rate", "0", "--who-rate", "0", "--rename-rate", "0"];

Deno.test("ircv3: CAP negotiation holds registration until CAP END", async () => {
  await using server = await startServer(QUIET);
  using c = await IrcClient.connect(await ircPort(server));
  await c.send("CAP LS 302");
  await c.expect(/^:fastim CAP \* LS :batch echo-message message-tags sasl=PLAIN server-time$/);
  await c.send("NICK capper");
  await c.send("USER capper 0 * :c");
  await c.send("CAP REQ :server-time bogus-cap");
  await c.expect(/^:fastim CAP \* NAK :server-time bogus-cap$/);
  await c.send("CAP REQ :server-time message-tags echo-message");
  await c.expect(/^:fastim CAP \* ACK :server-time message-tags echo-message$/);
  strictEqual(await c.quietFor(200), null, "no welcome before CAP END");
  await c.send("CAP LIST");
  await c.expect(/^:fastim CAP \* LIST :server-time message-tags echo-message$/);
  await c.send("CAP END");
  await c.welcomed("capper");
  await c.send("CAP FOO");
  await c.expect(/^:fastim 410 capper FOO :/);
});

Deno.test("ircv3: server-time, msgid and echo-message on channels and private messages", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using tagged = await IrcClient.register(port, "tagged", [
    "CAP LS 302",
    "CAP REQ :server-time message-tags echo-message",
    "CAP END",
  ]);
  using plain = await IrcClient.register(port, "plain");
  await plain.send("PRIVMSG #lobby :hi all");
  const seen = await tagged.expect(/PRIVMSG #lobby :hi all$/);
  const m = /^@time=(\S+);msgid=(\d+) :plain!\S+ PRIVMSG #lobby :hi all$/.exec(seen);
  ok(m, seen);
  ok(Math.abs(Date.parse(m[1]) - Date.now()) < 60_000, `a time near now: ${m[1]}`);
  // The sender without echo-message does not get its own message back.
  await plain.send("PING :sync");
  await plain.expect(/PONG fastim :sync/).then((l) => ok(!l.includes("PRIVMSG"), l));
  strictEqual(plain.lines.received.some((l) => l.includes("PRIVMSG #lobby :hi all")), false);
  // With echo-message, one's own channel and private messages come back with their ids.
  await tagged.send("PRIVMSG #lobby :echo me");
  await tagged.expect(/^@time=\S+;msgid=\d+ :tagged!\S+ PRIVMSG #lobby :echo me$/);
  await tagged.send("PRIVMSG plain :private echo");
  await tagged.expect(/^@time=\S+;msgid=\d+ :tagged!\S+ PRIVMSG plain :private echo$/);
  await plain.expect(/^:tagged!\S+ PRIVMSG plain :private echo$/);
});

Deno.test("ircv3: SASL PLAIN logs in to a FastIM account; a wrong password is 904", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using owner = await connectText(server.port);
  await owner.send("rename|jo.ann");
  await owner.readUntil((l) => l === "You renamed to jo.ann");
  await owner.send("register|correct-horse");
  await owner.readUntil((l) => /registered/.test(l));
  owner.close();

  using bad = await IrcClient.connect(port);
  await bad.send("CAP REQ :sasl");
  await bad.expect(/ACK :sasl/);
  await bad.send("AUTHENTICATE PLAIN");
  await bad.expect(/^AUTHENTICATE \+$/);
  await bad.send(`AUTHENTICATE ${btoa("\0jo.ann\0wrong-password")}`);
  await bad.expect(/^:fastim 904 \* :SASL authentication failed/);
  await bad.send("AUTHENTICATE SCRAM-SHA-256");
  await bad.expect(/^:fastim 908 \* PLAIN :/);

  using good = await IrcClient.connect(port);
  await good.send("CAP LS 302");
  await good.send("NICK whoever");
  await good.send("USER x 0 * :x");
  await good.send("CAP REQ :sasl");
  await good.send("AUTHENTICATE PLAIN");
  await good.expect(/^AUTHENTICATE \+$/);
  // The account is named as on FastIM ("jo.ann") or as its nick ("jo|ann").
  await good.send(`AUTHENTICATE ${btoa("\0jo|ann\0correct-horse")}`);
  await good.expect(/^:fastim 900 \* jo\|ann!fastim@127\.0\.0\.1 jo\|ann :You are now logged in/);
  await good.expect(/^:fastim 903 \* :SASL authentication successful$/);
  await good.send("CAP END");
  // Registered under the account's name, whatever NICK said.
  await good.welcomed("jo|ann");
  await good.send("AUTHENTICATE PLAIN");
  await good.expect(/^:fastim 907 jo\|ann :/);
});

Deno.test("irc: a registered user's offline private messages arrive after the welcome", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using owner = await connectText(server.port);
  await owner.send("rename|kim");
  await owner.readUntil((l) => l === "You renamed to kim");
  await owner.send("register|kims-password");
  await owner.readUntil((l) => /registered/.test(l));
  owner.close();
  using sender = await IrcClient.register(port, "sender");
  await sender.send("PRIVMSG kim :while you were out");
  await sender.expect(/^:fastim NOTICE sender :kim is offline/);
  using kim = await IrcClient.register(port, "kim", ["PASS kims-password"]);
  // It may come before the end of the lobby's names (which register() reads past) or after.
  await kim.send("PING :sync");
  await kim.expect(/PONG fastim :sync/);
  ok(
    kim.lines.received.includes(":sender!fastim@fastim PRIVMSG kim :while you were out"),
    kim.lines.received.join("\n"),
  );
});

Deno.test("ircv3: recent history is played back in a chathistory batch on welcome and JOIN", async () => {
  await using server = await startServer([...QUIET, "--history", "2"]);
  const port = await ircPort(server);
  using talker = await IrcClient.register(port, "talker");
  await talker.send("JOIN #hist");
  await talker.expect(/ 366 talker #hist /);
  for (const text of ["one", "two", "three"]) await talker.send(`PRIVMSG #lobby :${text}`);
  await talker.send("PRIVMSG #hist :in the room");
  await talker.send("PING :sync");
  await talker.expect(/PONG fastim :sync/);

  using late = await IrcClient.connect(port);
  await late.send("CAP REQ :batch server-time");
  await late.send("NICK late");
  await late.send("USER late 0 * :l");
  await late.send("CAP END");
  await late.welcomed("late");
  const open = await late.expect(/^:fastim BATCH \+\S+ chathistory :?#lobby$/);
  const id = open.split(" ")[2].slice(1);
  // The newest two (--history 2), oldest first, each in the batch with its time.
  await late.expect(new RegExp(`^@batch=${id};time=\\S+ :talker!\\S+ PRIVMSG #lobby :two$`));
  await late.expect(new RegExp(`^@batch=${id};time=\\S+ :talker!\\S+ PRIVMSG #lobby :three$`));
  await late.expect(new RegExp(`^:fastim BATCH -${id}$`));
  await late.send("JOIN #hist");
  await late.expect(/ 366 late #hist /);
  await late.expect(/^:fastim BATCH \+\S+ chathistory :?#hist$/);
  await late.expect(/^@batch=\S+;time=\S+ :talker!\S+ PRIVMSG #hist :in the room$/);
  await late.expect(/^:fastim BATCH -\S+$/);

  // Without server-time there is no playback: old lines would read as new.
  using plain = await IrcClient.register(port, "plain");
  await plain.send("PING :sync");
  await plain.expect(/PONG fastim :sync/);
  strictEqual(plain.lines.received.some((l) => l.includes("PRIVMSG #lobby :three")), false);
});

Deno.test("irc: REGISTER (draft/account-registration) makes the nick an account for every transport", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using c = await IrcClient.register(port, "newbie");
  await c.send("REGISTER other * long-enough-pw");
  await c.expect(/^:fastim FAIL REGISTER ACCOUNT_NAME_MUST_BE_NICK other :/);
  await c.send("REGISTER * * short");
  await c.expect(/^:fastim FAIL REGISTER WEAK_PASSWORD \* :/);
  await c.send("REGISTER newbie * long-enough-pw");
  await c.expect(/^:fastim REGISTER SUCCESS newbie :/);
  await c.expect(/^:fastim 900 newbie newbie!\S+ newbie :You are now logged in as newbie$/);
  c.close();
  // The name is now the account's: a text client must log in to take it.
  using t = await connectText(server.port);
  await t.send("rename|newbie");
  await t.readUntil((l) => /registered/.test(l));
  await t.send("login|newbie|long-enough-pw");
  await t.readUntil((l) => /logged in/i.test(l));
});
