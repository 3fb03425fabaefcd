import { ok, strictEqual, throws } from "node:assert/strict";
import {
  durationMs,
  parseDuration,
  parseIntFlag,
  parseSize,
  UnitError,
} from "../../../lib/shared/units.ts";

/** Asserts that `fn` throws a RangeError with exactly `message`. */
function throwsRange(fn: () => unknown, message: string): void {
  throws(fn, (err: unknown) => {
    if (!(err instanceof RangeError)) throw new Error(`expected RangeError, got ${err}`);
    strictEqual(err.message, message);
    return true;
  });
}

Deno.test("parseDuration converts to milliseconds", async (t) => {
  const table: [string, number][] = [
    ["60", 60_000],
    ["0", 0],
    ["0.0", 0],
    ["1.5", 1_500],
    ["0.25", 250],
    ["500ms", 500],
    ["0ms", 0],
    ["1.5s", 1_500],
    ["30s", 30_000],
    ["2m", 120_000],
    ["1.5m", 90_000],
    ["1h", 3_600_000],
    ["1.4ms", 1],
    ["2.5ms", 3],
    ["0.0015", 2],
  ];
  for (const [value, ms] of table) {
    await t.step(value, () => strictEqual(parseDuration(value, "idle-timeout"), ms));
  }
});

Deno.test("parseDuration rejects malformed values naming the flag", async (t) => {
  for (
    const value of [
      "",
      "-1",
      "-5s",
      "NaN",
      "abc",
      "5d",
      "5 s",
      " 5",
      "5S",
      "1e3",
      "Infinity",
      ".5",
      "5.",
      "ms",
      "0.1ms", // would round to 0 and silently mean "off"
      "9".repeat(400),
    ]
  ) {
    await t.step(JSON.stringify(value), () => {
      throwsRange(
        () => parseDuration(value, "idle-timeout"),
        `--idle-timeout expects a duration like 60, 500ms, 2m; got "${value}"`,
      );
    });
  }
});

Deno.test("parseSize converts to bytes", async (t) => {
  const table: [string, number][] = [
    ["8192", 8192],
    ["1", 1],
    ["8K", 8192],
    ["8k", 8192],
    ["8kb", 8192],
    ["8KB", 8192],
    ["8KiB", 8192],
    ["8kib", 8192],
    ["1M", 1_048_576],
    ["1mb", 1_048_576],
    ["1MiB", 1_048_576],
    ["1G", 1_073_741_824],
    ["1GiB", 1_073_741_824],
    ["1.5K", 1536],
    ["512B", 512],
  ];
  for (const [value, bytes] of table) {
    await t.step(value, () => strictEqual(parseSize(value, "max-line"), bytes));
  }
});

Deno.test("parseSize rejects malformed or non-positive values", async (t) => {
  for (
    const value of ["", "0", "0K", "-1", "-8K", "1.5", "0.1K", "8 KiB", "8T", "8KiBs", "K", "1e3"]
  ) {
    await t.step(JSON.stringify(value), () => {
      throwsRange(
        () => parseSize(value, "max-line"),
        `--max-line expects a size like 8192, 8KiB, 1MiB; got "${value}"`,
      );
    });
  }
});

Deno.test("parseSize enforces its minimum", async (t) => {
  await t.step("at the minimum is accepted", () => {
    strictEqual(parseSize("64", "max-line", 64), 64);
    strictEqual(parseSize("1K", "max-line", 1024), 1024);
  });
  await t.step("below the minimum names the minimum", () => {
    throwsRange(
      () => parseSize("63", "max-line", 64),
      `--max-line expects a size of at least 64 bytes; got "63"`,
    );
  });
});

Deno.test("parseIntFlag accepts whole numbers in range", async (t) => {
  await t.step("inside and at both bounds", () => {
    strictEqual(parseIntFlag("5", "max-clients", 1, 10), 5);
    strictEqual(parseIntFlag("1", "max-clients", 1, 10), 1);
    strictEqual(parseIntFlag("10", "max-clients", 1, 10), 10);
  });
  await t.step("leading zeros", () => strictEqual(parseIntFlag("007", "n", 0, 10), 7));
  await t.step("negative ranges", () => strictEqual(parseIntFlag("-3", "n", -5, 5), -3));
  await t.step("minus zero is plain zero", () => {
    strictEqual(Object.is(parseIntFlag("-0", "n", -5, 5), 0), true);
  });
});

Deno.test("parseIntFlag rejects anything else naming the flag", async (t) => {
  for (
    const value of ["0", "11", "", " 5", "5 ", "5.0", "1e3", "0x10", "+5", "five", "9".repeat(30)]
  ) {
    await t.step(JSON.stringify(value), () => {
      throwsRange(
        () => parseIntFlag(value, "max-clients", 1, 10),
        `--max-clients expects a whole number from 1 to 10; got "${value}"`,
      );
    });
  }
});

Deno.test("durationMs parses like the flag parser and says what it expected without flag wording", () => {
  strictEqual(durationMs("1.5s"), 1500);
  strictEqual(durationMs("0"), 0);
  throws(() => durationMs("5x"), (e) => {
    ok(e instanceof UnitError);
    strictEqual(e.message, 'expected a duration like 60, 500ms, 2m; got "5x"');
    return true;
  });
});
