/**
 * Many clients connecting at once (a restart, a network blip): every one is accepted and served
 * (a `who` lists them all), and the announcements of their arrivals, which may follow a little
 * later, all arrive, in the same order for everyone.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { LineClient } from "../helpers/lines.ts";
import { startServer } from "../helpers/server.ts";

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
