import { strictEqual } from "node:assert/strict";
import { closeQuietly } from "../../../lib/shared/close_quietly.ts";

Deno.test("closeQuietly closes once and ignores a second close or nothing at all", () => {
  let closes = 0;
  const res = {
    close() {
      if (closes++ > 0) throw new Deno.errors.BadResource("already closed");
    },
  };
  closeQuietly(res);
  closeQuietly(res);
  closeQuietly(undefined);
  strictEqual(closes, 2);
});
