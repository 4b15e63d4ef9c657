import { test } from "node:test";
import assert from "node:assert/strict";

import { parseRefresh, RefreshTracker, type DocumentPlace } from "../refresh";

const at = (version: number, line: number, character: number, uri = "file:///a.py"): DocumentPlace => ({ uri, version, line, character });
const params = (place: DocumentPlace) => ({
  textDocument: { uri: place.uri, version: place.version },
  position: { line: place.line, character: place.character },
});

test("parseRefresh: the notification's params, or undefined when malformed", () => {
  assert.deepEqual(parseRefresh(params(at(7, 1, 4))), at(7, 1, 4));
  assert.equal(parseRefresh(null), undefined);
  assert.equal(parseRefresh({ textDocument: { uri: "file:///a.py" }, position: { line: 1, character: 4 } }), undefined);
  assert.equal(parseRefresh({ textDocument: { uri: "file:///a.py", version: 7 }, position: { line: "1", character: 4 } }), undefined);
});

test("a refresh applies where the shown suggestion is, the document unedited and the cursor there", () => {
  const tracker = new RefreshTracker<string>();
  tracker.replied(at(7, 1, 4), ["typing()"]);
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(7, 1, 4)), true);
});

test("a refresh is ignored after an edit, elsewhere, in another document, or with nothing shown", () => {
  const tracker = new RefreshTracker<string>();
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(7, 1, 4)), false, "nothing shown yet");
  tracker.replied(at(7, 1, 4), ["typing()"]);
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(8, 1, 5)), false, "a key typed since");
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(7, 1, 3)), false, "the cursor moved");
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(7, 1, 4, "file:///b.py")), false, "another editor focused");
  assert.equal(tracker.refresh(params(at(7, 1, 4)), undefined), false, "no focused editor");
  assert.equal(tracker.refresh({ position: {} }, at(7, 1, 4)), false, "malformed");
  tracker.replied(at(8, 1, 5), []);
  assert.equal(tracker.refresh(params(at(8, 1, 5)), at(8, 1, 5)), false, "the last reply was empty: nothing shown");
});

test("the reply to a refresh replaces the shown items; an empty one keeps them", () => {
  const tracker = new RefreshTracker<string>();
  tracker.replied(at(7, 1, 4), ["typing()"]);
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(7, 1, 4)), true);
  assert.deepEqual(tracker.replied(at(7, 1, 4), ["paused()"]), ["paused()"]);
  assert.equal(tracker.refresh(params(at(7, 1, 4)), at(7, 1, 4)), true);
  assert.deepEqual(tracker.replied(at(7, 1, 4), []), ["paused()"], "empty reply to a refresh");
  assert.deepEqual(tracker.replied(at(7, 1, 4), []), [], "an empty reply to an ordinary request stays empty");
});
