/**
 * Many clients connecting at once (a restart, a network blip): every one is accepted and served
 * (a `who` lists them all), and the announcements of their arrivals, which may follow a little
 * later, all arrive, in the same order for everyone.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { JsonClient, LineClient } from "../helpers/lines.ts";
import { httpPort, ircPort, startServer } from "../helpers/server.ts";
import { WsClient } from "../helpers/ws.ts";
import { IrcClient } from "../helpers/irc.ts";

const OPEN = [
  "--msg-rate",
  "0",
  "--byte-rate",
  "0",
  "--max-conns-per-ip",
  "0",
  "--conn-rate",
  "0",
  "--who-rate",
  "0",
  "--idle-timeout",
  "0",
];
/** More than the 511 pending connections Deno's listeners allowed by default. */
const STORM = 1500;
/** `[ADDR],NAME:online`, a line of a `who` reply (an arrival has a space after the comma). */
const WHO_LINE = /^\[([^\]]*)\],\S/;

Deno.test(`${STORM} connections at once are all served, and every arrival is announced in order`, async () => {
  await using server = await startServer(OPEN);
  const conns = await Promise.all(
    Array.from({ length: STORM }, () => LineClient.connect(server.port)),
  );
  try {
    // One more connection asks who is there until everybody is listed: only accepted, served
    // connections are. With --workers the edges' joins interleave, so the asker need not be the
    // last to join; an invalid private message after each `who` marks where its reply ends
    // (replies come in request order).
    const probe = await LineClient.connect(server.port);
    conns.push(probe);
    const expected = new Set(conns.map((c) => c.addr));
    let order: string[] = [];
    const deadline = Date.now() + 60_000;
    while (order.length < expected.size) {
      ok(Date.now() < deadline, `who lists ${order.length} of ${expected.size} after 60 s`);
      await probe.send("who");
      await probe.send("to||end of the who reply");
      order = [];
      await probe.readUntil((l) => {
        const who = WHO_LINE.exec(l);
        if (who) order.push(who[1]);
        return l === "Please input valid receiver name";
      }, 30_000);
    }
    deepStrictEqual(new Set(order), expected, "one who reply lists every connection once");
    const arrivals = order.map((addr) => `[${addr}], ${addr}:online`);
    // Every connection hears the arrivals from its own on, in join order.
    const last = arrivals[arrivals.length - 1];
    const heard = await Promise.all(conns.map(async (conn) => {
      if (!conn.received.includes(last)) await conn.readUntil((l) => l === last, 60_000);
      const got = conn.received.filter((l) => /^\[[^\]]*\], \S+:online$/.test(l));
      deepStrictEqual(
        got[0],
        `[${conn.addr}], ${conn.addr}:online`,
        "a newcomer hears itself first",
      );
      return got;
    }));
    for (const got of heard) {
      const own = arrivals.indexOf(got[0]);
      ok(own >= 0, `an unknown first line: ${got[0]}`);
      deepStrictEqual(got, arrivals.slice(own), "one connection heard another order");
    }
    ok(
      heard.some((got) => got.length === arrivals.length),
      "the first to join heard every arrival",
    );
  } finally {
    for (const c of conns) c.close();
  }
});

/** Arrivals enough to pass the core's budget of announcements made at once (presence_feed.ts). */
const MIXED_STORM = 700;

/**
 * The presence lines of a storm wait in the core's log and are handed out afterwards: a JSON, a
 * WebSocket and an IRC user each still hear every arrival, and never get a `who` (IRC: `NAMES`)
 * that lists someone whose arrival they have not yet heard.
 */
