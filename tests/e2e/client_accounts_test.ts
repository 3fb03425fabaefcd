/**
 * Accounts and history end to end with piped stdin: the real client against the real server.
 * `/register PASSWORD`, `/login NAME PASSWORD` and `/passwd OLD NEW` take the password on the
 * line when stdin is not a terminal; `/history [N]` pages back. Passwords never appear in the
 * client's output. (The prompts without echo are in client_tty_password_test.ts.)
 */

import assert from "node:assert/strict";
import { ClientProcess, type ClientResult, runClient } from "../helpers/client.ts";
import { JsonClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

const at = (port: number) => ["-ip", "127.0.0.1", "-port", String(port)];
/** No FASTIM_PASSWORD from the environment the tests run in. */
const env = { FASTIM_PASSWORD: "" };

function assertNoSecret(r: ClientResult, ...secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `"${secret}" printed`);
  }
}

/** The display lines of public messages, without their time. */
const said = (stdout: string) =>
  stdout.split("\n").filter((l) => /^\d\d:\d\d </.test(l)).map((l) => l.slice(6));

Deno.test("client accounts: /register, /login and /passwd with the password on the line", async (t) => {
  await using server = await startServer();
  // On the line /passwd OLD NEW splits at the first space, so OLD has none here.
  const [first, second] = ["first-password", "second password"];

  await t.step("/register PASSWORD claims the current name", async () => {
    const r = await runClient([...at(server.port), "--name", "alice"], {
      stdin: `/register ${first}\n`,
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^you registered alice$/m);
    assertNoSecret(r, first);
  });
  await t.step("now --name alice without a password is refused, with what to do", async () => {
    const r = await runClient([...at(server.port), "--name", "alice"], { stdin: "", env });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'client: cannot use the name "alice": it is registered (set FASTIM_PASSWORD to log in, ' +
        "or run at a terminal to be asked for the password)\n",
    );
  });
  await t.step("/login NAME PASSWORD, then /passwd OLD NEW", async () => {
    const r = await runClient(at(server.port), {
      stdin: `/login alice ${first}\n/passwd wrong-password ${second}\n` +
        `/passwd ${first} ${second}\nas alice\n`,
      env,
    });
    assert.match(r.stdout, /^you are logged in as alice$/m);
    assert.match(r.stderr, /^! could not change the password: wrong password$/m);
    assert.match(r.stdout, /^your password was changed$/m);
    assert.deepEqual(said(r.stdout), ["<alice> as alice"]);
    assert.equal(r.code, 1, "one request was refused");
    assertNoSecret(r, first, second);
  });
  await t.step("the new password logs in; the old one does not", async () => {
    const ok = await runClient([...at(server.port), "--name", "alice"], {
      stdin: "",
      env: { FASTIM_PASSWORD: second },
    });
    assert.equal(ok.code, 0, ok.stderr);
    const r = await runClient(at(server.port), { stdin: `/login alice ${first}\n`, env });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split("\n")[1], "! could not log in as alice: wrong name or password");
    assertNoSecret(r, first);
  });
});

Deno.test("client accounts: refusals are one line each, in the client's own terms", async (t) => {
  await using server = await startServer();
  const refused = async (args: string[], stdin: string, expected: string) => {
    const r = await runClient([...at(server.port), ...args], { stdin, env });
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.trimEnd().split("\n").slice(1), [expected]);
  };
  await t.step("/register without a password, stdin not a terminal", async () => {
    await refused(
      ["--name", "dave"],
      "/register\n",
      "! usage: /register PASSWORD (stdin is not a terminal, so no password prompt)",
    );
  });
  await t.step("/register before choosing a name", async () => {
    await refused(
      [],
      "/register long enough\n",
      "! could not register: choose a name first (/nick NAME), then /register",
    );
  });
  await t.step("/register with a short password", async () => {
    await refused(
      ["--name", "dave"],
      "/register short\n",
      "! could not register: password must be at least 8 characters",
    );
  });
  await t.step("/passwd before logging in", async () => {
    await refused(
      ["--name", "dave"],
      "/passwd long enough longer still\n",
      "! could not change the password: log in first (/login NAME)",
    );
  });
  await t.step("/nick to a registered name", async () => {
    const owner = await JsonClient.connect(server.port, { name: "erin" });
    assert.equal((await owner.request({ type: "register", password: "erin's pw" })).type, "ok");
    owner.close();
    await refused(
      [],
      "/nick erin\n",
      "! could not rename to erin: this name is registered (if it is yours: /login NAME)",
    );
  });
});

