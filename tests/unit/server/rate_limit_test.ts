import { REQUESTS } from "../../../lib/protocol/request_table.ts";
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  ConnectionLimiter,
  FloodGuard,
  type FloodLimits,
  formatWait,
} from "../../../lib/server/rate_limit.ts";
import { parseServerArgs, SERVER_DEFAULTS, type ServerConfig } from "../../../lib/server/config.ts";
import { UsageError } from "../../../lib/shared/cli.ts";
import { addressKey } from "../../../lib/shared/address.ts";

const LIMITS: FloodLimits = {
  msgRate: 10,
  msgBurst: 20,
  byteRate: 16 * 1024,
  byteBurst: 64 * 1024,
  renamesPerMinute: 3,
  whoPerMinute: 5,
  strikes: 5,
  lineTimeoutMs: 10_000,
  backlog: 200,
};

Deno.test("FloodGuard.delayMs: how long a line over the message rate is held back", async (t) => {
  const g = new FloodGuard(LIMITS, 0);
  await t.step("nothing within the burst", () => {
    for (let i = 0; i < 20; i++) {
      strictEqual(g.delayMs("say", 0), 0);
      strictEqual(g.check("say", 0).action, "allow");
    }
  });
  await t.step("then one token's time, and free requests never wait", () => {
    strictEqual(g.delayMs("say", 0), 100);
    strictEqual(g.delayMs("quit", 0), 0);
    strictEqual(g.delayMs("say", 100), 0);
  });
  await t.step("with --flood-backlog 0 nothing is delayed (it is refused instead)", () => {
    const refuser = new FloodGuard({ ...LIMITS, backlog: 0 }, 0);
    for (let i = 0; i < 20; i++) refuser.check("say", 0);
    strictEqual(refuser.delayMs("say", 0), 0);
    strictEqual(refuser.check("say", 0).action, "reject");
  });
});

Deno.test("FloodGuard limits messages and names the limit and the wait", async (t) => {
  const g = new FloodGuard(LIMITS, 0);
  await t.step("20 at once pass", () => {
    for (let i = 0; i < 20; i++) strictEqual(g.check("say", 0).action, "allow");
  });
  await t.step("the 21st is refused with the limit and the wait", () => {
    deepStrictEqual(g.check("say", 40), {
      action: "reject",
      waitMs: 60,
      message: "slow down: at most 10 messages per second; try again in 0.1 s",
    });
  });
  await t.step("after waiting, one more passes", () => {
    strictEqual(g.check("msg", 100).action, "allow");
  });
  await t.step("quit is never refused", () => {
    strictEqual(g.check("quit", 100).action, "allow");
  });
  await t.step("refusals beyond the strikes disconnect", () => {
    const actions = [];
    for (let i = 0; i < 6; i++) actions.push(g.check("say", 100).action);
    deepStrictEqual(actions, ["reject", "reject", "reject", "reject", "disconnect", "disconnect"]);
  });
});

Deno.test("FloodGuard forgives one strike a second", () => {
  const g = new FloodGuard({ ...LIMITS, msgBurst: 1, msgRate: 1 }, 0);
  strictEqual(g.check("say", 0).action, "allow");
  // One request over the limit every 0.5 s, for a minute: refused each time, never disconnected.
  for (let t = 500; t < 60_000; t += 1000) {
    strictEqual(g.check("say", t).action, "reject", `at ${t}`);
    strictEqual(g.check("say", t + 500).action, "allow", `at ${t + 500}`);
  }
});

Deno.test("FloodGuard limits renames and who on their own", async (t) => {
  const g = new FloodGuard(LIMITS, 0);
  await t.step("renames: 3 at once, then one per 20 s", () => {
    for (let i = 0; i < 3; i++) strictEqual(g.check("rename", 0).action, "allow");
    const v = g.check("rename", 0);
    strictEqual(v.action, "reject");
    if (v.action === "reject") {
      strictEqual(v.message, "slow down: at most 3 renames per minute; try again in 20.0 s");
    }
    strictEqual(g.check("rename", 20_000).action, "allow");
  });
  await t.step("a refused rename costs no message token", () => {
    const h = new FloodGuard({ ...LIMITS, msgBurst: 4, renamesPerMinute: 1 }, 0);
    strictEqual(h.check("rename", 0).action, "allow");
    strictEqual(h.check("rename", 0).action, "reject");
    strictEqual(h.check("rename", 0).action, "reject");
    for (let i = 0; i < 3; i++) strictEqual(h.check("say", 0).action, "allow");
  });
  await t.step("who", () => {
    for (let i = 0; i < 5; i++) strictEqual(g.check("who", 30_000).action, "allow");
    const v = g.check("who", 30_000);
    ok(v.action === "reject" && v.message.includes("at most 5 who requests per minute"));
  });
  await t.step("0 turns a limit off", () => {
    const off = new FloodGuard(
      { ...LIMITS, msgRate: 0, renamesPerMinute: 0, whoPerMinute: 0, byteRate: 0 },
      0,
    );
    for (let i = 0; i < 1000; i++) {
      strictEqual(off.check((["say", "rename", "who"] as const)[i % 3], 0).action, "allow");
    }
    strictEqual(off.onRead(10_000_000, 0, 0, 0).action, "allow");
  });
});

