/**
 * Three FastIM nodes joined through a real `redis-server` (`--redis`): one chat across them, for
 * text, JSON and WebSocket clients on every node; one order per room; unique names under a race;
 * a SIGKILLed node; Redis restarted in the middle of traffic.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { connectText, JsonClient, LineClient } from "../helpers/lines.ts";
import { httpPort, ircPort, startServer, type TestServer } from "../helpers/server.ts";
import { IrcClient } from "../helpers/irc.ts";
import { hasRedis, startRedis, type TestRedis } from "../helpers/redis.ts";
import { WsClient } from "../helpers/ws.ts";
import { ClientProcess } from "../helpers/client.ts";

const ignore = !hasRedis() && !Deno.env.get("CI");

/** Flags that leave the core protocol alone (no flood control in the way of a burst). */
const QUIET = [
  ...["--msg-rate", "0", "--byte-rate", "0", "--rename-rate", "0", "--who-rate", "0"],
  ...["--max-conns-per-ip", "1000", "--conn-rate", "0"],
];

/** A `who` reply line, `[ADDR],NAME:online` (no space after the comma, unlike events). */
const WHO_LINE = /^\[[^\]]+\],\S.*:online$/;

/** Starts `n` nodes of one cluster on `redis`. */
async function nodes(redis: TestRedis, n = 3, args: string[] = []): Promise<TestServer[]> {
  const started: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    // One thread per node (a cluster node refuses --workers, which test:workers would add).
    const flags = ["--redis", redis.url, "--cluster", "t", "--workers", "1", ...QUIET, ...args];
    started.push(await startServer(flags));
  }
  return started;
}

async function stopAll(servers: TestServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.stop().catch(() => {})));
}

/** A text client on `port` named `name`, once the rename is seen. */
async function named(port: number, name: string): Promise<LineClient> {
  const c = await connectText(port);
  await c.send(`rename|${name}`);
  await c.readUntil((l) => l === `You renamed to ${name}`, 5000);
  return c;
}

