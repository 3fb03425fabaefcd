import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FrameLog, Outbox } from "../../../lib/server/outbox.ts";
import type { Writer } from "../../../lib/shared/bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (s: string) => encoder.encode(s);

/**
 * A Writer that records each write, can accept fewer bytes than offered, can be held until
 * released, and can fail.
 */
class FakeWriter implements Writer {
  /** What each write call accepted. */
  readonly writes: string[] = [];
  /** How many bytes each write offered. */
  readonly offered: number[] = [];
  /** Most bytes one write accepts (simulates a full socket buffer). */
  maxPerWrite = Infinity;
  /** Error to throw from the next write. */
  failWith: Error | undefined;
  #gate: Promise<void> | undefined;
  #release: (() => void) | undefined;
  /** Resolves when a write call begins while held. */
  #started: (() => void) | undefined;

  /** Holds every write until {@link release}; resolves once a write is waiting. */
  hold(): Promise<void> {
    this.#gate = new Promise((r) => this.#release = r);
    return new Promise((r) => this.#started = r);
  }

  release(): void {
    this.#gate = undefined;
    this.#release?.();
  }

  async write(chunk: Uint8Array): Promise<number> {
    this.offered.push(chunk.length);
    if (this.#gate) {
      this.#started?.();
      await this.#gate;
    }
    if (this.failWith) throw this.failWith;
    const n = Math.min(chunk.length, this.maxPerWrite);
    this.writes.push(decoder.decode(chunk.subarray(0, n)));
    return n;
  }

  get text(): string {
    return this.writes.join("");
  }
}

function make(maxBytes = 1024) {
  const writer = new FakeWriter();
  const failures: [string, unknown][] = [];
  const outbox = new Outbox(writer, maxBytes, (reason, error) => failures.push([reason, error]));
  return { writer, outbox, failures };
}

Deno.test("Outbox coalesces frames pushed in one turn into one write", async () => {
  const { writer, outbox } = make();
  ok(outbox.push(bytes("one\n")));
  ok(outbox.push(bytes("two\n")));
  ok(outbox.push(bytes("three\n")));
  strictEqual(writer.writes.length, 0, "nothing is written synchronously");
  strictEqual(outbox.queued, 14);
  await outbox.drained();
  deepStrictEqual(writer.writes, ["one\ntwo\nthree\n"]);
  strictEqual(outbox.queued, 0);
});

Deno.test("Outbox batches frames pushed during a write into the next write", async () => {
  const { writer, outbox } = make();
  const started = writer.hold();
  outbox.push(bytes("a\n"));
  await started;
  outbox.push(bytes("b\n"));
  outbox.push(bytes("c\n"));
  outbox.push(bytes("d\n"));
  strictEqual(outbox.queued, 8, "queued counts the batch being written");
  writer.release();
  await outbox.drained();
  deepStrictEqual(writer.writes, ["a\n", "b\nc\nd\n"]);
});

Deno.test("Outbox keeps frames in order across separate turns", async () => {
  const { writer, outbox } = make();
  const expected: string[] = [];
  for (let i = 0; i < 50; i++) {
    const line = `line ${i}\n`;
    expected.push(line);
    outbox.push(bytes(line));
    if (i % 7 === 0) await Promise.resolve();
    if (i % 11 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  await outbox.drained();
  strictEqual(writer.text, expected.join(""));
  ok(writer.writes.length < 50, "some frames were coalesced");
});

Deno.test("Outbox finishes partial writes", async (t) => {
  await t.step("a writer that takes 3 bytes at a time gets everything, in order", async () => {
    const { writer, outbox, failures } = make();
    writer.maxPerWrite = 3;
    outbox.push(bytes("hello "));
    outbox.push(bytes("world\n"));
    await outbox.drained();
    strictEqual(writer.text, "hello world\n");
    deepStrictEqual(writer.offered, [12, 9, 6, 3]);
    strictEqual(outbox.queued, 0);
    deepStrictEqual(failures, []);
  });
  await t.step("a writer that takes 1 byte at a time, with more pushed meanwhile", async () => {
    const { writer, outbox } = make();
    writer.maxPerWrite = 1;
    outbox.push(bytes("abc"));
    await Promise.resolve();
    outbox.push(bytes("def"));
    outbox.push(bytes("\n"));
    await outbox.drained();
    strictEqual(writer.text, "abcdef\n");
  });
});

Deno.test("Outbox overflow calls onFailure once and rejects further pushes", async (t) => {
  await t.step("pushing past maxBytes", async () => {
    const { writer, outbox, failures } = make(10);
    ok(outbox.push(bytes("123456")));
    strictEqual(outbox.push(bytes("78901")), false);
    deepStrictEqual(failures, [["overflow", undefined]]);
    strictEqual(outbox.push(bytes("x")), false);
    strictEqual(outbox.push(bytes("")), false);
    strictEqual(failures.length, 1);
    await outbox.drained();
    await new Promise((r) => setTimeout(r, 0));
    strictEqual(writer.text, "", "what was queued is dropped");
  });
  await t.step("exactly maxBytes fits", async () => {
    const { writer, outbox, failures } = make(10);
    ok(outbox.push(bytes("12345")));
    ok(outbox.push(bytes("67890")));
    await outbox.drained();
    strictEqual(writer.text, "1234567890");
    deepStrictEqual(failures, []);
  });
  await t.step("bytes being written count against the limit", async () => {
    const { writer, outbox, failures } = make(10);
    const started = writer.hold();
    ok(outbox.push(bytes("12345678")));
    await started;
    strictEqual(outbox.push(bytes("abc")), false);
    deepStrictEqual(failures.map(([r]) => r), ["overflow"]);
    writer.release();
    await outbox.drained();
    strictEqual(failures.length, 1);
  });
  await t.step("room frees up as writes complete", async () => {
    const { writer, outbox, failures } = make(10);
    for (let i = 0; i < 100; i++) {
      ok(outbox.push(bytes("12345678")));
      await outbox.drained();
    }
    strictEqual(writer.text.length, 800);
    deepStrictEqual(failures, []);
  });
  await t.step("one huge frame overflows an empty queue", () => {
    const { outbox, failures } = make(10);
    strictEqual(outbox.push(new Uint8Array(11)), false);
    strictEqual(failures.length, 1);
  });
});

Deno.test("Outbox write errors call onFailure once with the error", async () => {
  const { writer, outbox, failures } = make();
  const boom = new Error("broken pipe");
  writer.failWith = boom;
  outbox.push(bytes("a\n"));
  await outbox.drained();
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(failures, [["write_error", boom]]);
  strictEqual(outbox.push(bytes("b\n")), false);
  strictEqual(outbox.push(new Uint8Array(5000)), false, "no overflow report after failure");
  strictEqual(failures.length, 1);
});

Deno.test("Outbox.drained", async (t) => {
  await t.step("resolves at once when nothing is queued", async () => {
    const { outbox } = make();
    await outbox.drained();
  });
  await t.step("waits until everything queued is written", async () => {
    const { writer, outbox } = make();
    const started = writer.hold();
    outbox.push(bytes("x\n"));
    let done = false;
    const d = outbox.drained().then(() => done = true);
    await started;
    await new Promise((r) => setTimeout(r, 5));
    strictEqual(done, false);
    writer.release();
    await d;
    strictEqual(writer.text, "x\n");
  });
  await t.step("resolves when the outbox is closed with frames pending", async () => {
    const { writer, outbox } = make();
    const started = writer.hold();
    outbox.push(bytes("x\n"));
    await started;
    const d = outbox.drained();
    outbox.close();
    await d;
    writer.release();
    await new Promise((r) => setTimeout(r, 0));
  });
});

Deno.test("Outbox.close drops what is queued without reporting a failure", async () => {
  const { writer, outbox, failures } = make();
  outbox.push(bytes("never\n"));
  outbox.close();
  strictEqual(outbox.push(bytes("late\n")), false);
  await outbox.drained();
  await new Promise((r) => setTimeout(r, 0));
  strictEqual(writer.text, "");
  deepStrictEqual(failures, []);
});

Deno.test("Outbox shares pushed buffers without copying a lone frame", async () => {
  const seen: Uint8Array[] = [];
  const outbox = new Outbox(
    {
      write(b) {
        seen.push(b);
        return Promise.resolve(b.length);
      },
    },
    1024,
    () => {},
  );
  const frame = bytes("shared\n");
  outbox.push(frame);
  await outbox.drained();
  strictEqual(seen.length, 1);
  strictEqual(seen[0].buffer, frame.buffer);
  strictEqual(decoder.decode(frame), "shared\n", "the caller's buffer is not modified");
});

Deno.test("Outboxes given the same frames in one turn share one batch buffer", async () => {
  const seen: Uint8Array[] = [];
  const writer: Writer = {
    write(chunk) {
      seen.push(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  const boxes = Array.from({ length: 5 }, () => new Outbox(writer, 1024, () => {}));
  const a = bytes("one\n");
  const b = bytes("two\n");
  for (const box of boxes) box.push(a);
  for (const box of boxes) box.push(b);
  // One box has a frame of its own: it gets its own batch.
  boxes[4].push(bytes("mine\n"));
  await Promise.all(boxes.map((box) => box.drained()));
  strictEqual(seen.length, 5);
  for (let i = 1; i < 4; i++) strictEqual(seen[i], seen[0], `box ${i} got another buffer`);
  strictEqual(decoder.decode(seen[0]), "one\ntwo\n");
  ok(seen[4] !== seen[0]);
  strictEqual(decoder.decode(seen[4]), "one\ntwo\nmine\n");
});

Deno.test("Outboxes handed the same frames one outbox after the other share one batch", async () => {
  // How the chat's presence log hands out a connect storm's announcements: each user takes all
  // it was missing at once, so the frames reach outbox after outbox, not frame after frame.
  const seen: Uint8Array[] = [];
  const writer: Writer = {
    write(chunk) {
      seen.push(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  const frames = Array.from({ length: 50 }, (_, i) => bytes(`online user${i}\n`));
  const boxes = Array.from({ length: 4 }, () => new Outbox(writer, 1 << 16, () => {}));
  // The last box joined later: it gets only the frames from the 20th on.
  boxes.forEach((box, b) => {
    // Presence lines: they may wait, and only they are found in the log out of turn.
    for (const frame of frames.slice(b === 3 ? 20 : 0)) box.push(frame, true);
  });
  await Promise.all(boxes.map((box) => box.drained()));
  strictEqual(seen.length, 4);
  const all = frames.map((f) => decoder.decode(f)).join("");
  for (let i = 0; i < 3; i++) strictEqual(decoder.decode(seen[i]), all);
  strictEqual(seen[1].buffer, seen[0].buffer, "a copy of its own for the second box");
  strictEqual(seen[2].buffer, seen[0].buffer, "a copy of its own for the third box");
  strictEqual(decoder.decode(seen[3]), frames.slice(20).map((f) => decoder.decode(f)).join(""));
  strictEqual(seen[3].buffer, seen[0].buffer, "the later joiner's frames are a view of the batch");
});

Deno.test("a write that never completes cannot stall other outboxes' flushes", async () => {
  // 300 outboxes whose writes hang (readers that stopped), then one healthy outbox.
  const stuck: Writer = { write: () => new Promise<number>(() => {}) };
  const hung = Array.from({ length: 300 }, () => new Outbox(stuck, 1024, () => {}));
  for (const box of hung) box.push(bytes("x\n"));
  await new Promise((r) => setTimeout(r, 0));
  const { writer, outbox } = make();
  outbox.push(bytes("still flows\n"));
  const t0 = performance.now();
  await outbox.drained();
  strictEqual(writer.text, "still flows\n");
  ok(performance.now() - t0 < 1000);
  for (const box of hung) box.close();
});

Deno.test("Outboxes sharing the frame log keep every outbox's own order", async () => {
  // Broadcasts, replies of one outbox's own and private frames interleave while some writes are
  // held, so runs of the shared log start, extend, turn into lists and end in every order.
  const writers = Array.from({ length: 6 }, () => new FakeWriter());
  const boxes = writers.map((w) => new Outbox(w, 1 << 20, () => {}));
  const expected: string[][] = boxes.map(() => []);
  const send = (i: number, frame: Uint8Array, text: string) => {
    ok(boxes[i].push(frame));
    expected[i].push(text);
  };
  for (let round = 0; round < 200; round++) {
    if (round % 50 === 10) void writers[round % 6].hold();
    if (round % 50 === 30) writers[(round - 20) % 6].release();
    const text = `all ${round}\n`;
    const frame = bytes(text);
    for (let i = 0; i < boxes.length; i++) send(i, frame, text);
    if (round % 3 === 0) send(round % 6, bytes(`own ${round}\n`), `own ${round}\n`);
    if (round % 7 === 0) {
      // The same frame twice to one outbox, and a frame for two outboxes only.
      send(2, frame, text);
      const two = `pair ${round}\n`;
      const pair = bytes(two);
      send(4, pair, two);
      send(1, pair, two);
    }
    if (round % 5 === 0) await Promise.resolve();
    if (round % 13 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  for (const w of writers) w.release();
  await Promise.all(boxes.map((b) => b.drained()));
  for (let i = 0; i < boxes.length; i++) strictEqual(writers[i].text, expected[i].join(""));
});

Deno.test("FrameLog drops the segments no run needs", () => {
  const log = new FrameLog();
  const frame = bytes("x\n");
  const holder = { detachRun() {} };
  const other = { detachRun() {} };
  // A run that stays open keeps everything after its start.
  const first = log.append(frame);
  log.hold(first, holder);
  for (let i = 0; i < 5000; i++) {
    const seq = log.append(frame);
    log.hold(seq, other);
    log.release(seq, other);
  }
  strictEqual(log.retained, 5001);
  log.release(first, holder);
  ok(log.retained <= 1024, `${log.retained} frames kept after every run ended`);
  ok(log.retained >= 1, "the last frame stays");
  strictEqual(log.last, frame);
});

Deno.test("FrameLog keeps at most its byte bound: an open run is handed back as a list", () => {
  const log = new FrameLog(64 * 1024);
  const frame = bytes("y".repeat(99) + "\n");
  let detached = 0;
  const stuck = {
    seq: -1,
    detachRun() {
      detached++;
      log.release(this.seq, this);
    },
  };
  stuck.seq = log.append(frame);
  log.hold(stuck.seq, stuck);
  // Everyone else's frames keep coming; the stuck run never ends by itself.
  for (let i = 0; i < 10_000; i++) {
    log.append(bytes(`private ${i}\n`));
    log.trim();
  }
  strictEqual(detached, 1, "the stuck run was handed back once");
  ok(log.retainedBytes <= 64 * 1024 + 1024 * 20, `${log.retainedBytes} bytes kept`);
});

Deno.test("an outbox whose run is handed back still writes every frame, in order", async () => {
  // A reader that stopped: its write never completes, so its pending frames stay a run while a
  // private conversation between two others fills the shared log far past its bound.
  const stuckWriter = new FakeWriter();
  const stuck = new Outbox(stuckWriter, 1 << 20, () => {});
  const hold = stuckWriter.hold();
  ok(stuck.push(bytes("first\n")));
  await new Promise((r) => setTimeout(r, 0));
  const pending = ["second\n", "third\n"];
  for (const text of pending) ok(stuck.push(bytes(text)));
  const a = new FakeWriter();
  const talker = new Outbox(a, 1 << 20, () => {});
  // 200,000 frames of 200 bytes: 40 MB through the log, past its 16 MiB bound.
  let sent = 0;
  for (let i = 0; i < 200_000; i++) {
    const frame = bytes(`private ${String(i).padStart(6, "0")} ${"z".repeat(184)}\n`);
    talker.push(frame);
    sent += frame.length;
    if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  await talker.drained();
  strictEqual(a.writes.join("").length, sent);
  stuckWriter.release();
  void hold;
  await stuck.drained();
  strictEqual(stuckWriter.text, "first\nsecond\nthird\n");
});

Deno.test("frames that may wait leave together a little later, and what follows takes them along", async () => {
  const { writer, outbox } = make();
  outbox.push(bytes("a:online\n"), true);
  outbox.push(bytes("b:online\n"), true);
  // A turn later nothing is written yet: presence lines wait for the others of the next moments.
  await new Promise((r) => setTimeout(r, 0));
  deepStrictEqual(writer.writes, []);
  await outbox.drained();
  deepStrictEqual(writer.writes, ["a:online\nb:online\n"]);

  // A frame that may not wait flushes the waiting ones before it, in order, in one write.
  outbox.push(bytes("c:online\n"), true);
  outbox.push(bytes("hello\n"));
  await outbox.drained();
  deepStrictEqual(writer.writes, ["a:online\nb:online\n", "c:online\nhello\n"]);
});

Deno.test("frames that may wait, pushed during a write, still leave after it", async () => {
  const { writer, outbox } = make();
  const started = writer.hold();
  outbox.push(bytes("first\n"));
  await started;
  outbox.push(bytes("x:offline\n"), true);
  writer.release();
  await outbox.drained();
  deepStrictEqual(writer.writes, ["first\n", "x:offline\n"]);
  strictEqual(outbox.queued, 0);
});

Deno.test("a reply for one outbox keeps its place among the broadcasts it and the others get", async () => {
  const a = make(), b = make();
  const f1 = bytes("f1\n"), f2 = bytes("f2\n");
  a.outbox.push(f1);
  b.outbox.push(f1);
  a.outbox.push(bytes("reply\n"), false, true);
  a.outbox.push(f2);
  b.outbox.push(f2);
  await Promise.all([a.outbox.drained(), b.outbox.drained()]);
  strictEqual(a.writer.text, "f1\nreply\nf2\n");
  strictEqual(b.writer.text, "f1\nf2\n");
});
