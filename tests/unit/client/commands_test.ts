import assert from "node:assert/strict";
import {
  type ChatActions,
  COMMANDS,
  findCommand,
  helpText,
  holdsPassword,
  parseChatLine,
  runCommand,
  splitFirst,
  suggestCommand,
} from "../../../lib/client/commands.ts";

/** Records what the commands asked for. */
class FakeChat implements ChatActions {
  calls: string[] = [];
  say(text: string) {
    this.calls.push(`say ${text}`);
    return Promise.resolve(true);
  }
  msg(to: string, text: string) {
    this.calls.push(`msg ${to} ${text}`);
    return Promise.resolve(true);
  }
  who() {
    this.calls.push("who");
    return Promise.resolve(true);
  }
  rename(name: string) {
    this.calls.push(`rename ${name}`);
    return Promise.resolve(true);
  }
  join(room: string) {
    this.calls.push(`join ${room}`);
    return Promise.resolve(true);
  }
  part(room?: string) {
    this.calls.push(`part ${room ?? "(current)"}`);
    return Promise.resolve(true);
  }
  listRooms() {
    this.calls.push("rooms");
    return Promise.resolve(true);
  }
  topic(text?: string) {
    this.calls.push(text === undefined ? "topic (show)" : `topic [${text}]`);
    return Promise.resolve(true);
  }
  invite(name: string) {
    this.calls.push(`invite ${name}`);
    return Promise.resolve(true);
  }
  kick(name: string, reason: string) {
    this.calls.push(`kick ${name} [${reason}]`);
    return Promise.resolve(true);
  }
  op(name: string) {
    this.calls.push(`op ${name}`);
    return Promise.resolve(true);
  }
  mode(inviteOnly: boolean) {
    this.calls.push(`mode ${inviteOnly ? "+i" : "-i"}`);
    return Promise.resolve(true);
  }
  close(room?: string) {
    this.calls.push(`close ${room ?? "(current)"}`);
    return Promise.resolve(true);
  }
  history(limit: number) {
    this.calls.push(`history ${limit}`);
    return Promise.resolve(true);
  }
  mentions() {
    this.calls.push("mentions");
    return Promise.resolve(true);
  }
  search(query?: string) {
    this.calls.push(`search ${query ?? "(older)"}`);
    return Promise.resolve(true);
  }
  register(password: string) {
    this.calls.push(`register ${password}`);
    return Promise.resolve(true);
  }
  login(name: string, password: string) {
    this.calls.push(`login ${name} ${password}`);
    return Promise.resolve(true);
  }
  passwd(old: string, next: string) {
    this.calls.push(`passwd ${old} ${next}`);
    return Promise.resolve(true);
  }
  /** Answers password prompts in turn; `null` is a cancel. Empty: not a terminal. */
  constructor(readonly answers?: (string | null)[]) {}
  get canAsk() {
    return this.answers !== undefined;
  }
  askSecret(prompt: string) {
    this.calls.push(`ask ${prompt}`);
    return Promise.resolve(this.answers?.shift() ?? null);
  }
  info(text: string) {
    this.calls.push(`info ${text}`);
  }
  error(text: string) {
    this.calls.push(`error ${text}`);
  }
}

async function run(
  line: string,
  answers?: (string | null)[],
): Promise<{ outcome: string; calls: string[] }> {
  const chat = new FakeChat(answers);
  const parsed = parseChatLine(line);
  assert.equal(parsed.kind, "command");
  if (parsed.kind !== "command") throw new Error("unreachable");
  const outcome = await runCommand(chat, parsed.name, parsed.args);
  return { outcome, calls: chat.calls };
}

Deno.test("client commands: chat lines are text, commands or empty", () => {
  assert.deepEqual(parseChatLine("hello"), { kind: "text", text: "hello" });
  assert.deepEqual(parseChatLine("  "), { kind: "empty" });
  assert.deepEqual(parseChatLine("/msg bob hi  there "), {
    kind: "command",
    name: "msg",
    args: "bob hi  there",
  });
  assert.deepEqual(parseChatLine("/WHO"), { kind: "command", name: "who", args: "" });
  assert.deepEqual(parseChatLine("//shrug"), { kind: "text", text: "/shrug" });
  assert.deepEqual(splitFirst("  a  b c "), { first: "a", rest: "b c" });
});