Deno.test({
  name: "cluster: text, JSON and WebSocket users on three nodes share one chat",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis);
    try {
      const [a, b, c] = servers;
      using alice = await named(a.port, "alice");
      using bob = await named(b.port, "bob");
      using carol = await JsonClient.connect(c.port, { name: "carol" });
      strictEqual(carol.welcome.name, "carol");
      const online = (carol.welcome.online as { name: string }[]).map((u) => u.name);
      ok(online.includes("alice") && online.includes("bob"), `welcome lists all: ${online}`);
      const ws = await WsClient.connect(await httpPort(a), { name: "dave" });
      try {
        // Presence crosses nodes: alice (node a) sees dave, who joined node a over WebSocket,
        // and carol (node c) sees him too.
        await carol.readUntil((f) => f.type === "presence" && f.name === "dave", 5000);

        // who, asked on node b, lists everyone on every node.
        await bob.send("who");
        const who: string[] = [];
        while (who.length < 4) who.push(await bob.readUntil((l) => WHO_LINE.test(l), 5000));
        for (const name of ["alice", "bob", "carol", "dave"]) {
          ok(who.some((l) => l.endsWith(`,${name}:online`)), `${name} in who: ${who}`);
        }

        // An IRC user on node b is in the same chat.
        const erin = await IrcClient.register(await ircPort(b), "erin");
        // A public message from node a reaches node b (text, IRC), c (JSON) and the browser (a).
        await alice.send("hello from a");
        await erin.expect(/^:alice!\S+ PRIVMSG #lobby :hello from a$/, 5000);
        await bob.readUntil((l) => l.endsWith("alice:hello from a"), 5000);
        const pub = await carol.readUntil((f) => f.type === "public", 5000);
        strictEqual(pub.text, "hello from a");
        strictEqual(pub.from, "alice");
        await ws.readUntil((f) => f.type === "public" && f.text === "hello from a");
        // The IRC user (node b) writes privately to carol (node c).
        await erin.send("PRIVMSG carol :from irc");
        const fromIrc = await carol.readUntil((f) => f.type === "private", 5000);
        strictEqual(fromIrc.text, "from irc");
        erin.close();

        // A private message from node c to a user on node b, acknowledged with its id.
        const sent = await carol.request({ type: "msg", to: "bob", text: "psst" });
        strictEqual(sent.type, "ok");
        ok(typeof sent.msgId === "number");
        await bob.readUntil((l) => l === "carol sent you a message: psst", 5000);

        // The browser's user answers carol privately, from node a to node c.
        const back = await ws.request({ type: "msg", to: "carol", text: "hi carol" });
        strictEqual(back.type, "ok");
        const priv = await carol.readUntil((f) => f.type === "private", 5000);
        strictEqual(priv.from, "dave");
        strictEqual(priv.text, "hi carol");

        // A room across nodes: bob (b) and carol (c) join #ops; carol hears bob there.
        await bob.send("join|#ops");
        await bob.readUntil((l) => l.includes("#ops"), 5000);
        strictEqual((await carol.request({ type: "join", room: "#ops" })).type, "ok");
        await bob.send("to|#ops|ops only");
        const inRoom = await carol.readUntil((f) => f.type === "public" && f.room === "#ops", 5000);
        strictEqual(inRoom.text, "ops only");

        // History is shared: node b's history has node a's message.
        const hist = await carol.request({ type: "history", limit: 10 });
        ok(
          (hist.messages as { text: string }[]).some((m) => m.text === "hello from a"),
          JSON.stringify(hist),
        );

        // Leaving on one node is offline everywhere.
        alice.close();
        await carol.readUntil(
          (f) => f.type === "presence" && f.name === "alice" && f.event === "offline",
          5000,
        );
      } finally {
        ws.close();
      }
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name: "cluster: messages sent at once on three nodes arrive in one order everywhere",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis);
    try {
      const users = await Promise.all(
        servers.map((s, i) => JsonClient.connect(s.port, { name: `u${i}` })),
      );
      // Everyone has seen everyone come online before the burst (in whatever order).
      for (const u of users) {
        const seen = new Set((u.welcome.online as { name: string }[]).map((o) => o.name));
        while (!["u0", "u1", "u2"].every((n) => seen.has(n))) {
          const f = await u.read(5000);
          if (f.type === "presence") seen.add(f.name as string);
        }
      }
      const PER_NODE = 30;
      // Each user sends its lines without waiting for replies; the replies come back in order.
      await Promise.all(users.map(async (u, i) => {
        for (let n = 0; n < PER_NODE; n++) await u.send({ type: "say", id: n, text: `${i}:${n}` });
      }));
      const seen = await Promise.all(users.map(async (u) => {
        const texts: string[] = [];
        const ids: number[] = [];
        while (texts.length < 3 * PER_NODE) {
          const f = await u.read(10_000);
          if (f.type === "public") {
            texts.push(f.text as string);
            ids.push(f.msgId as number);
          }
        }
        return { texts, ids };
      }));
      deepStrictEqual(seen[1].texts, seen[0].texts, "node b saw node a's order");
      deepStrictEqual(seen[2].texts, seen[0].texts, "node c saw node a's order");
      deepStrictEqual(seen[0].ids, [...seen[0].ids].sort((x, y) => x - y), "ids grow in order");
      strictEqual(new Set(seen[0].ids).size, 3 * PER_NODE, "ids are unique");
      for (const u of users) u.close();
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name: "cluster: 100 concurrent renames to one name over three nodes: exactly one wins",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis);
    try {
      const clients = await Promise.all(
        Array.from({ length: 100 }, (_, i) => JsonClient.connect(servers[i % 3].port)),
      );
      const replies = await Promise.all(
        clients.map((c) => c.request({ type: "rename", name: "Highlander" }, 15_000)),
      );
      const won = replies.filter((r) => r.type === "ok");
      strictEqual(won.length, 1, JSON.stringify(replies.filter((r) => r.type === "ok")));
      ok(replies.filter((r) => r.type === "error").every((r) => r.code === "name_taken"));
      for (const c of clients) c.close();
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name: "cluster: a SIGKILLed node's users are offline everywhere within 10 s, names free again",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis);
    try {
      const [a, b, c] = servers;
      using alice = await JsonClient.connect(a.port, { name: "alice" });
      using bob = await JsonClient.connect(b.port, { name: "bob" });
      await named(c.port, "carol");
      await alice.readUntil((f) => f.type === "presence" && f.name === "carol", 5000);
      await bob.readUntil((f) => f.type === "presence" && f.name === "carol", 5000);
      const killed = Date.now();
      await c.stop("SIGKILL");
      for (const u of [alice, bob]) {
        await u.readUntil(
          (f) => f.type === "presence" && f.name === "carol" && f.event === "offline",
          10_000,
        );
      }
      const took = Date.now() - killed;
      ok(took < 10_000, `offline after ${took} ms`);
      const who = await alice.request({ type: "who" });
      deepStrictEqual((who.users as { name: string }[]).map((u) => u.name).sort(), [
        "alice",
        "bob",
      ]);
      // The name is free: someone on another node takes it.
      strictEqual((await bob.request({ type: "rename", name: "carol" })).type, "ok");
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name: "cluster: Redis restarted mid-traffic: connections kept, unavailable meanwhile, every " +
    "acknowledged message in history exactly once",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis);
    try {
      const users = await Promise.all(
        servers.map((s, i) => JsonClient.connect(s.port, { name: `s${i}` })),
      );
      const acked: string[] = [];
      const refused: string[] = [];
      let sending = true;
      /** Why a sender stopped early, with what the nodes logged. */
      let failure: Error | undefined;
      // Each user sends one message at a time, as fast as it is answered.
      const senders = users.map(async (u, i) => {
        try {
          for (let n = 0; sending; n++) {
            const text = `m${i}-${n}`;
            const reply = await u.request({ type: "say", text }, 15_000);
            if (reply.type === "ok") acked.push(text);
            else {
              strictEqual(reply.code, "unavailable", JSON.stringify(reply));
              refused.push(text);
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        } catch (e) {
          if (!sending) return;
          const logs = servers.map((s, k) => `node ${k}:\n${s.stderr()}`).join("\n");
          failure ??= new Error(`sender s${i} failed: ${e}\n${logs}`);
        }
      });
      const traffic = async (pred: () => boolean, what: string, ms?: number) => {
        await waitFor(() => pred() || failure !== undefined, what, ms);
        if (failure) throw failure;
      };
      const health = `http://127.0.0.1:${await httpPort(servers[0])}/healthz`;
      try {
        await traffic(() => acked.length >= 30, "traffic before the outage");
        await redis.stop();
        await traffic(() => refused.length >= 6, "refusals while Redis is down");
        // A load balancer asking /healthz is told to send new clients elsewhere.
        const down = await fetch(health);
        deepStrictEqual([down.status, await down.text()], [
          503,
          "unavailable: this node cannot reach Redis\n",
        ]);
        await redis.restart();
        const before = acked.length;
        await traffic(() => acked.length >= before + 30, "traffic after Redis is back", 20_000);
      } finally {
        sending = false;
        await Promise.all(senders);
      }
      if (failure) throw failure;

      const up = await fetch(health);
      deepStrictEqual([up.status, await up.text()], [200, "ok\n"]);
      // Every node's history has each acknowledged message exactly once.
      for (const u of users) {
        const hist = await u.request({ type: "history", limit: 500 });
        const texts = (hist.messages as { text: string }[]).map((m) => m.text);
        for (const text of acked) {
          strictEqual(texts.filter((t) => t === text).length, 1, `${text} once in history`);
        }
      }
      // Nobody was disconnected, and each node said what happened once, not per request.
      for (const u of users) strictEqual((await u.request({ type: "ping" })).type, "ok");
      for (const s of servers) {
        const log = s.stderr();
        strictEqual(log.match(/redis unreachable/g)?.length, 1, log);
        strictEqual(log.match(/redis reachable again/g)?.length, 1, log);
      }
      for (const u of users) u.close();
    } finally {
      await stopAll(servers);
    }
  },
});

/** Polls `pred` until it holds; throws after `ms`. */
async function waitFor(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "cluster: accounts, the offline inbox and bans are shared; a node started later " +
    "catches up",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis, 2, ["--admin", "root"]);
    try {
      const [a, b] = servers;
      // root registers on node a and is an operator on node b.
      const first = await JsonClient.connect(a.port, { name: "root" });
      strictEqual(
        (await first.request({ type: "register", password: "operator pass" })).type,
        "ok",
      );
      first.close();
      // alice registers on node b, then leaves.
      const alice = await JsonClient.connect(b.port, { name: "alice" });
      strictEqual((await alice.request({ type: "register", password: "alice's pass" })).type, "ok");
      alice.close();
      using root = await JsonClient.connect(b.port, { name: "root", password: "operator pass" });
      strictEqual(root.welcome.account, "root");

      // A private message to offline alice waits in her inbox, shared by every node.
      const stored = await root.request({ type: "msg", to: "alice", text: "while you were out" });
      strictEqual(stored.type, "ok");
      strictEqual(stored.stored, true);

      // A third node, started now, has the whole chat: alice logs in there and gets it.
      servers.push(...await nodes(redis, 1, ["--admin", "root"]));
      const c = servers[2];
      using back = await JsonClient.connect(c.port, { name: "alice", password: "alice's pass" });
      strictEqual(back.welcome.account, "alice");
      const waiting = await back.readUntil((f) => f.type === "private", 5000);
      strictEqual(waiting.text, "while you were out");
      strictEqual(waiting.offline, true);
      // A wrong password is refused on any node.
      using wrong = await JsonClient.connect(a.port, { name: "alice", password: "not her pass" });
      strictEqual((wrong.welcome.nameError as { code: string }).code, "login_failed");

      // The operator on node b bans eve, who is on node a: she is kicked, and the name is
      // refused on node c.
      using eve = await named(a.port, "eve");
      await root.readUntil((f) => f.type === "presence" && f.name === "eve", 5000);
      strictEqual((await root.request({ type: "ban", target: "eve" })).type, "ok");
      await eve.readUntil((l) => l === "you are banned from this server", 5000);
      using again = await connectText(c.port);
      await again.send("rename|eve");
      await again.readUntil((l) => l === "this name is banned from this server", 5000);
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name: "cluster: the terminal client given --host a,b fails over to b when a goes away",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis, 2);
    try {
      const [a, b] = servers;
      const hosts = `127.0.0.1:${a.port},127.0.0.1:${b.port}`;
      await using client = ClientProcess.spawn(["--host", hosts, "--name", "phoenix"]);
      await client.waitForStderr(`connected to 127.0.0.1:${a.port} as phoenix`);
      await a.stop("SIGTERM");
      await client.waitForStderr(
        new RegExp(`reconnected to 127\\.0\\.0\\.1:${b.port} as phoenix`),
        10_000,
      );
      using bob = await JsonClient.connect(b.port, { name: "bob" });
      await client.write("still here\n");
      const f = await bob.readUntil((f) => f.type === "public", 5000);
      deepStrictEqual([f.from, f.text], ["phoenix", "still here"]);
      await client.closeStdin();
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name: "cluster: open connections per address are counted over every node",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers: TestServer[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        servers.push(
          await startServer([
            ...["--redis", redis.url, "--cluster", "t", "--workers", "1"],
            ...["--max-conns-per-ip", "2", "--conn-rate", "0"],
          ]),
        );
      }
      const [a, b] = servers;
      using first = await connectText(a.port);
      using second = await connectText(b.port);
      // A third from the same address is refused, on either node.
      for (const s of [a, b]) {
        using c = await LineClient.connect(s.port);
        deepStrictEqual(await c.readToEnd(), [
          "too many connections from your address: at most 2 at once",
        ]);
      }
      // One closes: its slot is free again, on the other node too.
      second.close();
      let again: LineClient | undefined;
      const deadline = Date.now() + 5000;
      while (!again && Date.now() < deadline) {
        const c = await LineClient.connect(a.port);
        if ((await c.readLine())?.endsWith(":online")) again = c;
        else c.close();
      }
      ok(again, "the freed slot is given to the next connection");
      again.close();
      first.close();
    } finally {
      await stopAll(servers);
    }
  },
});

