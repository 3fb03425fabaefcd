import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { badNick, hostOf, nameOf, nickOf } from "../../../../lib/server/irc/irc_names.ts";
import { validateName } from "../../../../lib/shared/names.ts";

Deno.test("nickOf and nameOf are inverses on names and guest addresses", () => {
  for (const name of ["alice", "jo.ann", "Zoë_99", "a-b.c", "127.0.0.1:5000", "[::1]:5000"]) {
    assertEquals(nameOf(nickOf(name)), name);
    assertEquals(badNick(nickOf(name)), undefined, name);
  }
  assertEquals(nickOf("jo.ann"), "jo|ann");
  assertEquals(nickOf("127.0.0.1:5000"), "127|0|0|1^5000");
});

Deno.test("no nick can name a guest's address as a chosen name: the core refuses it", () => {
  // "1|2|3|4^5" stands for the address-shaped "1.2.3.4:5", which validateName refuses, so nobody
  // can take a guest's name by renaming from IRC.
  assertEquals(validateName(nameOf("127|0|0|1^5000")).ok, false);
  // "|" and "^" are not FastIM name characters, so no FastIM name maps onto another's nick.
  assertEquals(validateName("jo|ann").ok, false);
});

Deno.test("badNick refuses what IRC nicks may not hold", () => {
  assertEquals(badNick("#x") !== undefined, true);
  assertEquals(badNick("a b") !== undefined, true);
  assertEquals(badNick("a.b")?.includes('"|"'), true);
  assertEquals(badNick("a!b") !== undefined, true);
  assertEquals(badNick("ok_nick-1"), undefined);
});

Deno.test("hostOf shows the IP of an address", () => {
  assertEquals(hostOf("127.0.0.1:5000"), "127.0.0.1");
  assertEquals(hostOf("[::1]:5000"), "0::1");
  assertEquals(hostOf(undefined), "fastim");
});