Deno.test("client commands: each command does its job", async (t) => {
  await t.step("/msg NAME TEXT keeps the text's spacing", async () => {
    assert.deepEqual(await run("/msg bob hi  there | pipes"), {
      outcome: "stay",
      calls: ["msg bob hi  there | pipes"],
    });
  });
  await t.step("/m is /msg", async () => {
    assert.deepEqual((await run("/m bob x")).calls, ["msg bob x"]);
  });
  await t.step("/msg without text is a usage error", async () => {
    const { calls } = await run("/msg bob");
    assert.deepEqual(calls, ["error usage: /msg NAME TEXT"]);
  });
  await t.step("/who", async () => assert.deepEqual((await run("/who")).calls, ["who"]));
  await t.step("/nick NAME", async () => {
    assert.deepEqual((await run("/nick carol")).calls, ["rename carol"]);
  });
  await t.step("/nick with a space is refused locally", async () => {
    assert.match((await run("/nick a b")).calls[0], /^error usage: \/nick NAME/);
  });
  await t.step("/menu and /quit change mode", async () => {
    assert.equal((await run("/menu")).outcome, "menu");
    assert.equal((await run("/quit")).outcome, "quit");
    assert.equal((await run("/q")).outcome, "quit");
  });
  await t.step("/help prints the generated help", async () => {
    assert.deepEqual((await run("/help")).calls, [`info ${helpText()}`]);
  });
});

Deno.test("client commands: the room commands parse their arguments", async (t) => {
  const cases: [string, string][] = [
    ["/join #dev", "join #dev"],
    ["/j dev", "join dev"],
    ["/join", "error usage: /join #ROOM (room names have no spaces)"],
    ["/join #a #b", "error usage: /join #ROOM (room names have no spaces)"],
    ["/part", "part (current)"],
    ["/part #ops", "part #ops"],
    ["/leave #ops", "part #ops"],
    ["/part #a #b", "error usage: /part [#ROOM]"],
    ["/rooms", "rooms"],
    ["/topic", "topic (show)"],
    ["/topic release on | friday ", "topic [release on | friday]"],
    ["/topic -", "topic []"],
    ["/invite carol", "invite carol"],
    ["/invite", "error usage: /invite NAME"],
    ["/invite a b", "error usage: /invite NAME"],
    ["/kick bob", "kick bob []"],
    ["/kick bob  too loud | sorry", "kick bob [too loud | sorry]"],
    ["/kick", "error usage: /kick NAME [REASON]"],
    ["/op bob", "op bob"],
    ["/op", "error usage: /op NAME"],
    ["/mode +i", "mode +i"],
    ["/mode -i", "mode -i"],
    ["/mode +x", "error usage: /mode +i (invite-only) or /mode -i (open to everyone)"],
    ["/close", "close (current)"],
    ["/close #dev", "close #dev"],
  ];
  for (const [line, call] of cases) {
    await t.step(line, async () => {
      assert.deepEqual(await run(line), { outcome: "stay", calls: [call] });
    });
  }
});

Deno.test("client commands: /help is generated from the table", () => {
  const help = helpText();
  for (const c of COMMANDS) {
    assert.ok(help.includes(`/${c.name}`), c.name);
    assert.ok(help.includes(c.help), c.help);
  }
  for (const name of ["msg", "who", "nick", "history", "register", "login", "passwd", "help"]) {
    assert.ok(findCommand(name), name);
  }
});

Deno.test("client commands: unknown commands get a hint", async () => {
  assert.equal(suggestCommand("hepl"), "help");
  assert.equal(suggestCommand("mgs"), "msg");
  assert.equal(suggestCommand("xyzzy"), undefined);
  const { outcome, calls } = await run("/hepl");
  assert.equal(outcome, "stay");
  assert.deepEqual(calls, [
    "error unknown command /hepl: did you mean /help? (type /help for the list)",
  ]);
  assert.deepEqual((await run("/xyzzy")).calls, [
    "error unknown command /xyzzy (type /help for the list)",
  ]);
});

Deno.test("client commands: /search WORDS, and /search alone for older results", async () => {
  assert.deepEqual((await run("/search deploy  friday ")).calls, ["search deploy  friday"]);
  assert.deepEqual((await run("/search")).calls, ["search (older)"]);
  assert.deepEqual((await run("/mentions")).calls, ["mentions"]);
});

