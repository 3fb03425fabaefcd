import assert from "node:assert/strict";
import {
  type ChatActions,
  COMMANDS,
  findCommand,
  helpText,
  parseChatLine,
  runCommand,
  splitFirst,
  suggestCommand,
} from "../lib/client/commands.ts";

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
  info(text: string) {
    this.calls.push(`info ${text}`);
  }
  error(text: string) {
    this.calls.push(`error ${text}`);
  }
}

async function run(line: string): Promise<{ outcome: string; calls: string[] }> {
  const chat = new FakeChat();
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

Deno.test("client commands: /help is generated from the table", () => {
  const help = helpText();
  for (const c of COMMANDS) {
    assert.ok(help.includes(`/${c.name}`), c.name);
    assert.ok(help.includes(c.help), c.help);
  }
  for (const name of ["msg", "who", "nick", "menu", "quit", "help"]) {
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