Deno.test({
  name:
    "cluster: catch-up by id, search and read markers of lobby and private messages sent on another node",
  ignore,
  async fn() {
    await using redis = await startRedis();
    const servers = await nodes(redis, 2);
    try {
      const [a, b] = servers;
      using ann = await JsonClient.connect(a.port, { name: "ann" });
      strictEqual(
        (await ann.request({ type: "register", password: "ann-password" }, 5000)).type,
        "ok",
      );
      using bob = await JsonClient.connect(b.port, { name: "bob" });
      await ann.readUntil((f) => f.type === "presence" && f.name === "bob", 5000);
      for (const text of ["lobby one", "lobby two"]) {
        strictEqual((await bob.request({ type: "say", text }, 5000)).type, "ok");
      }
      strictEqual(
        (await bob.request({ type: "msg", to: "ann", text: "private three" }, 5000)).type,
        "ok",
      );
      await ann.readUntil((f) => f.type === "private", 5000);

      // Catch-up by id, on the node that did not see them sent.
      const lobby = await ann.request({ type: "catchup", target: "#lobby", after: 0 }, 5000);
      const said = (lobby.messages as Record<string, unknown>[])
        .filter((m) => String(m.text).startsWith("lobby "));
      deepStrictEqual(said.map((m) => m.text), ["lobby one", "lobby two"]);
      const after = await ann.request(
        { type: "catchup", target: "#lobby", after: said[0].msgId as number },
        5000,
      );
      deepStrictEqual(
        (after.messages as Record<string, unknown>[]).map((m) => m.text),
        ["lobby two"],
      );
      const priv = await ann.request({ type: "catchup", target: "private", after: 0 }, 5000);
      deepStrictEqual(
        (priv.messages as Record<string, unknown>[]).map((m) => [m.from, m.to, m.text]),
        [["bob", "ann", "private three"]],
      );

      // Search finds both kinds, newest first.
      const found = await ann.request({ type: "search", query: "THREE" }, 5000);
      deepStrictEqual((found.messages as Record<string, unknown>[]).map((m) => m.text), [
        "private three",
      ]);
      const lobbyFound = await ann.request({ type: "search", query: "lobby" }, 5000);
      deepStrictEqual((lobbyFound.messages as Record<string, unknown>[]).map((m) => m.text), [
        "lobby two",
        "lobby one",
      ]);

      // A read marker set on one node is the account's on the other.
      strictEqual(
        (await ann.request(
          { type: "mark", target: "#lobby", msgId: said[0].msgId as number },
          5000,
        ))
          .type,
        "ok",
      );
      ann.close();
      using again = await JsonClient.connect(b.port, { name: "ann2" });
      strictEqual(
        (await again.request({ type: "login", name: "ann", password: "ann-password" }, 5000)).type,
        "ok",
      );
      const markers = await again.request({ type: "markers" }, 5000);
      deepStrictEqual(markers.markers, [{ target: "#lobby", msgId: said[0].msgId, unread: 1 }]);
    } finally {
      await stopAll(servers);
    }
  },
});