Deno.test("client accounts: /login delivers the messages that waited, once", async () => {
  await using server = await startServer();
  const password = "waiting room";
  const owner = await JsonClient.connect(server.port, { name: "fay" });
  assert.equal((await owner.request({ type: "register", password })).type, "ok");
  owner.close();
  const sent = await runClient([...at(server.port), "--to", "fay", "--send", "while away"]);
  assert.equal(sent.code, 0, sent.stderr);

  const first = await runClient(at(server.port), { stdin: `/login fay ${password}\n`, env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /\[.* -> you\] while away \(sent while you were away\)/);
  const again = await runClient(at(server.port), { stdin: `/login fay ${password}\n`, env });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stdout, /while away/, "acknowledged, so not delivered again");
});

Deno.test("client accounts: after /login, a reconnect logs in again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fastim-client-" });
  const db = ["--db", `${dir}/fastim.db`];
  const password = "survives restarts";
  try {
    const first = await startServer(db);
    const port = first.port;
    const owner = await JsonClient.connect(port, { name: "gil" });
    assert.equal((await owner.request({ type: "register", password })).type, "ok");
    owner.close();
    await using client = ClientProcess.spawn(at(port), { env });
    try {
      await client.write(`/login gil ${password}\n`);
      await client.waitForStdout("you are logged in as gil");
      await first.stop("SIGTERM");
      await client.waitForStderr(/connection lost/);
    } finally {
      await first.stop("SIGKILL");
    }
    await using _second = await startServer(db, { port });
    await client.waitForStderr(new RegExp(`reconnected to 127\\.0\\.0\\.1:${port} as gil\\n`));
    const watcher = await JsonClient.connect(port, { name: "hal" });
    try {
      const online = (await watcher.request({ type: "who" })).users as { name: string }[];
      assert.ok(online.some((u) => u.name === "gil"));
    } finally {
      watcher.close();
    }
    await client.closeStdin();
    const r = await client.finish();
    assert.equal(r.code, 0, r.stderr);
    assertNoSecret(r, password);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client history: /history pages further back each time", async (t) => {
  await using server = await startServer(["--history", "2"]);
  const talker = await JsonClient.connect(server.port, { name: "talker" });
  try {
    for (let i = 1; i <= 7; i++) await talker.request({ type: "say", text: `m${i}` });
  } finally {
    talker.close();
  }
  const m = (...ns: number[]) => ns.map((n) => `<talker> m${n}`);

  await t.step("piped: from the newest, N at a time, oldest first within a page", async () => {
    const r = await runClient(at(server.port), {
      stdin: "/history 3\n/history 3\n/history 3\n/history 3\n/history 0\n",
    });
    assert.deepEqual(said(r.stdout), m(5, 6, 7, 2, 3, 4, 1));
    assert.match(r.stderr, /^no older messages$/m);
    assert.match(r.stderr, /^! usage: \/history \[N\] \(N from 1 to 500\)$/m);
  });
  await t.step("menu: continues before the backlog shown on joining", async () => {
    const r = await runClient([...at(server.port), "--menu"], {
      stdin: "1\n/history 2\n/history\n/history\nexit\n0\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(said(r.stdout), m(6, 7, 4, 5, 1, 2, 3));
    assert.match(r.stdout, /^no older messages$/m);
  });
  await t.step("piped: continues before the live messages printed", async () => {
    await using client = ClientProcess.spawn([...at(server.port), "--name", "late"]);
    await client.waitForStderr("connected to");
    await client.write("live one\n");
    await client.waitForStdout("<late> live one");
    await client.write("/history 1\n");
    await client.closeStdin();
    const r = await client.finish();
    assert.deepEqual(said(r.stdout), ["<late> live one", ...m(7)]);
  });
});
