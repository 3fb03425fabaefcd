import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { markerOf, ReadMarkers } from "../../../lib/model/read_markers.ts";

/** Markers over two kept conversations, `#dev` and `#ops`, with `#dev` the one being read. */
function setup() {
  const unread = new Map<string, number>();
  let reading = "#dev";
  const markers = new ReadMarkers({
    has: (key) => key === "#dev" || key === "#ops",
    reading: (key) => key === reading,
    setUnread(key, count) {
      const was = unread.get(key) ?? 0;
      unread.set(key, count);
      return was !== count;
    },
  });
  return { markers, unread, read: (key: string) => reading = key };
}

Deno.test("markerOf takes well-formed markers and refuses the rest", () => {
  deepStrictEqual(markerOf({ type: "marker", target: "#dev", msgId: 5, unread: 2 }), {
    target: "#dev",
    msgId: 5,
    unread: 2,
  });
  for (
    const bad of [
      null,
      3,
      {},
      { target: "#dev", msgId: -1, unread: 0 },
      {
        target: 7,
        msgId: 1,
        unread: 0,
      },
      { target: "#dev", msgId: 1.5, unread: 0 },
      { target: "#dev", msgId: 1 },
    ]
  ) {
    strictEqual(markerOf(bad), null, JSON.stringify(bad));
  }
});

Deno.test("ReadMarkers: the server's count, unless the client is reading or read further", () => {
  const { markers, unread, read } = setup();
  // Being read: the client counts.
  strictEqual(markers.seed("#dev", { target: "#dev", msgId: 3, unread: 4 }), false);
  strictEqual(unread.get("#dev"), undefined);
  // Not kept: ignored.
  strictEqual(markers.seed("#gone", { target: "#gone", msgId: 3, unread: 4 }), false);
  // Another one: the server's count.
  strictEqual(markers.seed("#ops", { target: "#ops", msgId: 3, unread: 4 }), true);
  strictEqual(unread.get("#ops"), 4);
  // Read past the marker here: a `mark` is on its way, so an older marker's count is not taken.
  markers.readUpTo("#ops", 9);
  strictEqual(markers.follow("#ops", { target: "#ops", msgId: 5, unread: 2 }), false);
  read("#ops");
  strictEqual(markers.follow("#ops", { target: "#ops", msgId: 12, unread: 0 }), false);
  read("#dev");
  strictEqual(markers.follow("#ops", { target: "#ops", msgId: 12, unread: 0 }), true);
  strictEqual(unread.get("#ops"), 0);
});

Deno.test("ReadMarkers: what was read past its marker is due once; a seed makes a lost one due again", () => {
  const { markers } = setup();
  strictEqual(markers.due, false);
  markers.readUpTo("#dev", 10);
  markers.readUpTo("#dev", 7); // reading never moves back
  markers.readUpTo("#gone", 10); // not kept: never due
  strictEqual(markers.due, true);
  deepStrictEqual(markers.takeDue(), [{ key: "#dev", msgId: 10 }]);
  deepStrictEqual(markers.takeDue(), [], "taken as sent");
  // The mark was lost: the server still says 4, and a seed takes that as it is.
  markers.seed("#dev", { target: "#dev", msgId: 4, unread: 6 });
  deepStrictEqual(markers.takeDue(), [{ key: "#dev", msgId: 10 }]);
  // A follow never moves the marker back.
  markers.follow("#dev", { target: "#dev", msgId: 4, unread: 6 });
  deepStrictEqual(markers.takeDue(), []);
  markers.clearMarked();
  deepStrictEqual(markers.takeDue(), [{ key: "#dev", msgId: 10 }], "asked again after a reset");
  markers.forget("#dev");
  strictEqual(markers.due, false);
});
