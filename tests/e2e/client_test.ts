/**
 * End-to-end tests: the real client (deno run with the compiled binary's permissions) against the
 * real server, both as subprocesses.
 */

import assert from "node:assert/strict";
import { ClientProcess, runClient } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const at = (port: number) => ["-ip", "127.0.0.1", "-port", String(port)];

/** No stack trace, one line. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

async function watcher(port: number, name: string): Promise<JsonClient> {
  const c = await JsonClient.connect(port, { name });
  assert.equal(c.welcome.name, name);
  return c;
}

Deno.test("client e2e: menu 1 sends public lines, exit returns, an invalid choice is refused, 0 leaves", async () => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    const r = await runClient([...at(server.port), "--menu", "--name", "alice"], {
      stdin: "1\nhello from alice\nexit\n9\n0\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^connected to 127\.0\.0\.1:\d+ as alice \(2 online\)$/m);
    assert.match(
      r.stdout,
      /^1\. public chat\n2\. private chat\n3\. rename\n4\. rooms\n0\. disconnect$/m,
    );
    assert.match(r.stdout, /^\d\d:\d\d <alice> hello from alice$/m);
    assert.match(
      r.stdout,
      /^! please enter a valid number \(or a slash command: \/help lists them\)$/m,
    );
    assert.equal(
      r.stdout.split("1. public chat").length - 1,
      3,
      "menu shown after exit and after 9",
    );
    const said = await bob.readUntil((f) => f.type === "public");
    assert.deepEqual([said.from, said.text], ["alice", "hello from alice"]);
    const gone = await bob.readUntil((f) => f.type === "presence" && f.event === "offline");
    assert.equal(gone.name, "alice");
  } finally {
    bob.close();
  }
});

Deno.test("client e2e: slash commands work at the menu prompt", async () => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    const r = await runClient([...at(server.port), "--menu", "--name", "alice"], {
      stdin: "/who\n/help\n/menu\n/quit\n1\nnever sent\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /valid number/);
    assert.match(r.stdout, /^online \(2\): (bob, alice \(you\)|alice \(you\), bob)$/m);
    assert.match(r.stdout, /^commands:$/m);
    assert.equal(r.stdout.split("1. public chat").length - 1, 2, "the menu again after /menu only");
    assert.doesNotMatch(r.stdout, /public chat:/, "/quit left before the 1");
  } finally {
    bob.close();
  }
});

Deno.test("client e2e: menu 2 shows who is online, then chats privately until exit", async () => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    const r = await runClient([...at(server.port), "--menu", "--name", "alice"], {
      stdin: "2\nbob\nhi bob | pipes ok\nexit\nnobody\nanyone?\nexit\nexit\n0\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^online \(2\): (bob, alice \(you\)|alice \(you\), bob)$/m);
    assert.match(r.stdout, /^\d\d:\d\d \[you -> bob\] hi bob \| pipes ok$/m);
    assert.match(r.stdout, /^! could not send to nobody: the receiver is not online$/m);
    const got = await bob.readUntil((f) => f.type === "private");
    assert.deepEqual([got.from, got.to, got.text], ["alice", "bob", "hi bob | pipes ok"]);
  } finally {
    bob.close();
  }
});

Deno.test("client e2e: menu 3 renames, or says why not", async () => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    const r = await runClient([...at(server.port), "--menu"], {
      stdin: "3\ncarol\n3\nBOB\n3\nbad name\n3\n\n1\nas carol\nexit\n0\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^you are now carol$/m);
    assert.match(r.stdout, /^! could not rename to BOB: this name is already used$/m);
    assert.match(r.stdout, /^! could not rename to bad name: .*space/m);
    assert.match(r.stdout, /^\d\d:\d\d <carol> as carol$/m);
    const renamed = await bob.readUntil((f) => f.type === "presence" && f.event === "renamed");
    assert.equal(renamed.name, "carol");
  } finally {
    bob.close();
  }
});

Deno.test("client e2e: two clients exchange public and private messages", async () => {
  await using server = await startServer();
  await using alice = ClientProcess.spawn([...at(server.port), "--name", "alice"]);
  await alice.waitForStderr("connected to");
  await using bob = ClientProcess.spawn([...at(server.port), "--name", "bob"]);
  await bob.waitForStderr("connected to");
  await alice.waitForStdout(/\* bob( \(.*\))? is online|is now known as bob/);

  await alice.write("hi bob\n");
  await bob.waitForStdout(/^\d\d:\d\d <alice> hi bob$/m);
  await alice.waitForStdout(/^\d\d:\d\d <alice> hi bob$/m);

  await bob.write("/msg alice just  for you\n");
  await alice.waitForStdout(/^\d\d:\d\d \[bob -> you\] just {2}for you$/m);
  await bob.waitForStdout(/^\d\d:\d\d \[you -> alice\] just {2}for you$/m);

  await bob.closeStdin();
  const b = await bob.finish();
  assert.equal(b.code, 0, b.stderr);
  await alice.waitForStdout(/\* bob is offline/);
  await alice.closeStdin();
  const a = await alice.finish();
  assert.equal(a.code, 0, a.stderr);
  assert.doesNotMatch(a.stdout, /\[bob -> you\].*\n.*\[bob -> you\]/, "delivered once");
});

Deno.test("client e2e: --send and --to send one message; the exit status says if it was accepted", async (t) => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    await t.step("--send: a public message", async () => {
      const r = await runClient([...at(server.port), "--send", "to all"]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
      const f = await bob.readUntil((f) => f.type === "public");
      assert.equal(f.text, "to all");
    });
    await t.step("--to NAME --send: a private message, under --name", async () => {
      const r = await runClient([
        ...at(server.port),
        "--name",
        "ann",
        "--to",
        "bob",
        "--send",
        "psst",
      ]);
      assert.deepEqual([r.code, r.stderr], [0, ""]);
      const f = await bob.readUntil((f) => f.type === "private");
      assert.deepEqual([f.from, f.text], ["ann", "psst"]);
    });
    await t.step("--to someone offline: status 1 and the server's reason", async () => {
      const r = await runClient([...at(server.port), "--to", "nobody", "--send", "x"]);
      assert.equal(r.code, 1);
      assertOneLine(r.stderr, /^client: could not send to nobody: the receiver is not online$/);
    });
    await t.step("--json prints the reply frames", async () => {
      const r = await runClient([...at(server.port), "--json", "--send", "json"]);
      assert.equal(r.code, 0, r.stderr);
      const frames = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.ok(frames.some((f) => f.type === "welcome"));
      assert.ok(frames.some((f) => f.type === "ok" && typeof f.msgId === "number"));
    });
  } finally {
    bob.close();
  }
});

Deno.test("client e2e: failures are one line on stderr and a non-zero status", async (t) => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    await t.step("a refused --name", async () => {
      const r = await runClient([...at(server.port), "--name", "Bob"]);
      assert.equal(r.code, 1);
      assertOneLine(r.stderr, /^client: cannot use the name "Bob": this name is already used$/);
    });
    await t.step("an invalid --name", async () => {
      const r = await runClient([...at(server.port), "--name", "a|b", "--send", "x"]);
      assert.equal(r.code, 1);
      assertOneLine(r.stderr, /^client: cannot use the name "a\|b": /);
    });
    await t.step("a bad flag", async () => {
      const r = await runClient(["--prot", "1"]);
      assert.equal(r.code, 2);
      assertOneLine(r.stderr, /^client: unknown flag --prot; try --help$/);
    });
    await t.step("a bad port", async () => {
      const r = await runClient(["-port", "http"]);
      assert.equal(r.code, 2);
      assertOneLine(r.stderr, /--port must be a number/);
    });
  } finally {
    bob.close();
  }
  await t.step("no server there", async () => {
    const port = server.port;
    await server.stop();
    const r = await runClient([...at(port), "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, /^client: cannot connect to 127\.0\.0\.1:\d+: connection refused/);
  });
});

Deno.test("client e2e: --help and --version", async () => {
  const help = await runClient(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: client \[-ip HOST\] \[-port PORT\]/);
  assert.doesNotMatch(help.stdout, /--no-color\s+--no-color/);
  for (const flag of ["--version", "-V"]) {
    const version = await runClient([flag]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^fastim client \d+\.\d+\.\d+ \(source, Deno \d+\.\d+\.\d+\)\n$/);
  }
});

Deno.test("client e2e: piped stdin sends each line, prints events, exits once all were acknowledged", async (t) => {
  await using server = await startServer();
  await t.step("text lines and slash commands", async () => {
    const r = await runClient([...at(server.port), "--name", "piper"], {
      stdin: "one\n\ntwo\n//slash\n/who\n/nick pipe2\nthree\n",
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n").map((l) => l.replace(/^\d\d:\d\d /, ""));
    // Events keep their order and replies theirs; how the two interleave is the server's choice.
    assert.deepEqual(lines.filter((l) => l.startsWith("<")), [
      "<piper> one",
      "<piper> two",
      "<piper> /slash",
      "<pipe2> three",
    ]);
    assert.deepEqual(lines.filter((l) => !l.startsWith("<")), [
      "online (1): piper (you)",
      "you are now pipe2",
    ]);
    assert.match(r.stderr, /^connected to/);
  });
  await t.step("a refused request makes the status 1", async () => {
    const r = await runClient([...at(server.port)], { stdin: "/msg nobody hi\nok\n/nope\n" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /could not send to nobody: the receiver is not online/);
    assert.match(r.stderr, /unknown command \/nope/);
    assert.match(r.stdout, /> ok$/m);
  });
  await t.step("/quit stops reading", async () => {
    const r = await runClient([...at(server.port)], { stdin: "before\n/quit\nafter\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /before/);
    assert.doesNotMatch(r.stdout, /after/);
  });
  await t.step("--json prints one JSON object per line", async () => {
    const r = await runClient([...at(server.port), "--json"], { stdin: "as json\n/who\n" });
    assert.equal(r.code, 0, r.stderr);
    const frames = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.ok(frames.some((f) => f.type === "public" && f.text === "as json"));
    assert.ok(frames.some((f) => f.type === "ok" && Array.isArray(f.users)));
  });
});

Deno.test("client e2e: reconnects after the server restarts and takes its name back", async () => {
  const first = await startServer();
  const port = first.port;
  await using client = ClientProcess.spawn([...at(port), "--name", "phoenix"]);
  try {
    await client.waitForStderr("connected to");
    await first.stop("SIGTERM");
    await client.waitForStdout("server is shutting down");
    await client.waitForStderr(/connection lost \(server is shutting down\); reconnecting in 1s/);
  } finally {
    await first.stop("SIGKILL");
  }
  // Let at least one attempt fail, to see the backoff grow.
  await client.waitForStderr(/still disconnected \(cannot connect .*\); retrying in 2s/, 5_000);
  await using second = await startServer([], { port });
  await client.waitForStderr(
    new RegExp(`reconnected to 127\\.0\\.0\\.1:${port} as phoenix`),
    10_000,
  );
  const bob = await watcher(second.port, "bob");
  try {
    await client.write("risen\n");
    const f = await bob.readUntil((f) => f.type === "public");
    assert.deepEqual([f.from, f.text], ["phoenix", "risen"]);
  } finally {
    bob.close();
  }
  await client.closeStdin();
  const r = await client.finish();
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("client e2e: history shows in the menu, not in line mode; FASTIM_PASSWORD logs in", async (t) => {
  await using server = await startServer();
  const password = "correct horse battery";
  const alice = await watcher(server.port, "alice");
  assert.equal((await alice.request({ type: "register", password })).type, "ok");
  await alice.request({ type: "say", text: "said before" });
  alice.close();
  await t.step("the menu shows the backlog after the greeting", async () => {
    const r = await runClient([...at(server.port), "--menu"], { stdin: "0\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^connected to .*\n\d\d:\d\d <alice> said before\n-- end of history --\n1\. public chat/,
    );
  });
  await t.step("line mode does not print it", async () => {
    const r = await runClient([...at(server.port)], { stdin: "" });
    assert.deepEqual([r.code, r.stdout], [0, ""]);
  });
  await t.step("a message for a registered user who is offline is stored", async () => {
    const r = await runClient([...at(server.port), "--to", "alice", "--send", "while away"]);
    assert.deepEqual([r.code, r.stderr], [0, ""]);
  });
  const login = { env: { FASTIM_PASSWORD: password }, stdin: "" };
  await t.step("logging in delivers it once (the client acknowledges it)", async () => {
    const first = await runClient([...at(server.port), "--name", "alice"], login);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\[.* -> you\] while away \(sent while you were away\)/);
    const again = await runClient([...at(server.port), "--name", "alice"], login);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /while away/);
  });
  await t.step("a wrong password is one line and status 1", async () => {
    const r = await runClient([...at(server.port), "--name", "alice"], {
      env: { FASTIM_PASSWORD: "wrong password" },
    });
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, /^client: cannot log in as "alice": wrong name or password$/);
  });
});

Deno.test("client e2e: a guest sees the whole backlog, marked as history, before the menu", async () => {
  await using server = await startServer(["--msg-rate", "1000", "--msg-burst", "1000"]);
  const alice = await watcher(server.port, "alice");
  for (let i = 1; i <= 50; i++) await alice.request({ type: "say", text: `old ${i}` });
  alice.close();
  for (const args of [[], ["--name", "carol"]]) {
    const r = await runClient([...at(server.port), "--menu", ...args], { stdin: "0\n" });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    const menu = lines.indexOf("1. public chat");
    const history = lines.flatMap((l, i) => /^\d\d:\d\d <alice> old \d+$/.test(l) ? [i] : []);
    assert.equal(history.length, 50, r.stdout);
    assert.ok(history.every((at) => at < menu), `history before the menu:\n${r.stdout}`);
    assert.equal(lines[history.at(-1)! + 1], "-- end of history --", r.stdout);
    assert.equal(lines.indexOf("1. public chat", menu + 1), -1, "the menu once");
  }
});

Deno.test("client e2e: SIGINT and SIGTERM leave cleanly", async (t) => {
  await using server = await startServer();
  const bob = await watcher(server.port, "bob");
  try {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      await t.step(signal, async () => {
        await using client = ClientProcess.spawn([...at(server.port), "--name", "sig"]);
        await client.waitForStderr("connected to");
        client.kill(signal);
        const r = await client.finish();
        assert.equal(r.code, 0, r.stderr);
        const gone = await bob.readUntil((f) => f.type === "presence" && f.event === "offline");
        assert.equal(gone.name, "sig");
      });
    }
  } finally {
    bob.close();
  }
});

Deno.test("client e2e: piped lines over the server's rate limit wait and all arrive in order", async () => {
  await using server = await startServer(["--msg-rate", "10", "--msg-burst", "5"]);
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
  const r = await runClient([...at(server.port), "--name", "fast"], {
    stdin: lines.join("\n") + "\n",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.stdout.trimEnd().split("\n").map((l) => l.replace(/^\d\d:\d\d <fast> /, "")),
    lines,
  );
});

Deno.test("client e2e: a second client of the same account logs in alongside the first", async () => {
  await using server = await startServer();
  const password = "correct horse battery";
  const setup = await watcher(server.port, "solo");
  assert.equal((await setup.request({ type: "register", password })).type, "ok");
  setup.close();
  const env = { FASTIM_PASSWORD: password };
  await using first = ClientProcess.spawn([...at(server.port), "--name", "solo"], { env });
  await first.waitForStderr("connected to");
  // A script sends a notification as the same account: it must not log the terminal out.
  const sent = await runClient([...at(server.port), "--name", "solo", "--send", "build done"], {
    env,
  });
  assert.equal(sent.code, 0, sent.stderr);
  await using second = ClientProcess.spawn([...at(server.port), "--name", "solo"], { env });
  await second.waitForStderr("connected to 127.0.0.1");
  const other = await watcher(server.port, "other");
  assert.equal(
    (await other.request({ type: "msg", to: "solo", text: "to both" })).type,
    "ok",
  );
  await first.waitFor((out) => out.includes("to both"), "the message on the first client");
  await second.waitFor((out) => out.includes("to both"), "the message on the second client");
  other.close();
  for (const c of [first, second]) {
    await c.closeStdin();
    const r = await c.finish();
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /another connection/);
  }
});

Deno.test("client e2e: 60 piped lines at the default limits are paced, all arrive in order", async () => {
  await using server = await startServer();
  const reader = await watcher(server.port, "reader");
  try {
    const lines = Array.from({ length: 60 }, (_, i) => `burst ${i + 1}`);
    const r = await runClient([...at(server.port), "--name", "burst"], {
      stdin: lines.join("\n") + "\n",
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /connection lost|could not send/);
    const got: string[] = [];
    while (got.length < lines.length) {
      const f = await reader.readUntil((f) => f.type === "public");
      got.push(String(f.text));
    }
    assert.deepEqual(got, lines);
  } finally {
    reader.close();
  }
});

Deno.test("client e2e: a line over the server's maxLine is refused locally, the connection stays", async (t) => {
  await using server = await startServer(["--max-line", "256"]);
  const long = "x".repeat(400);
  await t.step("--send: one line, status 1", async () => {
    const r = await runClient([...at(server.port), "--send", long]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, /^client: message too long: \d+ bytes, the limit is 256$/);
  });
  await t.step("piped: refused, the next line still goes out", async () => {
    const r = await runClient([...at(server.port), "--name", "piper"], {
      stdin: `${long}\n/msg nobody ${long}\nafter\n`,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^! message too long: \d+ bytes, the limit is 256$/m);
    assert.doesNotMatch(r.stderr, /connection lost/);
    assert.match(r.stdout, /<piper> after$/m);
  });
});
