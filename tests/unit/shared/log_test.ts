import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { droppingSink, Logger } from "../../../lib/shared/log.ts";

/** Logs one `info` event with `fields` and returns the line without its timestamp. */
function logged(fields: Record<string, unknown>): string {
  const lines: string[] = [];
  new Logger("info", (line) => lines.push(line)).info("event", fields);
  strictEqual(lines.length, 1);
  const line = lines[0];
  ok(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO event/.test(line), line);
  return line.slice(line.indexOf(" INFO ") + 6);
}

/** Raw control (C0, DEL, C1), bidi and line-separator characters that must never reach a log. */
// deno-lint-ignore no-control-regex -- matching control characters is the point here
const RAW_UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

Deno.test("Logger writes plain values bare and quotes the rest", async (t) => {
  await t.step("plain values are written as is", () => {
    strictEqual(
      logged({ addr: "127.0.0.1:5000", n: 3, ok: true }),
      "event addr=127.0.0.1:5000 n=3 ok=true",
    );
  });
  await t.step("spaces, quotes, = and empty values are JSON-quoted", () => {
    strictEqual(
      logged({ a: "two words", b: 'say"hi', c: "k=v", d: "" }),
      'event a="two words" b="say\\"hi" c="k=v" d=""',
    );
  });
  await t.step("an Error is written as its message", () => {
    strictEqual(logged({ error: new Error("boom") }), "event error=boom");
  });
  await t.step("non-ASCII text that is not a control stays readable", () => {
    strictEqual(logged({ name: "Zoë", city: "東京" }), "event name=Zoë city=東京");
  });
  await t.step("levels below the minimum are not written", () => {
    const lines: string[] = [];
    new Logger("warn", (line) => lines.push(line)).info("event", { a: 1 });
    deepStrictEqual(lines, []);
  });
});

Deno.test("Logger escapes control and bidi characters in values", async (t) => {
  const cases: [string, string, string][] = [
    ["ESC", "red\x1b[31mtext", '"red\\u001b[31mtext"'],
    ["BEL", "ding\x07", '"ding\\u0007"'],
    ["newline", "one\ntwo", '"one\\ntwo"'],
    ["carriage return", "one\rtwo", '"one\\rtwo"'],
    ["NUL", "a\x00b", '"a\\u0000b"'],
    ["DEL", "a\x7fb", '"a\\u007Fb"'],
    ["CSI U+009B", "a\x9b31mb", '"a\\u009B31mb"'],
    ["NEL U+0085", "a\x85b", '"a\\u0085b"'],
    ["RLO U+202E", "abc\u202Efed", '"abc\\u202Efed"'],
    ["LRE U+202A", "a\u202Ab", '"a\\u202Ab"'],
    ["RLI U+2067", "a\u2067b", '"a\\u2067b"'],
    ["PDI U+2069", "a\u2069b", '"a\\u2069b"'],
    ["line separator U+2028", "a\u2028b", '"a\\u2028b"'],
  ];
  for (const [label, value, expected] of cases) {
    await t.step(label, () => {
      const line = logged({ v: value });
      strictEqual(line, `event v=${expected}`);
      ok(!RAW_UNSAFE.test(line), `raw control character in ${JSON.stringify(line)}`);
      strictEqual(JSON.parse(expected), value, "the quoted value decodes back to the original");
    });
  }
  await t.step("all of them in one field, alongside other fields", () => {
    const value = "\x1b]0;pwned\x07\n\x9b2J\u202Eevil\u2066";
    const line = logged({ name: "mallory", text: value, n: 1 });
    ok(!RAW_UNSAFE.test(line), `raw control character in ${JSON.stringify(line)}`);
    ok(!line.includes("\n"), "the line stays one line");
    strictEqual(
      line,
      'event name=mallory text="\\u001b]0;pwned\\u0007\\n\\u009B2J\\u202Eevil\\u2066" n=1',
    );
    const quoted = line.slice(line.indexOf("text=") + 5, line.lastIndexOf(" n=1"));
    strictEqual(JSON.parse(quoted), value);
  });
  await t.step("an Error message with controls is escaped too", () => {
    const line = logged({ error: new Error("bad\x1b[2Jthing") });
    strictEqual(line, 'event error="bad\\u001b[2Jthing"');
  });
});

Deno.test("droppingSink drops lines it cannot write, then says once how many", () => {
  const written: string[] = [];
  let broken = true;
  const sink = droppingSink((bytes) => {
    if (broken) throw new Deno.errors.BrokenPipe("EPIPE");
    written.push(new TextDecoder().decode(bytes));
    return bytes.length;
  });
  sink("a");
  sink("b");
  broken = false;
  sink("c");
  sink("d");
  strictEqual(written.length, 3);
  match(written[0], /WARN log lines dropped count=2\n$/);
  deepStrictEqual(written.slice(1), ["c\n", "d\n"]);
});

Deno.test("the json format writes one object per line: time, level, msg, fields, context", () => {
  const lines: string[] = [];
  const log = new Logger("info", (l) => lines.push(l), "json").with({ edge: 1 });
  log.info("connect", { addr: "127.0.0.1:5000", conns: 3, err: new Error("boom"), msg: "x" });
  log.debug("hidden");
  log.notice("listening on 0.0.0.0:8888");
  strictEqual(lines.length, 2);
  const [connect, listening] = lines.map((l) => JSON.parse(l));
  deepStrictEqual(Object.keys(connect), ["time", "level", "msg", "addr", "conns", "err", "edge"]);
  deepStrictEqual(
    [connect.level, connect.msg, connect.addr, connect.conns, connect.err, connect.edge],
    ["info", "connect", "127.0.0.1:5000", 3, "boom", 1],
  );
  deepStrictEqual([listening.level, listening.msg], ["info", "listening on 0.0.0.0:8888"]);
});

Deno.test("the json format escapes what a terminal would act on", () => {
  const lines: string[] = [];
  new Logger("info", (l) => lines.push(l), "json").info("rename", { name: "a\x1b[2Jb\u202ec\x9b" });
  // deno-lint-ignore no-control-regex -- looking for raw control characters is the point
  ok(!/[\x00-\x1f\x7f-\x9f\u202e]/.test(lines[0]), lines[0]);
  strictEqual(JSON.parse(lines[0]).name, "a\x1b[2Jb\u202ec\x9b");
});
