/**
 * The HTTP front against the real server over real sockets: the page's headers, `/healthz`,
 * `/metrics` and who may read it, `/ws` with its Origin check, and the WebSocket sharing the chat,
 * the limits and the connection caps with TCP clients.
 *
 * @module
 */

import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { JsonClient } from "../helpers/lines.ts";
import { httpPort, runServerToExit, startServer } from "../helpers/server.ts";
import { rawRequest, upgradeHeaders, WsClient } from "../helpers/ws.ts";
import { makeTestCerts } from "../helpers/certs.ts";

async function get(port: number, path: string): Promise<Response> {
  return await fetch(`http://127.0.0.1:${port}${path}`);
}

Deno.test("the page is served with a strict CSP, no framing and nosniff", async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  const page = await get(port, "/");
  strictEqual(page.status, 200);
  match(page.headers.get("content-type")!, /^text\/html/);
  const csp = page.headers.get("content-security-policy")!;
  match(csp, /default-src 'none'/);
  match(csp, /script-src 'self'(;|$)/);
  match(csp, /frame-ancestors 'none'/);
  strictEqual(page.headers.get("x-content-type-options"), "nosniff");
  const html = await page.text();
  match(html, /<script type="module" src="\/app.js"><\/script>/);
  ok(!/<script>|<script [^>]*>[^<]/.test(html), "no inline script");
  const script = await get(port, "/app.js");
  match(script.headers.get("content-type")!, /^text\/javascript/);
  ok((await script.text()).length > 1000, "the bundled page script is served");
  strictEqual((await get(port, "/style.css")).status, 200);
  const missing = await get(port, "/../deno.json");
  strictEqual(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("/healthz says 200 while the server accepts", async () => {
  await using server = await startServer();
  const res = await get(await httpPort(server), "/healthz");
  strictEqual(res.status, 200);
  strictEqual(await res.text(), "ok\n");
});

Deno.test("/metrics reports connections by transport, requests, deliveries and more", async () => {
  // One thread: with --workers each edge reports its own connections (README, --workers).
  await using server = await startServer(["--msg-rate", "1", "--msg-burst", "1", "--workers", "1"]);
  const port = await httpPort(server);
  using ws = await WsClient.connect(port, { name: "wendy" });
  using tcp = await JsonClient.connect(server.port, { name: "tom" });
  strictEqual((await ws.request({ type: "say", text: "hello" })).type, "ok");
  await tcp.readUntil((f) => f.type === "public");
  // The burst is one: the second at once is refused by flood control.
  const refused = await ws.request({ type: "say", text: "again" });
  strictEqual(refused.code, "rate_limited");
  const text = await (await get(port, "/metrics")).text();
  const value = (name: string) => {
    const m = text.match(new RegExp(`^${name.replace(/[{}"+.]/g, "\\$&")} (\\S+)$`, "m"));
    ok(m, `${name} in:\n${text}`);
    return Number(m[1]);
  };
  strictEqual(value('fastim_connections{transport="ws"}'), 1);
  strictEqual(value('fastim_connections{transport="tcp"}'), 1);
  strictEqual(value("fastim_users_online"), 2);
  strictEqual(value('fastim_requests_total{type="say"}'), 2);
  ok(value('fastim_deliveries_total{kind="public"}') >= 2);
  strictEqual(value("fastim_rate_limited_total"), 1);
  ok(value("fastim_store_commit_seconds_count") >= 1);
  ok(value('fastim_store_commit_seconds_bucket{le="+Inf"}') >= 1);
  ok(value("fastim_process_resident_memory_bytes") > 1e6);
  match(text, /^fastim_event_loop_lag_seconds \d/m);
  match(text, /^# TYPE fastim_store_commit_seconds histogram$/m);
});

Deno.test("/metrics is limited by --metrics-allow, and off turns it off", async (t) => {
  await t.step("an address not allowed gets 403", async () => {
    await using server = await startServer(["--metrics-allow", "10.1.2.3"]);
    const res = await get(await httpPort(server), "/metrics");
    strictEqual(res.status, 403);
    match(await res.text(), /--metrics-allow/);
  });
  await t.step("off: 404", async () => {
    await using server = await startServer(["--metrics-allow", "off"]);
    const res = await get(await httpPort(server), "/metrics");
    strictEqual(res.status, 404);
    await res.body?.cancel();
  });
});

Deno.test("/ws checks Origin: same origin and --allowed-origins pass, others get 403", async () => {
  await using server = await startServer(["--allowed-origins", "https://chat.example.org"]);
  const port = await httpPort(server);
  const tryOrigin = async (origin?: string) => {
    const res = await rawRequest(port, "/ws", upgradeHeaders(origin));
    res.conn.close();
    return res.status;
  };
  strictEqual(await tryOrigin("http://evil.example"), 403);
  strictEqual(await tryOrigin(`http://127.0.0.1:${port}`), 101);
  strictEqual(await tryOrigin("https://chat.example.org"), 101);
  strictEqual(await tryOrigin(`http://127.0.0.1:${port + 1}`), 403);
  // Not a browser (no Origin at all): let in, as a TCP client would be.
  strictEqual(await tryOrigin(), 101);
  const plain = await rawRequest(port, "/ws");
  plain.conn.close();
  strictEqual(plain.status, 426);
});

Deno.test("a WebSocket and a TCP JSON client share one chat, both ways", async () => {
  await using server = await startServer();
  const port = await httpPort(server);
  using ws = await WsClient.connect(port, { name: "wendy" });
  using tcp = await JsonClient.connect(server.port, { name: "tom" });
  await ws.readUntil((f) => f.type === "presence" && f.name === "tom");
  strictEqual((await ws.request({ type: "say", text: "from the browser" })).type, "ok");
  const heard = await tcp.readUntil((f) => f.type === "public");
  deepStrictEqual([heard.from, heard.text], ["wendy", "from the browser"]);
  await tcp.send({ type: "msg", to: "wendy", text: "psst" });
  const pm = await ws.readUntil((f) => f.type === "private");
  deepStrictEqual([pm.from, pm.text], ["tom", "psst"]);
});

Deno.test("a WebSocket message over --max-line gets line_too_long and is closed", async () => {
  await using server = await startServer(["--max-line", "100"]);
  const port = await httpPort(server);
  using ws = await WsClient.connect(port, { name: "wendy" });
  using tcp = await JsonClient.connect(server.port, { name: "tom" });
  ws.send({ type: "say", text: "x".repeat(200) });
  const bye = await ws.readUntil((f) => f.type === "notice");
  strictEqual(bye.code, "line_too_long");
  match(String(bye.text), /the limit is 100 bytes/);
  await ws.closed;
  const left = await tcp.readUntil((f) => f.type === "presence" && f.event === "offline");
  strictEqual(left.name, "wendy");
  ok(!tcp.lines.received.some((l) => l.includes("xxxx")), "the long line was not broadcast");
});

Deno.test("a binary WebSocket frame gets bad_frame and is closed", async () => {
  await using server = await startServer();
  using ws = await WsClient.connect(await httpPort(server), { name: "wendy" });
  ws.send(new Uint8Array([0x7b, 0x7d]));
  const bye = await ws.readUntil((f) => f.type === "notice");
  strictEqual(bye.code, "bad_frame");
  match(String(bye.text), /binary WebSocket frames are not accepted/);
  await ws.closed;
});

Deno.test("connection limits per address count WebSockets and TCP together", async () => {
  await using server = await startServer(["--max-conns-per-ip", "2"]);
  const port = await httpPort(server);
  using _tcp = await JsonClient.connect(server.port, {});
  using _ws = await WsClient.connect(port, {});
  const third = await rawRequest(port, "/ws", upgradeHeaders());
  third.conn.close();
  strictEqual(third.status, 503);
});

Deno.test("a WebSocket reader that stops reading is dropped by the bounded outbox", async () => {
  await using server = await startServer([
    "--max-queue",
    "64KiB",
    "--msg-rate",
    "0",
    "--byte-rate",
    "0",
  ]);
  const port = await httpPort(server);
  // Upgraded by hand and never read from: the server's writes back up.
  const stalled = await rawRequest(port, "/ws", upgradeHeaders());
  strictEqual(stalled.status, 101);
  using tcp = await JsonClient.connect(server.port, { name: "talker" });
  const text = "y".repeat(4000);
  const deadline = Date.now() + 20_000;
  // The talker reads all it is sent, a round (under the 64 KiB queue) at a time, so only the
  // stalled reader backs up.
  for (let round = 0; !/slow reader dropped/.test(server.stderr()); round++) {
    ok(Date.now() < deadline, "the stalled reader was not dropped within 20 s");
    for (let i = 0; i < 11; i++) await tcp.send({ type: "say", text });
    const last = `${round} ${text}`;
    await tcp.send({ type: "say", text: last });
    await tcp.readUntil((f) => f.type === "public" && f.text === last, 10_000);
  }
  const stalledAddr = `${(stalled.conn.localAddr as Deno.NetAddr).port}`;
  match(server.stderr(), new RegExp(`slow reader dropped addr=127\\.0\\.0\\.1:${stalledAddr} `));
  ok(
    !/reason=slow_reader/.test(
      server.stderr().split("\n").filter((l) => /name=talker/.test(l)).join("\n"),
    ),
  );
  stalled.conn.close();
});

Deno.test("--no-http serves no HTTP; --https-port needs TLS", async () => {
  await using server = await startServer(["--no-http"]);
  await new Promise((r) => setTimeout(r, 100));
  ok(!/listening \(HTTP\)/.test(server.stderr()));
  const bad = await runServerToExit(["--https-port", "9443"]);
  strictEqual(bad.code, 2);
  match(bad.stderr, /--https-port needs --tls-cert FILE and --tls-key FILE/);
  const clash = await runServerToExit(["--port", "9000", "--http-port", "9000"]);
  strictEqual(clash.code, 2);
  match(clash.stderr, /--http-port 9000 is --port too/);
});

Deno.test("with TLS: the page and /healthz over HTTPS; --no-plain turns plain HTTP off", async () => {
  await using certs = await makeTestCerts();
  const tls = ["--tls-cert", certs.certFile, "--tls-key", certs.keyFile, "--tls-port", "0"];
  await using server = await startServer([...tls, "--https-port", "0", "--no-plain"]);
  const port = await httpPort(server, "HTTPS");
  ok(!/listening \(HTTP\) on/.test(server.stderr()), "no plain HTTP with --no-plain");
  using client = Deno.createHttpClient({ caCerts: [certs.caPem] });
  const res = await fetch(`https://localhost:${port}/healthz`, { client });
  strictEqual(res.status, 200);
  strictEqual(await res.text(), "ok\n");
  const page = await fetch(`https://localhost:${port}/`, { client });
  match(page.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
  await page.body?.cancel();
});

Deno.test("with TLS: WSS on --https-port is the same chat as a TCP JSON client", async () => {
  await using certs = await makeTestCerts();
  const tls = ["--tls-cert", certs.certFile, "--tls-key", certs.keyFile, "--tls-port", "0"];
  await using server = await startServer([...tls, "--https-port", "0"]);
  const port = await httpPort(server, "HTTPS");
  // Deno's WebSocket takes no CA argument: a child `deno run --cert CA` opens the WSS, says hello,
  // says one line, and prints every frame it gets until it hears the TCP user's reply.
  const script = `${certs.dir}/wss_client.ts`;
  await Deno.writeTextFile(
    script,
    `const ws = new WebSocket(Deno.args[0]);
ws.onopen = () => ws.send(JSON.stringify({ type: "hello", version: 1, name: "sally" }));
ws.onmessage = (e) => {
  console.log(e.data);
  if (String(e.data).includes('"type":"welcome"')) {
    ws.send(JSON.stringify({ type: "say", text: "over wss" }));
  }
  if (String(e.data).includes("back over tcp")) ws.close();
};
ws.onclose = () => Deno.exit(0);
ws.onerror = (e) => { console.error(e.message ?? e); Deno.exit(1); };
setTimeout(() => Deno.exit(3), 10_000);
`,
  );
  using tcp = await JsonClient.connect(server.port, { name: "tom" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--cert", certs.caFile, "--allow-net", script, `wss://localhost:${port}/ws`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const heard = await tcp.readUntil((f) => f.type === "public", 10_000);
  deepStrictEqual([heard.from, heard.text], ["sally", "over wss"]);
  await tcp.send({ type: "say", text: "back over tcp" });
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
  match(stdout, /"type":"welcome"/);
  match(stdout, /"from":"tom".*"text":"back over tcp"|"text":"back over tcp".*"from":"tom"/);
});
