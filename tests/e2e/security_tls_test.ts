/**
 * TLS: a throw-away CA and server certificate are made with openssl at test time; a client that
 * trusts the CA chats with plain-TCP users, one that trusts another CA is refused, and bad
 * certificate or key files stop the server at start with one line.
 *
 * @module
 */

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { makeTestCerts, type TestCerts } from "../helpers/certs.ts";
import { LineClient } from "../helpers/lines.ts";
import { TIMED_OUT, within } from "../../lib/shared/deadline.ts";
import { runServerToExit, startServer, tlsPort } from "../helpers/server.ts";

const encoder = new TextEncoder();

/** Reads `\n`-terminated lines from any connection, with a timeout per line. */
class Lines {
  #buffered = "";
  #decoder = new TextDecoder();
  #buf = new Uint8Array(16 * 1024);
  constructor(readonly conn: Deno.Conn) {}

  async next(timeoutMs = 3000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const nl = this.#buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        return line;
      }
      const n = await within(this.conn.read(this.#buf), deadline - Date.now());
      if (n === TIMED_OUT) throw new Error("no line in time");
      if (n === null) return null;
      this.#buffered += this.#decoder.decode(this.#buf.subarray(0, n), { stream: true });
    }
  }

  async until(pred: (line: string) => boolean): Promise<string> {
    while (true) {
      const line = await this.next();
      if (line === null) throw new Error("closed before the expected line");
      if (pred(line)) return line;
    }
  }

  send(line: string): Promise<number> {
    return this.conn.write(encoder.encode(line + "\n"));
  }
}

function tlsArgs(certs: TestCerts): string[] {
  return ["--tls-cert", certs.certFile, "--tls-key", certs.keyFile, "--tls-port", "0"];
}

Deno.test("TLS: a client trusting the CA chats with a plain TCP user", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer(tlsArgs(certs));
  const port = await tlsPort(server);
  ok(port !== server.port);
  using plain = await LineClient.connect(server.port);
  await plain.readUntil((l) => l.endsWith(`${plain.addr}:online`));

  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [certs.caPem] });
  try {
    const tls = new Lines(conn);
    const me = `${conn.localAddr.hostname}:${conn.localAddr.port}`;
    strictEqual(await tls.until((l) => l.endsWith(":online")), `[${me}], ${me}:online`);
    await tls.send("rename|secure");
    strictEqual(await tls.next(), "You renamed to secure");
    await tls.send("hello over TLS");
    await plain.readUntil((l) => l === `[${me}], secure:hello over TLS`);
    await plain.send("to|secure|and back");
    strictEqual(await tls.next(), `[${me}], secure:hello over TLS`);
    strictEqual(await tls.next(), `${plain.addr} sent you a message: and back`);
  } finally {
    conn.close();
  }
});

Deno.test("TLS: a client trusting another CA fails, and nobody is announced", async () => {
  await using certs = await makeTestCerts();
  await using other = await makeTestCerts();
  await using server = await startServer(tlsArgs(certs));
  const port = await tlsPort(server);
  using watcher = await LineClient.connect(server.port);
  await watcher.readUntil((l) => l.endsWith(`${watcher.addr}:online`));
  await rejects(async () => {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [other.caPem] });
    try {
      await conn.handshake();
    } finally {
      conn.close();
    }
  }, (e) => e instanceof Deno.errors.InvalidData && /certificate/i.test((e as Error).message));
  strictEqual(await watcher.quietFor(300), null, "a failed handshake announces nobody");
});

Deno.test("TLS: --no-plain serves TLS only", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer([...tlsArgs(certs), "--no-plain"]);
  // The one listening line is the TLS listener's.
  ok(!server.stderr().includes("(TLS)"));
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [certs.caPem],
  });
  try {
    ok((await new Lines(conn).next())!.endsWith(":online"));
  } finally {
    conn.close();
  }
});

Deno.test("TLS: bad certificate or key files stop the server with one line", async (t) => {
  await using certs = await makeTestCerts();
  await using other = await makeTestCerts();
  const garbage = `${certs.dir}/garbage.pem`;
  await Deno.writeTextFile(garbage, "-----BEGIN CERTIFICATE-----\nnot base64\n");
  const notPem = `${certs.dir}/not.pem`;
  await Deno.writeTextFile(notPem, "hello\n");
  const cases: [string, string[], RegExp][] = [
    [
      "a missing certificate file",
      ["--tls-cert", `${certs.dir}/nope.pem`, "--tls-key", certs.keyFile],
      /^server: cannot read the TLS certificate --tls-cert \S+nope\.pem: no such file$/,
    ],
    [
      "a missing key file",
      ["--tls-cert", certs.certFile, "--tls-key", `${certs.dir}/nope.key`],
      /^server: cannot read the TLS private key --tls-key \S+nope\.key: no such file$/,
    ],
    [
      "a key that does not match the certificate",
      ["--tls-cert", certs.certFile, "--tls-key", other.keyFile],
      /^server: --tls-key \S+ is not the private key of --tls-cert \S+: use the key the certificate was issued for$/,
    ],
    [
      "a file that is not PEM",
      ["--tls-cert", notPem, "--tls-key", certs.keyFile],
      /^server: --tls-cert \S+ is not a PEM file: expected a -----BEGIN \.\.\.----- block$/,
    ],
    [
      "a broken PEM certificate",
      ["--tls-cert", garbage, "--tls-key", certs.keyFile],
      /^server: --tls-cert \S+ holds no usable certificate: /,
    ],
    [
      "the key and certificate swapped",
      ["--tls-cert", certs.keyFile, "--tls-key", certs.certFile],
      /^server: --tls-cert \S+ holds no usable certificate: /,
    ],
    [
      "a directory",
      ["--tls-cert", certs.dir, "--tls-key", certs.keyFile],
      /^server: cannot read the TLS certificate --tls-cert \S+: /,
    ],
  ];
  for (const [what, args, expected] of cases) {
    await t.step(what, async () => {
      const r = await runServerToExit(["--port", "0", "--tls-port", "0", ...args]);
      strictEqual(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      strictEqual(lines.length, 1, r.stderr);
      ok(expected.test(lines[0]), lines[0]);
      deepStrictEqual(r.stdout, "");
    });
  }
});

Deno.test("a TLS handshake on the plain port is closed, never broadcast", async () => {
  await using server = await startServer([]);
  const watcher = await LineClient.connect(server.port);
  await watcher.readLine(); // own online notice
  const tlsClient = await LineClient.connect(server.port);
  await watcher.readUntil((l) => l.endsWith(":online"));
  // A ClientHello's record header, then bytes that would otherwise end a line.
  await tlsClient.writeRaw(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x05, 0x68, 0x69, 0x0a]));
  const rest = await tlsClient.readToEnd();
  strictEqual(rest.some((l) => l.includes("hi")), false);
  // The watcher sees the stranger leave, and nothing it sent.
  const next = await watcher.readLine();
  ok(next!.endsWith(":offline"), next!);
  ok(server.stderr().includes("tls on plain port"));
  tlsClient.close();
  watcher.close();
});
