/**
 * The server process end to end: graceful shutdown on SIGTERM and SIGINT, and its log lines.
 */

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { connectText, coreServerArgs, JsonClient, presenceLine } from "../helpers/lines.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { permissionFlags } from "../helpers/permissions.ts";

const SERVER_TS = new URL("../../server.ts", import.meta.url).pathname;

/** Starts the server with the core protocol alone (see {@link coreServerArgs}). */
async function start(args: string[] = []): Promise<TestServer> {
  return startServer([...await coreServerArgs(), ...args]);
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`shutdown on ${signal}: every client is told, then EOF, and the exit code is 0`, async () => {
    await using server = await start();
    using alice = await connectText(server.port);
    using bob = await connectText(server.port);
    using jane = await JsonClient.connect(server.port, { name: "jane" });
    const janeAddr = jane.lines.addr;
    // Consume everything sent before the signal, so what follows is only the shutdown.
    await alice.readUntil((l) => l === presenceLine(bob.addr, "online"));
    await alice.readUntil((l) => l.endsWith(":renamed to jane"));
    await bob.readUntil((l) => l.endsWith(":renamed to jane"));
    await bob.send("last words");
    await alice.readUntil((l) => l.endsWith(":last words"));
    await bob.readUntil((l) => l.endsWith(":last words"));
    await jane.readUntil((f) => f.type === "public" && f.text === "last words");
    deepStrictEqual(await jane.request({ type: "ping", id: 1 }), { type: "ok", id: 1 });

    const status = await server.stop(signal);
    deepStrictEqual(status, { code: 0, signal: null }, server.stderr());

    // The notice is the last thing before EOF (offline announcements may precede it).
    for (const c of [alice, bob]) {
      const lines = await c.readToEnd();
      strictEqual(lines.at(-1), "server is shutting down", `text client ${c.addr}: ${lines}`);
      ok(lines.slice(0, -1).every((l) => l.endsWith(":offline")), `${lines}`);
    }
    const frames = (await jane.lines.readToEnd()).map((l) => JSON.parse(l));
    deepStrictEqual(frames.at(-1), {
      type: "notice",
      code: "shutdown",
      text: "server is shutting down",
    }, `JSON client ${janeAddr}: ${JSON.stringify(frames)}`);
    ok(frames.slice(0, -1).every((f) => f.type === "presence" && f.event === "offline"));
    ok(!/\n\s+at /.test(server.stderr()), "no stack trace on stderr");
    await rejects(
      Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      "nothing listens any more",
    );
  });
}

Deno.test("shutdown exits promptly with a connected client that never reads", async () => {
  await using server = await start();
  using reader = await connectText(server.port);
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await reader.readUntil((l) => l.endsWith(":online") && !l.includes(reader.addr));
    const since = Date.now();
    const status = await server.stop("SIGTERM");
    strictEqual(status.code, 0);
    ok(Date.now() - since < 5000, `exited in ${Date.now() - since} ms`);
    deepStrictEqual(await reader.readToEnd(), ["server is shutting down"]);
  } finally {
    stuck.close();
  }
});

Deno.test("the server logs one line per connect, rename and disconnect, with a level", async () => {
  await using server = await start();
  const c = await connectText(server.port);
  const addr = c.addr;
  await c.send("rename|logged");
  strictEqual(await c.readLine(), "You renamed to logged");
  c.close();
  const deadline = Date.now() + 3000;
  while (!/INFO disconnect /.test(server.stderr()) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const log = server.stderr().split("\n");
  const about = (event: string) =>
    log.filter((l) =>
      new RegExp(`^\\S+ (DEBUG|INFO|WARN|ERROR) ${event} `).test(l) && l.includes(addr)
    );
  strictEqual(about("connect").length, 1, log.join("\n"));
  strictEqual(about("rename").length, 1, log.join("\n"));
  ok(about("rename")[0].includes("logged"));
  strictEqual(about("disconnect").length, 1, log.join("\n"));
});

Deno.test("a closed log pipe does not stop the server: it keeps serving and exits 0", async () => {
  // As `server 2>&1 | tee srv.log` after the tee is gone: stderr is a pipe nobody reads.
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...permissionFlags("server"),
      SERVER_TS,
      ...await coreServerArgs(),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--db",
      ":memory:",
      "--log-level",
      "debug",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let port = 0;
  let seen = "";
  const decoder = new TextDecoder();
  const reader = proc.stderr.getReader();
  while (!port) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited before listening:\n${seen}`);
    seen += decoder.decode(value, { stream: true });
    port = Number(seen.match(/listening on \S+:(\d+)/)?.[1] ?? 0);
  }
  await reader.cancel(); // closes the read end: every log line from now on hits a broken pipe
  using alice = await connectText(port);
  using bob = await connectText(port);
  await alice.readUntil((l) => l === presenceLine(bob.addr, "online"));
  for (let i = 0; i < 5; i++) {
    await bob.send(`still here ${i}`);
    await alice.readUntil((l) => l.endsWith(`:still here ${i}`));
  }
  proc.kill("SIGTERM");
  const lines = await alice.readToEnd();
  strictEqual(lines.at(-1), "server is shutting down", `${lines}`);
  const status = await proc.status;
  deepStrictEqual({ code: status.code, signal: status.signal }, { code: 0, signal: null });
});
