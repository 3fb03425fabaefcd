/**
 * The client over TLS, end to end: the real client with `--tls --ca` chats with a plain-TCP user
 * of the real server; a certificate it does not trust is one line and status 1 (at start, and
 * after a drop without retrying); a bad `--ca` file is one line and status 2. The CAs and the
 * server certificate are made with openssl at test time (tests/helpers/certs.ts).
 */

import assert from "node:assert/strict";
import { makeSelfSigned, makeTestCerts, type TestCerts } from "../helpers/certs.ts";
import { ClientProcess, runClient } from "../helpers/client.ts";
import { connectText } from "../helpers/lines.ts";
import { startServer, tlsPort } from "../helpers/server.ts";
import { describeHandshakeError } from "../../lib/client/tls.ts";

function tlsArgs(certs: Pick<TestCerts, "certFile" | "keyFile">, tlsPort = 0): string[] {
  return ["--tls-cert", certs.certFile, "--tls-key", certs.keyFile, "--tls-port", String(tlsPort)];
}

/** One line on stderr, no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.match(lines[0], pattern);
}

const NOT_TRUSTED =
  /^client: cannot connect to 127\.0\.0\.1:\d+ with TLS: the server's certificate is not trusted: /;

Deno.test("client TLS: --tls --ca sends what a plain-TCP user receives, and back", async () => {
  await using certs = await makeTestCerts();
  await using server = await startServer(tlsArgs(certs));
  const port = await tlsPort(server);
  using plain = await connectText(server.port);

  await using client = ClientProcess.spawn([
    "--port",
    String(port),
    "--tls",
    "--ca",
    certs.caFile,
    "--name",
    "secure",
  ]);
  await client.waitForStderr(
    new RegExp(`^connected to 127\\.0\\.0\\.1:${port} \\(TLS\\) as secure \\(2 online\\)$`, "m"),
  );
  await client.write("hello over TLS\n");
  await plain.readUntil((l) => /^\[[^\]]+\], secure:hello over TLS$/.test(l));
  await plain.send("to|secure|and back");
  await client.waitForStdout(/\[.* -> you\] and back$/m);
  await client.closeStdin();
  const r = await client.finish();
  assert.equal(r.code, 0, r.stderr);
});

Deno.test("client TLS: a certificate the client does not trust is one line and status 1", async (t) => {
  await using certs = await makeTestCerts();
  await using other = await makeTestCerts();
  await using server = await startServer(tlsArgs(certs));
  const port = String(await tlsPort(server));
  using watcher = await connectText(server.port);

  await t.step("trusting another CA", async () => {
    const r = await runClient(["--port", port, "--ca", other.caFile, "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, NOT_TRUSTED);
  });
  await t.step("the public roots only (no --ca)", async () => {
    const r = await runClient(["--port", port, "--tls", "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, new RegExp(NOT_TRUSTED.source + ".*--ca FILE"));
  });
  await t.step("in line mode too, without reconnecting", async () => {
    const r = await runClient(["--port", port, "--tls"], { stdin: "never sent\n" });
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, NOT_TRUSTED);
  });
  assert.equal(await watcher.quietFor(300), null, "nothing reached the server's users");
});

Deno.test("client TLS: a self-signed certificate, a CA used as one, a wrong name: what is wrong and what to do", async (t) => {
  const here = ["DNS:localhost", "IP:127.0.0.1"];
  await t.step("self-signed: pass it with --ca, then it works", async () => {
    await using self = await makeSelfSigned(here);
    await using server = await startServer(tlsArgs(self));
    const port = String(await tlsPort(server));
    const r = await runClient(["--port", port, "--tls", "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, new RegExp(NOT_TRUSTED.source + "it is self-signed, or .*--ca"));
    const ok = await runClient(["--port", port, "--ca", self.certFile, "--send", "x"]);
    assert.deepEqual([ok.code, ok.stderr], [0, ""]);
  });
  await t.step(
    "openssl's default self-signed (a CA): says how to make one that works",
    async () => {
      await using self = await makeSelfSigned(here, { asOpensslMakesIt: true });
      await using server = await startServer(tlsArgs(self));
      const port = String(await tlsPort(server));
      for (const trust of [["--tls"], ["--ca", self.certFile]]) {
        const r = await runClient(["--port", port, ...trust, "--send", "x"]);
        assert.equal(r.code, 1);
        assertOneLine(
          r.stderr,
          new RegExp(NOT_TRUSTED.source + "it is a CA certificate.*CA:FALSE"),
        );
      }
    },
  );
  await t.step("made for another name", async () => {
    await using self = await makeSelfSigned(["DNS:chat.example"]);
    await using server = await startServer(tlsArgs(self));
    const port = String(await tlsPort(server));
    const r = await runClient(["--port", port, "--ca", self.certFile, "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(
      r.stderr,
      new RegExp(NOT_TRUSTED.source + "it is for chat\\.example, not 127\\.0\\.0\\.1 \\("),
    );
  });
});

Deno.test("client TLS: Deno's own roots by default; the system's store only with DENO_TLS_CA_STORE=system", async () => {
  // SSL_CERT_FILE stands in for a CA installed in the system's store (Linux reads it there).
  await using certs = await makeTestCerts();
  await using server = await startServer(tlsArgs(certs));
  const port = String(await tlsPort(server));
  const system = { SSL_CERT_FILE: certs.caFile };
  const mozilla = await runClient(["--port", port, "--tls", "--send", "x"], { env: system });
  assert.equal(mozilla.code, 1);
  assertOneLine(mozilla.stderr, NOT_TRUSTED);
  const r = await runClient(["--port", port, "--tls", "--send", "x"], {
    env: { ...system, DENO_TLS_CA_STORE: "system" },
  });
  assert.deepEqual([r.code, r.stderr], [0, ""]);
});

Deno.test("client TLS: a wrong port is one line, never plain text", async (t) => {
  await using certs = await makeTestCerts();
  await using server = await startServer(tlsArgs(certs));
  const port = await tlsPort(server);
  await t.step("--tls to the plain port", async () => {
    const r = await runClient(["--port", String(server.port), "--ca", certs.caFile, "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, /with TLS: the TLS handshake failed \(.*\): is this a TLS port\?$/);
  });
  await t.step("plain TCP to the TLS port", async () => {
    const r = await runClient(["--port", String(port), "--send", "x"]);
    assert.equal(r.code, 1);
    assertOneLine(r.stderr, /before the welcome \(if that is a TLS port, use --tls\)$/);
  });
});

Deno.test("client TLS: after a drop, an untrusted certificate ends the client instead of retrying", async () => {
  await using certs = await makeTestCerts();
  await using other = await makeTestCerts();
  const first = await startServer(tlsArgs(certs));
  const [plainPort, port] = [first.port, await tlsPort(first)];
  await using client = ClientProcess.spawn([
    "--port",
    String(port),
    "--ca",
    certs.caFile,
    "--name",
    "loyal",
  ]);
  try {
    await client.waitForStderr("connected to");
    await first.stop("SIGTERM");
    await client.waitForStderr(/connection lost .*reconnecting in 1s/);
  } finally {
    await first.stop("SIGKILL");
  }
  // The same ports, now with a certificate from a CA the client does not trust.
  await using _second = await startServer(tlsArgs(other, port), { port: plainPort });
  const r = await client.finish(10_000);
  assert.equal(r.code, 1);
  const last = r.stderr.trimEnd().split("\n").at(-1)!;
  assert.match(last, /^! connection closed: cannot connect to .* with TLS: .*not trusted/);
  // Attempts made while the second server was still starting (a refused connection) are retried;
  // once its certificate is seen, nothing more: the untrusted line is the only TLS attempt.
  const tlsAttempts = r.stderr.split("\n").filter((l) => /not trusted/.test(l));
  assert.equal(tlsAttempts.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /not trusted[^\n]*\n[\s\S]*retrying/);
});

Deno.test("client TLS: a missing or non-PEM --ca file is one line and status 2", async (t) => {
  await using certs = await makeTestCerts();
  await t.step("missing", async () => {
    const r = await runClient(["--ca", `${certs.dir}/nope.pem`, "--send", "x"]);
    assert.equal(r.code, 2);
    assertOneLine(r.stderr, /^client: cannot read --ca \S+nope\.pem: no such file$/);
  });
  await t.step("a directory", async () => {
    const r = await runClient(["--ca", certs.dir, "--send", "x"]);
    assert.equal(r.code, 2);
    assertOneLine(r.stderr, /^client: cannot read --ca \S+: /);
  });
  await t.step("not PEM (a private key is not a certificate)", async () => {
    const r = await runClient(["--ca", certs.keyFile, "--send", "x"]);
    assert.equal(r.code, 2);
    assertOneLine(r.stderr, /^client: --ca \S+server\.key holds no PEM certificate/);
  });
});

Deno.test("client TLS: handshake failures in words", () => {
  const say = (message: string) => describeHandshakeError(new Error(message), "chat.example");
  assert.match(say("invalid peer certificate: UnknownIssuer"), /not trusted: .*--ca FILE/);
  assert.match(say("invalid peer certificate: Expired"), /not trusted: it has expired/);
  assert.match(
    say("invalid peer certificate: NotValidForNameContext { expected: x }"),
    /not trusted: it is not valid for chat\.example$/,
  );
  assert.match(say("invalid peer certificate: Weird"), /not trusted: Weird$/);
  assert.match(
    say("invalid peer certificate: Other(OtherError(Surprise))"),
    /not trusted: Surprise$/,
  );
  assert.match(
    say("invalid peer certificate: certificate expired: verification time 2 (UNIX), but ..."),
    /not trusted: it has expired/,
  );
  assert.match(say("received corrupt message"), /is this a TLS port\?$/);
});
