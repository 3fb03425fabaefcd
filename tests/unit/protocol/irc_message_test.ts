import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  escapeTag,
  formatIrcLine,
  parseIrcLine,
  unescapeTag,
} from "../../../lib/protocol/irc_message.ts";

Deno.test("parseIrcLine: tags, source, command, middle and trailing parameters", () => {
  assertEquals(
    parseIrcLine("@time=2026-01-01T00:00:00Z;+draft/x :alice!a@h privmsg #dev :hi  there"),
    {
      tags: { time: "2026-01-01T00:00:00Z", "+draft/x": "" },
      source: "alice!a@h",
      command: "PRIVMSG",
      params: ["#dev", "hi  there"],
    },
  );
  assertEquals(parseIrcLine("NICK   bob"), {
    tags: {},
    source: undefined,
    command: "NICK",
    params: ["bob"],
  });
  assertEquals(parseIrcLine("USER u 0 * :"), {
    tags: {},
    source: undefined,
    command: "USER",
    params: ["u", "0", "*", ""],
  });
  assertEquals(parseIrcLine("PING"), { tags: {}, source: undefined, command: "PING", params: [] });
});

Deno.test("parseIrcLine: every bad line is one error, never an exception", () => {
  for (const line of ["", "@a=b", ":src", "@a=b :src", "PRIV!MSG x", "@bad key=1 PING", "12 x"]) {
    const r = parseIrcLine(line);
    assertEquals("error" in r, true, line);
  }
  assertEquals("error" in parseIrcLine("A " + "x ".repeat(20)), true);
});

Deno.test("tag values escape and unescape as IRCv3 says", () => {
  assertEquals(escapeTag("a;b c\\d\r\n"), "a\\:b\\sc\\\\d\\r\\n");
  assertEquals(unescapeTag("a\\:b\\sc\\\\d\\r\\n"), "a;b c\\d\r\n");
  assertEquals(unescapeTag("\\x\\"), "x");
});

Deno.test("formatIrcLine: trailing parameter, tags, and no way to inject a line", () => {
  assertEquals(
    formatIrcLine({
      tags: { msgid: "7", time: "t" },
      source: "fastim",
      command: "001",
      params: ["al", "Welcome"],
    }),
    "@msgid=7;time=t :fastim 001 al :Welcome",
  );
  assertEquals(formatIrcLine({ tags: {}, command: "JOIN", params: ["#dev"] }), "JOIN #dev");
  assertEquals(formatIrcLine({ tags: {}, command: "TOPIC", params: ["#dev", ""] }), "TOPIC #dev :");
  const evil = formatIrcLine({
    tags: {},
    command: "PRIVMSG",
    params: ["#a b\r\nQUIT", "x\r\nQUIT :y"],
  });
  assertEquals(evil, "PRIVMSG #a_b__QUIT :x  QUIT :y");
});
