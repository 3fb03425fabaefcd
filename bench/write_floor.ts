/**
 * The floor under any broadcast: what one `conn.write` of a 60-byte line to a loopback socket
 * costs in this Deno, in user and kernel CPU, when the reader (a Go process, `go/drain`) is
 * always waiting. Writes go out in rounds, one line to every socket, 5 ms apart, like the
 * fixed-rate scenario.
 *
 * Usage: `deno run --allow-net --allow-run --allow-write --allow-read bench/write_floor.ts [SOCKETS] [ROUNDS]`
 *
 * @module
 */

import { cpuSeconds } from "./proc.ts";

const sockets = Number(Deno.args[0] ?? 1000);
const rounds = Number(Deno.args[1] ?? 300);

const dir = await Deno.makeTempDir({ prefix: "fastim-drain-" });
const built = await new Deno.Command("go", {
  args: ["build", "-o", `${dir}/drain`, "."],
  cwd: new URL("go/drain/", import.meta.url).pathname,
  env: { GOFLAGS: "-mod=mod", GOPROXY: "off", GOTOOLCHAIN: "local" },
}).output();
if (!built.success) throw new Error("go build of bench/go/drain failed (is go installed?)");

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const drain = new Deno.Command(`${dir}/drain`, {
  args: [String(listener.addr.port), String(sockets), "120"],
  stdout: "null",
}).spawn();
const conns: Deno.Conn[] = [];
for (let i = 0; i < sockets; i++) {
  const c = await listener.accept();
  c.setNoDelay(true);
  conns.push(c);
}
const line = new TextEncoder().encode(
  "[127.0.0.1:12345], 127.0.0.1:12345:~b1.2.1795675135141000~\n",
);
const before = await cpuSeconds(Deno.pid);
for (let r = 0; r < rounds; r++) {
  await Promise.all(conns.map((c) => c.write(line)));
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const after = await cpuSeconds(Deno.pid);
const writes = sockets * rounds;
const us = (s: number) => ((s * 1e6) / writes).toFixed(2);
console.log(
  `${sockets} sockets × ${rounds} rounds: user ${us(after.user - before.user)} µs, ` +
    `kernel ${us(after.sys - before.sys)} µs per write`,
);
try {
  Deno.kill(drain.pid, "SIGKILL");
} catch { /* already gone */ }
await drain.status;
for (const c of conns) c.close();
listener.close();
await Deno.remove(dir, { recursive: true });