Deno.test("a storm's arrivals reach JSON, WebSocket and IRC users before their who lists them", async () => {
  await using server = await startServer(OPEN);
  using jay = await JsonClient.connect(server.port, { name: "jay" });
  using wes = await WsClient.connect(await httpPort(server), { name: "wes" });
  using iris = await IrcClient.register(await ircPort(server), "iris");
  // Only what comes after the three are set up counts: until it named itself, each of them was
  // named after its address, and the system may give a storm connection the same local port
  // (to another server port), so the same name.
  await jay.readUntil((f) => f.type === "presence" && f.name === "iris", 5000);
  await wes.readUntil((f) => f.type === "presence" && f.name === "iris", 5000);
  const jayFrom = jay.lines.received.length;
  const wesFrom = wes.received.length;
  const conns = await Promise.all(
    Array.from({ length: MIXED_STORM }, () => LineClient.connect(server.port)),
  );
  try {
    const storm = new Set(conns.map((c) => c.addr));
    /** Asks until a reply lists the whole storm; checks each reply against what came before it. */
    const untilAllListed = async (
      who: string,
      ask: () => Promise<{ listed: string[]; heardBefore: Set<string> }>,
    ) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { listed, heardBefore } = await ask();
        const unheard = listed.filter((name) => storm.has(name) && !heardBefore.has(name));
        deepStrictEqual(unheard, [], `${who}: listed before their arrival was heard`);
        if ([...storm].every((addr) => listed.includes(addr))) return heardBefore;
        ok(Date.now() < deadline, `${who}: not everyone listed after 60 s`);
      }
    };
    const jsonAsk = (
      received: string[],
      from: number,
      request: (f: Record<string, unknown>) => unknown,
    ) => {
      return async () => {
        const id = crypto.randomUUID();
        const reply = await request({ type: "who", id }) as { users: { name: string }[] };
        const at = received.findIndex((l) => l.includes(id));
        const heardBefore = new Set(
          frames(received.slice(from, at)).filter((f) =>
            f.type === "presence" && f.event === "online"
          )
            .map((f) => f.name as string),
        );
        return { listed: reply.users.map((u) => u.name), heardBefore };
      };
    };
    const jsonHeard = await untilAllListed(
      "JSON",
      jsonAsk(jay.lines.received, jayFrom, (f) => jay.request(f, 30_000)),
    );
    const wsHeard = await untilAllListed(
      "WebSocket",
      jsonAsk(wes.received, wesFrom, (f) => wes.request(f)),
    );
    const ircHeard = await untilAllListed("IRC", async () => {
      const before = iris.lines.received.length;
      await iris.send("NAMES #lobby");
      await iris.expect(/ 366 iris #lobby /, 30_000);
      const lines = iris.lines.received.slice(before);
      const listed = lines.filter((l) => / 353 iris = #lobby :/.test(l))
        .flatMap((l) => l.slice(l.indexOf(" :") + 2).split(" ")).map(nameOfNick);
      const heardBefore = new Set(
        iris.lines.received.map((l) => / JOIN :?#lobby$/.test(l) ? JOIN_SOURCE.exec(l) : null)
          .filter((m) => m !== null).map((m) => nameOfNick(m[1])),
      );
      return { listed, heardBefore };
    });
    for (const [who, heard] of [["JSON", jsonHeard], ["WebSocket", wsHeard], ["IRC", ircHeard]]) {
      deepStrictEqual(
        [...storm].filter((addr) => !(heard as Set<string>).has(addr)),
        [],
        `${who} missed arrivals`,
      );
    }
    // In join order, as the storm's own connections heard them.
    const order = frames(jay.lines.received.slice(jayFrom)).filter((f) =>
      f.type === "presence" && f.event === "online" && storm.has(String(f.name))
    ).map((f) => f.name);
    const first = conns.find((c) => c.addr === order[0])!;
    const last = `[${order.at(-1)}], ${order.at(-1)}:online`;
    if (!first.received.includes(last)) await first.readUntil((l) => l === last, 60_000);
    const textOrder = first.received.filter((l) => /^\[[^\]]*\], \S+:online$/.test(l))
      .map((l) => l.slice(1, l.indexOf("]")));
    deepStrictEqual(textOrder, order, "JSON and text heard one order");
  } finally {
    for (const c of conns) c.close();
  }
});

/** `:NICK!USER@HOST JOIN #lobby`: the nick. */
const JOIN_SOURCE = /^(?:@\S+ )?:([^!\s]+)!/;

/** A FastIM name from an IRC nick (lib/server/irc/irc_names.ts: `.` is `|`, `:` is `^`). */
function nameOfNick(nick: string): string {
  return nick.replace(/^@/, "").replaceAll("|", ".").replaceAll("^", ":");
}

/** The JSON frames among `lines` (a server may send a text line before the hello's welcome). */
function frames(lines: string[]): Record<string, unknown>[] {
  return lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