Deno.test("FloodGuard limits bytes", async (t) => {
  await t.step("lines after a byte burst are refused until it is repaid", () => {
    const g = new FloodGuard(LIMITS, 0);
    strictEqual(g.onRead(64 * 1024, 0, 10, 0).action, "allow");
    strictEqual(g.check("say", 0).action, "allow");
    strictEqual(g.onRead(8 * 1024, 0, 1, 0).action, "allow");
    const v = g.check("say", 0);
    deepStrictEqual(v, {
      action: "reject",
      waitMs: 500,
      message: "slow down: at most 16 KiB per second; try again in 0.5 s",
    });
    strictEqual(g.check("say", 500).action, "allow");
  });
  await t.step("a whole extra burst beyond the allowance disconnects (blank-line floods)", () => {
    const g = new FloodGuard(LIMITS, 0);
    strictEqual(g.onRead(64 * 1024, 0, 0, 0).action, "allow");
    strictEqual(g.onRead(64 * 1024, 0, 0, 0).action, "allow");
    const v = g.onRead(1, 0, 0, 0);
    deepStrictEqual(v, {
      action: "disconnect",
      message: "at most 16 KiB per second exceeded; closing the connection",
    });
  });
});

Deno.test("FloodGuard.stalled: slowloris and nothing useful, but not silent readers", async (t) => {
  await t.step("a silent connection is never stalled (nc users read without typing)", () => {
    const g = new FloodGuard(LIMITS, 0);
    strictEqual(g.stalled(1_000_000), undefined);
  });
  await t.step("a line trickled byte by byte is closed after the line timeout", () => {
    const g = new FloodGuard(LIMITS, 0);
    for (let t = 0; t < 10_000; t += 1000) {
      g.onRead(1, t / 1000 + 1, 0, t);
      strictEqual(g.stalled(t), undefined);
    }
    strictEqual(g.stalled(10_000), "line_timeout");
  });
  await t.step("a partial line's clock restarts when a line completes", () => {
    const g = new FloodGuard(LIMITS, 0);
    g.onRead(5, 0, 1, 0); // "hello\n"
    g.onRead(3, 3, 0, 8_000); // "abc"
    strictEqual(g.stalled(17_000), undefined);
    g.onRead(6, 2, 1, 17_000); // "def\nxy": a line completes, "xy" starts a new one
    strictEqual(g.stalled(26_000), undefined);
    strictEqual(g.stalled(27_000), "line_timeout");
    g.onRead(1, 0, 1, 26_000); // "\n"
    strictEqual(g.stalled(1_000_000), undefined);
  });
  await t.step("bytes but never a line: nothing useful", () => {
    const g = new FloodGuard(LIMITS, 0);
    g.onRead(3, 0, 0, 1000); // "\n\n\n"
    strictEqual(g.stalled(9_999), undefined);
    strictEqual(g.stalled(10_000), "nothing_useful");
  });
  await t.step("once a line came, blank lines are fine", () => {
    const g = new FloodGuard(LIMITS, 0);
    g.onRead(4, 0, 1, 0);
    g.onRead(1, 0, 0, 5_000);
    strictEqual(g.stalled(100_000), undefined);
  });
  await t.step("0 turns it off", () => {
    const g = new FloodGuard({ ...LIMITS, lineTimeoutMs: 0 }, 0);
    g.onRead(1, 1, 0, 0);
    strictEqual(g.stalled(1e9), undefined);
  });
});

