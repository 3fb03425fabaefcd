/**
 * The IRC listener over real sockets: registration and its numerics, PING/PONG both ways, the
 * lobby and rooms as channels, messages, NAMES/WHO/WHOIS, NICK and QUIT, the error numerics, and
 * mixed sessions of an IRC, a text and a JSON user in one room and in private messages.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { makeTestCerts } from "../helpers/certs.ts";
import { fuzzBytes, fuzzLine, Rng } from "../fuzz/fuzz.ts";
import { IrcClient } from "../helpers/irc.ts";
import { connectText, JsonClient, type LineClient } from "../helpers/lines.ts";
import { ircPort, runServerToExit, startServer } from "../helpers/server.ts";

/** A text client that renamed itself to `name`. */
async function textUser(port: number, name: string): Promise<LineClient> {
  const c = await connectText(port);
  await c.send(`rename|${name}`);
  await c.readUntil((l) => l === `You renamed to ${name}`);
  return c;
}

const QUIET = ["--msg-rate", "0", "--who-rate", "0", "--rename-rate", "0"];

Deno.test("irc: registration, welcome numerics, ISUPPORT, MOTD, the lobby, PING", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using c = await IrcClient.connect(port);
  await c.send("PING early");
  await c.expect(/^:fastim PONG fastim :early$/);
  await c.send("JOIN #dev");
  await c.expect(/^:fastim 451 \* :You have not registered$/);
  await c.send("NICK alice");
  await c.send("USER alice 0 * :Alice A");
  await c.expect(/^:fastim 001 alice :Welcome to FastIM, alice$/);
  await c.expect(/^:fastim 002 alice /);
  await c.expect(/^:fastim 003 alice /);
  await c.expect(/^:fastim 004 alice fastim /);
  const isupport = await c.expect(/^:fastim 005 alice /);
  for (
    const token of [
      "CHANTYPES=#",
      "CASEMAPPING=ascii",
      "NICKLEN=32",
      "CHANNELLEN=33",
      "PREFIX=(o)@",
      "CHANMODES=,,,it",
      "NETWORK=FastIM",
      "LINELEN=8192",
    ]
  ) ok(isupport.includes(` ${token} `), `${token} in ${isupport}`);
  await c.expect(/^:fastim 375 alice /);
  await c.expect(/^:fastim 372 alice /);
  await c.expect(/^:fastim 376 alice /);
  await c.expect(/^:alice!fastim@127\.0\.0\.1 JOIN #lobby$/);
  await c.expect(/^:fastim 353 alice = #lobby :alice$/);
  await c.expect(/^:fastim 366 alice #lobby :End of \/NAMES list$/);
  await c.send("PING :are you there");
  await c.expect(/^:fastim PONG fastim :are you there$/);
  await c.send("FROBNICATE x");
  await c.expect(/^:fastim 421 alice FROBNICATE :Unknown command$/);
  await c.send("USER again 0 * :x");
  await c.expect(/^:fastim 462 alice /);
  await c.send("QUIT :bye");
  await c.expect(/^ERROR :Closing link/);
});

Deno.test("irc: the server PINGs a quiet client, and one that answers stays", async () => {
  await using server = await startServer([...QUIET, "--idle-timeout", "2s"]);
  using c = await IrcClient.register(await ircPort(server), "sleepy");
  await c.expect(/^PING :?fastim$/, 3000);
  await c.send("PONG :fastim");
  await c.expect(/^PING :?fastim$/, 3000);
  await c.send("PONG :fastim");
  // Past the 2 s idle timeout since registration, still connected.
  await c.send("PING :still");
  await c.expect(/PONG fastim :still/);
});

Deno.test("irc: nick errors 431 432 433, and a registered name needs a password", async () => {
  await using server = await startServer([...QUIET, "--db", ":memory:"]);
  const port = await ircPort(server);
  using bob = await textUser(server.port, "bob");
  using c = await IrcClient.connect(port);
  await c.send("USER x 0 * :x");
  await c.send("NICK");
  await c.expect(/^:fastim 431 \* /);
  await c.send("NICK #bad");
  await c.expect(/^:fastim 432 \* #bad :/);
  await c.send("NICK jo.ann");
  await c.expect(/^:fastim 432 \* jo\.ann :.*"\|"/);
  await c.send("NICK BOB");
  await c.expect(/^:fastim 433 \* BOB :/);
  await c.send("NICK zed");
  await c.welcomed("zed");
  // A registered name: taken by a registered account, offline.
  await bob.send("register|secret-pw-1");
  await bob.readUntil((l) => /registered/i.test(l));
  bob.close();
  using d = await IrcClient.connect(port);
  await d.send("NICK bob");
  await d.send("USER x 0 * :x");
  await d.expect(/^:fastim 433 \* bob :.*SASL or PASS/);
  // With PASS it is a login.
  using e = await IrcClient.register(port, "bob", ["PASS secret-pw-1"]);
  strictEqual(e.nick, "bob");
  using f = await IrcClient.connect(port);
  await f.send("PASS wrong-password");
  await f.send("NICK bob");
  await f.send("USER x 0 * :x");
  await f.expect(/^:fastim 464 \* :Password incorrect/);
  await f.expect(/^ERROR :/);
});

Deno.test("irc: mixed session: IRC, text and JSON users in the lobby, a room and privately", async (t) => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using irc = await IrcClient.register(port, "ivy");
  using text = await textUser(server.port, "jo.ann");
  using json = await JsonClient.connect(server.port, { name: "dave" });
  await irc.expect(/^:127\|0\|0\|1\^\d+!fastim@127\.0\.0\.1 NICK jo\|ann$/);
  await irc.expect(/^:[^ ]+ JOIN #lobby$/);
  await irc.expect(/NICK dave$/);

  await t.step("lobby: IRC says, text and JSON hear; they say, IRC hears", async () => {
    await irc.send("PRIVMSG #lobby :hello from irc");
    await text.readUntil((l) => l.endsWith("ivy:hello from irc"));
    await json.readUntil((f) =>
      f.type === "public" && f.text === "hello from irc" && f.from === "ivy"
    );
    await text.send("hello from text");
    await irc.expect(/^:jo\|ann!fastim@127\.0\.0\.1 PRIVMSG #lobby :hello from text$/);
    await json.send({ type: "say", text: "hello from json" });
    await irc.expect(/^:dave!fastim@127\.0\.0\.1 PRIVMSG #lobby :hello from json$/);
  });

  await t.step("a room: all three join #mix and talk", async () => {
    await irc.send("JOIN #mix");
    await irc.expect(/^:ivy!fastim@127\.0\.0\.1 JOIN #mix$/);
    await irc.expect(/^:fastim 353 ivy = #mix :@ivy$/);
    await irc.expect(/^:fastim 366 ivy #mix /);
    await text.send("join|#mix");
    await irc.expect(/^:jo\|ann!fastim@127\.0\.0\.1 JOIN #mix$/);
    await json.request({ type: "join", room: "#mix" });
    await irc.expect(/^:dave!fastim@127\.0\.0\.1 JOIN #mix$/);
    await irc.send("NAMES #mix");
    await irc.expect(/^:fastim 353 ivy = #mix :@ivy jo\|ann dave$/);
    await irc.send("PRIVMSG #mix :room hello");
    await text.readUntil((l) =>
      l === `[#mix] [${"127.0.0.1"}:${l.split(":")[1]?.split("]")[0]}], ivy:room hello` ||
      l.endsWith("ivy:room hello")
    );
    await json.readUntil((f) =>
      f.type === "public" && f.room === "#mix" && f.text === "room hello"
    );
    await text.send("to|#mix|from text in room");
    await irc.expect(/^:jo\|ann!fastim@127\.0\.0\.1 PRIVMSG #mix :from text in room$/);
    await json.send({ type: "say", room: "#mix", text: "from json in room" });
    await irc.expect(/^:dave!\S+ PRIVMSG #mix :from json in room$/);
  });

  await t.step("private: IRC to text (a dotted name) and JSON, and back", async () => {
    await irc.send("PRIVMSG jo|ann :psst jo");
    await text.readUntil((l) => l === "ivy sent you a message: psst jo");
    await irc.send("PRIVMSG dave :psst dave");
    await json.readUntil((f) => f.type === "private" && f.text === "psst dave" && f.from === "ivy");
    await text.send("to|ivy|hi ivy from text");
    await irc.expect(/^:jo\|ann!fastim@127\.0\.0\.1 PRIVMSG ivy :hi ivy from text$/);
    await json.send({ type: "msg", to: "ivy", text: "hi ivy from json" });
    await irc.expect(/^:dave!\S+ PRIVMSG ivy :hi ivy from json$/);
  });

  await t.step("WHO and WHOIS see every transport's users", async () => {
    await irc.send("WHO #mix");
    await irc.expect(/^:fastim 352 ivy #mix fastim 127\.0\.0\.1 fastim ivy H@ :0 ivy$/);
    await irc.expect(/^:fastim 352 ivy #mix fastim 127\.0\.0\.1 fastim jo\|ann H :0 jo\.ann$/);
    await irc.expect(/^:fastim 315 ivy #mix /);
    await irc.send("WHOIS jo|ann");
    await irc.expect(/^:fastim 311 ivy jo\|ann fastim 127\.0\.0\.1 \* :jo\.ann$/);
    await irc.expect(/^:fastim 318 ivy jo\|ann /);
    await irc.send("WHO dave");
    await irc.expect(/^:fastim 352 ivy \* fastim 127\.0\.0\.1 fastim dave H /);
    await irc.expect(/^:fastim 315 ivy dave /);
  });

  await t.step("NICK renames for everyone; QUIT is seen going offline", async () => {
    await irc.send("NICK iv.y");
    await irc.expect(/^:fastim 432 ivy iv\.y /);
    await irc.send("NICK iv|y");
    await irc.expect(/^:ivy!fastim@127\.0\.0\.1 NICK iv\|y$/);
    await text.readUntil((l) => l.endsWith("ivy:renamed to iv.y"));
    await json.readUntil((f) =>
      f.type === "presence" && f.event === "renamed" && f.name === "iv.y"
    );
    await irc.send("QUIT :bye");
    await irc.expect(/^ERROR /);
    await text.readUntil((l) => l.endsWith("iv.y:offline"));
  });
});

Deno.test("irc: error numerics 401 403 404 442 482 461 411 412", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using a = await IrcClient.register(port, "amy");
  using b = await IrcClient.register(port, "ben");
  await a.send("PRIVMSG nobody :hi");
  await a.expect(/^:fastim 401 amy nobody :/);
  await a.send("PART #nowhere");
  await a.expect(/^:fastim 403 amy #nowhere :/);
  await a.send("JOIN #amys");
  await a.expect(/^:fastim 366 amy #amys /);
  await b.send("PART #amys");
  await b.expect(/^:fastim 442 ben #amys :/);
  await b.send("PRIVMSG #amys :let me in");
  await b.expect(/^:fastim 404 ben #amys :/);
  await b.send("JOIN #amys");
  await b.expect(/^:fastim 366 ben #amys /);
  await b.send("TOPIC #amys :mine now");
  await b.expect(/^:fastim 482 ben #amys :/);
  await b.send("KICK #amys amy");
  await b.expect(/^:fastim 482 ben #amys :/);
  await b.send("KICK #lobby amy");
  await b.expect(/^:fastim 482 ben #lobby :/);
  await b.send("PART #lobby");
  await b.expect(/^:fastim 482 ben #lobby :/);
  await b.send("JOIN");
  await b.expect(/^:fastim 461 ben JOIN :/);
  await b.send("PRIVMSG");
  await b.expect(/^:fastim 411 ben :/);
  await b.send("PRIVMSG amy");
  await b.expect(/^:fastim 412 ben :/);
  await b.send("NOTICE nobody :silent");
  await b.send("PING :after notice");
  // A NOTICE never gets an automatic reply: the next line is the PONG.
  await b.expect(/^:fastim (PONG|401)/).then((l) => ok(l.includes("PONG"), l));
});

Deno.test("irc: a line over LINELEN gets 417 and the connection closes; others unharmed", async () => {
  await using server = await startServer([...QUIET, "--max-line", "600"]);
  const port = await ircPort(server);
  using a = await IrcClient.register(port, "amy");
  using b = await IrcClient.register(port, "ben");
  await a.send(`PRIVMSG #lobby :${"x".repeat(700)}`);
  await a.expect(/^:fastim 417 amy :Input line was too long \(LINELEN=600\)$/);
  await a.expect(/^ERROR :line too long/);
  strictEqual((await a.readToEnd()).length >= 0, true);
  await b.expect(/^:amy!\S+ QUIT /);
  await b.send("PING :ok");
  await b.expect(/PONG fastim :ok/);
});

Deno.test("irc: over the message rate lines are held back (fakelag), in order, none lost", async () => {
  await using server = await startServer(["--msg-rate", "4", "--msg-burst", "2"]);
  const port = await ircPort(server);
  using a = await IrcClient.register(port, "amy");
  using b = await IrcClient.register(port, "ben");
  await a.send(Array.from({ length: 8 }, (_, i) => `PRIVMSG #lobby :paced ${i}`).join("\r\n"));
  for (let i = 0; i < 8; i++) await b.expect(new RegExp(`^:amy!\\S+ PRIVMSG #lobby :paced ${i}$`));
  await a.send("PING :after");
  await a.expect(/PONG fastim :after/);
  strictEqual(a.lines.received.some((l) => /NOTICE amy :slow down/.test(l)), false);
});

Deno.test("irc: a flood past --flood-backlog is closed with ERROR :Excess Flood", async () => {
  await using server = await startServer([
    "--msg-rate",
    "1",
    "--msg-burst",
    "1",
    "--flood-backlog",
    "5",
  ]);
  using a = await IrcClient.register(await ircPort(server), "amy");
  await a.send(Array.from({ length: 40 }, (_, i) => `PRIVMSG #lobby :spam ${i}`).join("\r\n"));
  await a.expect(/^ERROR :Excess Flood: more than 5 lines waiting/);
});

Deno.test("irc: with --flood-backlog 0 lines over the rate are refused, then the flood closed", async () => {
  await using server = await startServer([
    "--msg-rate",
    "1",
    "--msg-burst",
    "3",
    "--flood-strikes",
    "3",
    "--flood-backlog",
    "0",
  ]);
  using a = await IrcClient.register(await ircPort(server), "amy");
  for (let i = 0; i < 10; i++) await a.send(`PRIVMSG #lobby :spam ${i}`);
  await a.expect(/^:fastim NOTICE amy :slow down: at most 1 messages per second/);
  await a.expect(/^ERROR :Excess Flood/);
});

Deno.test("irc: IRC over TLS on --ircs-port, beside plain IRC", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer([
    ...QUIET,
    "--tls-cert",
    certs.certFile,
    "--tls-key",
    certs.keyFile,
    "--tls-port",
    "0",
  ]);
  const port = await ircPort(server, "IRCS");
  using plain = await IrcClient.register(await ircPort(server), "plain");
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [certs.caPem] });
  try {
    await conn.write(new TextEncoder().encode("NICK secure\r\nUSER s 0 * :s\r\n"));
    let seen = "";
    const buf = new Uint8Array(4096);
    while (!/ 366 secure #lobby /.test(seen)) {
      const n = await conn.read(buf);
      if (n === null) throw new Error(`closed: ${seen}`);
      seen += new TextDecoder().decode(buf.subarray(0, n));
    }
    ok(seen.includes(":fastim 001 secure :Welcome"), seen);
    await conn.write(new TextEncoder().encode("PRIVMSG plain :over tls\r\n"));
    await plain.expect(/^:secure!\S+ PRIVMSG plain :over tls$/);
  } finally {
    conn.close();
  }
});

Deno.test("irc: flags: --no-irc, --ircs-port needs TLS, ports must differ, environment", async () => {
  await using off = await startServer(["--no-irc"]);
  ok(!/listening \(IRC\)/.test(off.stderr()), off.stderr());
  const noTls = await runServerToExit(["--ircs-port", "6697"]);
  strictEqual(noTls.code, 2);
  match(noTls.stderr, /--ircs-port needs --tls-cert FILE and --tls-key FILE/);
  const clash = await runServerToExit(["--port", "9000", "--irc-port", "9000"]);
  match(clash.stderr, /--irc-port 9000 is --port too/);
  const both = await runServerToExit(["--no-irc", "--irc-port", "7000"]);
  match(both.stderr, /--irc-port cannot go with --no-irc/);
  const env = await runServerToExit(["--print-config"], 10_000, undefined, {
    FASTIM_IRC_PORT: "7001",
  });
  match(env.stdout, /"irc-port": 7001, +\/\/ FASTIM_IRC_PORT/);
});

Deno.test("irc: hostile input (random lines, bytes, huge tags) is answered or closed, never a crash", async () => {
  await using server = await startServer(QUIET);
  const port = await ircPort(server);
  using witness = await IrcClient.register(port, "witness");
  const rng = new Rng(0x1bc);
  for (let c = 0; c < 20; c++) {
    using hostile = await IrcClient.connect(port);
    const lines = Array.from({ length: 30 }, () => fuzzLine(rng).replace(/[\r\n]/g, " "));
    if (c % 4 === 0) lines.unshift("NICK h" + c, "USER h 0 * :h");
    if (c % 5 === 0) lines.push(`@${"a=b;".repeat(2000)} PING x`);
    try {
      await hostile.send(lines.join("\r\n"));
      if (c % 3 === 0) await hostile.lines.writeRaw(fuzzBytes(rng));
      await hostile.quietFor(50);
    } catch { /* the server may close a hostile connection: that is allowed */ }
  }
  // The server still serves: the witness talks and a newcomer registers.
  await witness.send("PING :alive");
  await witness.expect(/PONG fastim :alive/);
  using after = await IrcClient.register(port, "after");
  await after.send("PRIVMSG witness :still here");
  await witness.expect(/^:after!\S+ PRIVMSG witness :still here$/);
  // No connection ended in an internal error.
  ok(!/E_CONN/.test(server.stderr()), server.stderr());
});
