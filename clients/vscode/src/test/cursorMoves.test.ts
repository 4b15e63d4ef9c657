import { test } from "node:test";
import assert from "node:assert/strict";

import { CursorMoveTracker, EDIT_MOVE_MS, isCursorMove, SETTLE_MS, type Place } from "../cursorMoves";

const at = (line: number, uri = "file:///a.py", character = 0): Place => ({ uri, line, character });

test("isCursorMove: another line or document is a move; the same line or an edit is not", () => {
  assert.equal(isCursorMove(undefined, at(3), false), true);
  assert.equal(isCursorMove(at(3), at(7), false), true);
  assert.equal(isCursorMove(at(3), at(3, "file:///b.py"), false), true);
  assert.equal(isCursorMove(at(3, "file:///a.py", 0), at(3, "file:///a.py", 9), false), false);
  assert.equal(isCursorMove(at(3), at(7), true), false);
});

/** A tracker on a fake clock; `sent` collects the cues it emits. */
function tracked() {
  let clock = 1000;
  const sent: Place[] = [];
  const tracker = new CursorMoveTracker(
    (place) => {
      sent.push(place);
      return true;
    },
    () => clock,
  );
  return { tracker, sent, advance: (ms: number) => (clock += ms) };
}

test("tracker: one cue once the cursor settles, none for lines passed on the way", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { tracker, sent } = tracked();
  tracker.moved(at(1));
  t.mock.timers.tick(SETTLE_MS / 2);
  tracker.moved(at(2));
  tracker.moved(at(40));
  assert.deepEqual(sent, []);
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, [at(40)]);
  // Along the same line: nothing more.
  tracker.moved(at(40, "file:///a.py", 12));
  t.mock.timers.tick(SETTLE_MS);
  assert.equal(sent.length, 1);
  // Another editor at the same line number is another place.
  tracker.moved(at(40, "file:///b.py"));
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, [at(40), at(40, "file:///b.py")]);
});

test("tracker: the cursor moves that typing causes send nothing, and the typed line counts as sent", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { tracker, sent, advance } = tracked();
  tracker.edited(at(5));
  tracker.moved(at(6)); // Enter: the edit's own move to the new line
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, []);
  // A selection change that came first, then its edit: the edit cancels the pending cue.
  advance(EDIT_MOVE_MS + 1);
  tracker.moved(at(7));
  tracker.edited(at(7));
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, []);
  // Later, a jump away is a move; back to the typed line after that is one too.
  advance(EDIT_MOVE_MS + 1);
  tracker.moved(at(30));
  t.mock.timers.tick(SETTLE_MS);
  tracker.moved(at(7));
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, [at(30), at(7)]);
});

test("tracker: an edit in another document does not hide a move in this one", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { tracker, sent } = tracked();
  tracker.edited(at(5, "file:///b.py"));
  tracker.moved(at(9));
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, [at(9)]);
});

test("tracker: a cue that could not go (no server) is not remembered as sent", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  let running = false;
  const sent: Place[] = [];
  const tracker = new CursorMoveTracker((place) => running && sent.push(place) > 0);
  tracker.moved(at(9));
  t.mock.timers.tick(SETTLE_MS);
  running = true;
  tracker.moved(at(9, "file:///a.py", 4));
  t.mock.timers.tick(SETTLE_MS);
  assert.deepEqual(sent, [at(9, "file:///a.py", 4)]);
});