Deno.test("ConnectionLimiter", async (t) => {
  await t.step("at most N open per address", () => {
    const l = new ConnectionLimiter({ maxConns: 100, maxConnsPerIp: 2, connsPerMinute: 0 });
    const a = l.admit("10.0.0.1", 0);
    const b = l.admit("10.0.0.1", 0);
    const c = l.admit("10.0.0.1", 0);
    ok(a.ok && b.ok && !c.ok);
    strictEqual(c.reason, "too_many_conns");
    strictEqual(c.message, "too many connections from your address: at most 2 at once");
    ok(l.admit("10.0.0.2", 0).ok, "another address is not affected");
    l.release(a.key);
    ok(l.admit("10.0.0.1", 0).ok, "a released slot is free again");
  });
  await t.step("the whole-server cap", () => {
    const l = new ConnectionLimiter({ maxConns: 2, maxConnsPerIp: 0, connsPerMinute: 0 });
    ok(l.admit("a", 0).ok && l.admit("b", 0).ok);
    const r = l.admit("c", 0);
    ok(!r.ok);
    strictEqual(r.message, "server is full, try again later");
    strictEqual(l.open, 2);
  });
  await t.step("new connections per minute per address", () => {
    const l = new ConnectionLimiter({ maxConns: 0, maxConnsPerIp: 0, connsPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      const a = l.admit("10.0.0.1", 0);
      ok(a.ok);
      l.release(a.key);
    }
    const r = l.admit("10.0.0.1", 0);
    ok(!r.ok);
    strictEqual(r.reason, "conn_rate");
    strictEqual(
      r.message,
      "too many new connections from your address: at most 3 per minute; try again in 20.0 s",
    );
    ok(l.admit("10.0.0.1", 20_000).ok);
  });
  await t.step("prune forgets idle addresses once their bucket refilled", () => {
    const l = new ConnectionLimiter({ maxConns: 0, maxConnsPerIp: 5, connsPerMinute: 60 });
    const a = l.admit("10.0.0.1", 0);
    ok(a.ok);
    l.prune(120_000);
    strictEqual(l.tracked, 1, "an open connection is remembered");
    l.release(a.key);
    l.prune(0);
    strictEqual(l.tracked, 1, "a recent connect is remembered");
    l.prune(1_000);
    strictEqual(l.tracked, 0);
  });
  await t.step("release is idempotent and never goes negative", () => {
    const l = new ConnectionLimiter({ maxConns: 1, maxConnsPerIp: 1, connsPerMinute: 0 });
    const a = l.admit("x", 0);
    ok(a.ok);
    l.release(a.key);
    l.release(a.key);
    l.release("nobody");
    strictEqual(l.open, 0);
    ok(l.admit("x", 0).ok);
    ok(!l.admit("y", 0).ok);
  });
});

Deno.test("addressKey counts IPv6 by /64", () => {
  strictEqual(addressKey("192.0.2.1"), "192.0.2.1");
  strictEqual(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
  strictEqual(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  strictEqual(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  strictEqual(addressKey("2001:DB8:0001:0002::9"), "2001:db8:1:2::/64");
  strictEqual(addressKey("2001:db8::1"), "2001:db8:0:0::/64");
  strictEqual(addressKey("::1"), "0:0:0:0::/64");
  strictEqual(addressKey("fe80::"), "fe80:0:0:0::/64");
});

Deno.test("formatWait rounds up to a tenth of a second", () => {
  strictEqual(formatWait(0), "0.1 s");
  strictEqual(formatWait(400), "0.4 s");
  strictEqual(formatWait(401), "0.5 s");
  strictEqual(formatWait(59_999), "60.0 s");
  strictEqual(formatWait(90_000), "1.5 min");
});

function serve(args: string[]): ServerConfig {
  const c = parseServerArgs(args);
  if (c.kind !== "serve") throw new Error(c.kind);
  return c.config;
}

Deno.test("server flags for the limits", async (t) => {
  await t.step("defaults", () => {
    const c = serve([]);
    deepStrictEqual(c.conns, { maxConns: 10_000, maxConnsPerIp: 20, connsPerMinute: 60 });
    strictEqual(c.flood.msgRate, 10);
    strictEqual(c.flood.msgBurst, 20);
    strictEqual(c.flood.lineTimeoutMs, 10_000);
    strictEqual(c.plain, true);
    strictEqual(c.tls, undefined);
  });
  await t.step("every flag", () => {
    const c = serve([
      "--max-conns=5",
      "--max-conns-per-ip",
      "0",
      "--conn-rate",
      "7",
      "--msg-rate",
      "3",
      "--msg-burst",
      "4",
      "--byte-rate",
      "1KiB",
      "--byte-burst",
      "8KiB",
      "--rename-rate",
      "2",
      "--who-rate",
      "0",
      "--flood-strikes",
      "9",
      "--flood-backlog",
      "30",
      "--line-timeout",
      "2.5s",
    ]);
    deepStrictEqual(c.conns, { maxConns: 5, maxConnsPerIp: 0, connsPerMinute: 7 });
    deepStrictEqual(c.flood, {
      msgRate: 3,
      msgBurst: 4,
      byteRate: 1024,
      byteBurst: 8192,
      renamesPerMinute: 2,
      whoPerMinute: 0,
      strikes: 9,
      lineTimeoutMs: 2500,
      backlog: 30,
    });
  });
  await t.step("parsing never changes the defaults", () => {
    serve(["--msg-rate", "1", "--max-conns", "1"]);
    strictEqual(SERVER_DEFAULTS.flood.msgRate, 10);
    strictEqual(SERVER_DEFAULTS.conns.maxConns, 10_000);
  });
  await t.step("TLS", () => {
    const c = serve(["--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-port", "0", "--no-plain"]);
    deepStrictEqual(c.tls, { certFile: "c.pem", keyFile: "k.pem", port: 0 });
    strictEqual(c.plain, false);
    strictEqual(serve(["--tls-cert", "c", "--tls-key", "k"]).tls?.port, 8889);
  });
  const bad: [string[], string][] = [
    [["--msg-rate", "-1"], '--msg-rate expects a whole number from 0 to 1000000; got "-1"'],
    [["--msg-burst", "0"], '--msg-burst expects a whole number from 1 to 1000000; got "0"'],
    [["--byte-rate", "lots"], '--byte-rate expects a size like 8192, 8KiB, 1MiB; got "lots"'],
    [
      ["--byte-burst", "1KiB"],
      "--byte-burst 1KiB is too small: --max-line (default 8KiB) must be at most it, or no line could be sent",
    ],
    [
      ["--line-timeout", "soon"],
      '--line-timeout expects a duration like 60, 500ms, 2m; got "soon"',
    ],
    [["--tls-cert", "c.pem"], "--tls-cert needs --tls-key FILE too"],
    [["--tls-key", "k.pem"], "--tls-key needs --tls-cert FILE too"],
    [["--tls-port", "9"], "--tls-port needs --tls-cert FILE and --tls-key FILE"],
    [["--no-plain"], "--no-plain needs --tls-cert and --tls-key, or nothing would listen"],
    [
      ["--tls-cert", "c", "--tls-key", "k", "--tls-port", "8888"],
      "--tls-port must differ from --port (or use --no-plain)",
    ],
  ];
  for (const [args, message] of bad) {
    await t.step(`${args.join(" ")} → ${message}`, () => {
      throws(() => parseServerArgs(args), (e) => e instanceof UsageError && e.message === message);
    });
  }
});

Deno.test("FloodGuard charges each request type to its rate class in the request table", () => {
  const limits = { ...LIMITS_FOR_TABLE };
  for (const [type, facts] of Object.entries(REQUESTS)) {
    const g = new FloodGuard(limits, 0);
    // One message token in all: a second request of any class but `free` is refused.
    strictEqual(g.check(type as keyof typeof REQUESTS, 0).action, "allow", type);
    const second = g.check(type as keyof typeof REQUESTS, 0).action;
    strictEqual(second, facts.rate === "free" ? "allow" : "reject", type);
  }
  // With message tokens to spare, rename and who still stop at their own bucket.
  for (const type of ["rename", "who"] as const) {
    const g = new FloodGuard({ ...limits, msgBurst: 100, msgRate: 100 }, 0);
    strictEqual(g.check(type, 0).action, "allow");
    strictEqual(g.check(type, 0).action, "reject", type);
    strictEqual(g.check("say", 0).action, "allow", `say after ${type}`);
  }
});

const LIMITS_FOR_TABLE = {
  msgRate: 1,
  msgBurst: 1,
  byteRate: 0,
  byteBurst: 0,
  renamesPerMinute: 1,
  whoPerMinute: 1,
  strikes: 0,
  lineTimeoutMs: 0,
  backlog: 0,
};
