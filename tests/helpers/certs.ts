/**
 * Throw-away TLS material for tests, made with `openssl` at test time in a temp dir: a private CA
 * and a server certificate it signs for `localhost` and `127.0.0.1`. Nothing is checked in, so
 * nothing expires or leaks.
 *
 * @module
 */

/** PEM files of one test CA and the server certificate it signed. */
export interface TestCerts {
  dir: string;
  /** The CA certificate (PEM text), for `Deno.connectTls({ caCerts })`. */
  caPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Deletes the temp dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  let out;
  try {
    out = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("openssl is not installed: apt-get install openssl (.ci/run does this)");
    }
    throw e;
  }
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Creates a CA and a server certificate for `localhost`/`127.0.0.1`, valid for a day.
 *
 * @example
 * ```ts
 * await using certs = await makeTestCerts();
 * const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [certs.caPem] });
 * ```
 */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-certs-" });
  const ext = `${dir}/server.ext`;
  await Deno.writeTextFile(
    ext,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=FastIM test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl(
    ["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
    dir,
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    ext,
  ], dir);
  return {
    dir,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    caFile: `${dir}/ca.pem`,
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A self-signed server certificate and its key. */
export interface SelfSigned {
  certFile: string;
  keyFile: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A self-signed certificate for `names` (SAN entries such as `DNS:localhost`, `IP:127.0.0.1`),
 * valid for a day. `asOpensslMakesIt`: as `openssl req -x509` makes one by default, marked as a
 * CA (which rustls refuses as a server's own certificate); otherwise marked `CA:FALSE`.
 *
 * @example
 * ```ts
 * await using self = await makeSelfSigned(["DNS:localhost", "IP:127.0.0.1"]);
 * ```
 */
export async function makeSelfSigned(
  names: string[],
  opts: { asOpensslMakesIt?: boolean } = {},
): Promise<SelfSigned> {
  const dir = await Deno.makeTempDir({ prefix: "fastim-self-" });
  const constraints = opts.asOpensslMakesIt
    ? []
    : ["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"];
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "1",
    "-subj",
    "/CN=FastIM self-signed",
    "-addext",
    `subjectAltName=${names.join(",")}`,
    ...constraints,
  ], dir);
  return {
    certFile: `${dir}/self.pem`,
    keyFile: `${dir}/self.key`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