Deno.test("client commands: /history pages back N messages at a time", async (t) => {
  await t.step("20 by default", async () => {
    assert.deepEqual((await run("/history")).calls, ["history 20"]);
  });
  await t.step("/history N", async () => {
    assert.deepEqual((await run("/history 5")).calls, ["history 5"]);
  });
  for (const bad of ["0", "501", "x", "-3", "2.5"]) {
    await t.step(`/history ${bad} is a usage error`, async () => {
      assert.deepEqual((await run(`/history ${bad}`)).calls, [
        "error usage: /history [N] (N from 1 to 500)",
      ]);
    });
  }
});

Deno.test("client commands: /register asks twice on a terminal, takes the line otherwise", async (t) => {
  await t.step("asked twice", async () => {
    assert.deepEqual((await run("/register", ["s3cret pw", "s3cret pw"])).calls, [
      "ask choose a password: ",
      "ask again: ",
      "register s3cret pw",
    ]);
  });
  await t.step("two different answers: nothing is sent", async () => {
    assert.deepEqual((await run("/register", ["one password", "another one"])).calls, [
      "ask choose a password: ",
      "ask again: ",
      "error the two passwords differ; nothing was changed",
    ]);
  });
  await t.step("Ctrl-C at the prompt cancels", async () => {
    assert.deepEqual((await run("/register", [null])).calls, [
      "ask choose a password: ",
      "info cancelled",
    ]);
  });
  await t.step("an empty answer cancels too", async () => {
    assert.deepEqual((await run("/register", ["s3cret pw", ""])).calls.at(-1), "info cancelled");
  });
  await t.step("on the line", async () => {
    assert.deepEqual((await run("/register pass with spaces")).calls, [
      "register pass with spaces",
    ]);
  });
  await t.step("not a terminal and no password: a usage error, no prompt", async () => {
    assert.deepEqual((await run("/register")).calls, [
      "error usage: /register PASSWORD (stdin is not a terminal, so no password prompt)",
    ]);
  });
});

Deno.test("client commands: /login NAME asks for the password; /login NAME PASSWORD does not", async (t) => {
  await t.step("asked", async () => {
    assert.deepEqual((await run("/login bob", ["hunter22"])).calls, [
      "ask password for bob: ",
      "login bob hunter22",
    ]);
  });
  await t.step("on the line", async () => {
    assert.deepEqual((await run("/login bob hunter22", [])).calls, ["login bob hunter22"]);
  });
  await t.step("cancelled", async () => {
    assert.deepEqual((await run("/login bob", [null])).calls.at(-1), "info cancelled");
  });
  await t.step("no name", async () => {
    assert.deepEqual((await run("/login", ["x"])).calls, ["error usage: /login NAME [PASSWORD]"]);
  });
  await t.step("not a terminal", async () => {
    assert.match((await run("/login bob")).calls[0], /^error usage: \/login NAME PASSWORD \(stdin/);
  });
});

Deno.test("client commands: /passwd asks for the old password and the new one twice", async (t) => {
  await t.step("asked", async () => {
    assert.deepEqual((await run("/passwd", ["old pw 1", "new pw 2", "new pw 2"])).calls, [
      "ask old password: ",
      "ask new password: ",
      "ask again: ",
      "passwd old pw 1 new pw 2",
    ]);
  });
  await t.step("on the line: OLD NEW", async () => {
    assert.deepEqual((await run("/passwd oldpass newpass")).calls, ["passwd oldpass newpass"]);
  });
  await t.step("only one of them", async () => {
    assert.deepEqual((await run("/passwd oldpass", ["x"])).calls, ["error usage: /passwd OLD NEW"]);
  });
  await t.step("not a terminal", async () => {
    assert.match((await run("/passwd")).calls[0], /^error usage: \/passwd OLD NEW \(stdin/);
  });
});

Deno.test("client commands: lines holding a password are known, to be kept out of history", () => {
  for (const line of ["/register pw", "/login bob pw", "/passwd a b", "/LOGIN bob pw"]) {
    assert.equal(holdsPassword(line), true, line);
  }
  for (
    const line of ["/register", "/login bob", "/passwd", "/msg bob hi", "hello", "//login a b"]
  ) {
    assert.equal(holdsPassword(line), false, line);
  }
});
