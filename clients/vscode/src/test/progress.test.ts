import { test } from "node:test";
import assert from "node:assert/strict";

import { NotificationProgress, type ProgressToken } from "../progress";

/** A NotificationProgress whose notifications and cancels are recorded. */
function setUp() {
  const events: string[] = [];
  const cancels: Array<() => void> = [];
  const sent: ProgressToken[] = [];
  const progress = new NotificationProgress(
    (title, onCancel) => {
      events.push(`open ${title}`);
      cancels.push(onCancel);
      return {
        report: (step) => events.push(`report ${JSON.stringify(step)}`),
        close: () => events.push(`close ${title}`),
      };
    },
    (token) => sent.push(token),
  );
  let passed = 0;
  const next = () => {
    passed++;
  };
  return { progress, events, cancels, sent, next, passed: () => passed };
}

test("a cancellable progress is a notification: begin opens it, reports show, end closes it", () => {
  const { progress, events, next, passed } = setUp();
  progress.handle("t1", { kind: "begin", title: "ghosttype: Generate tests", cancellable: true, message: "starting" }, next);
  progress.handle("t1", { kind: "report", message: "writing tests (attempt 1 of 3)", percentage: 30 }, next);
  progress.handle("t1", { kind: "report", percentage: 80 }, next);
  progress.handle("t1", { kind: "end", message: "3 tests, 3 pass" }, next);
  assert.deepEqual(events, [
    "open ghosttype: Generate tests",
    'report {"message":"starting"}',
    'report {"message":"writing tests (attempt 1 of 3)","increment":30}',
    'report {"increment":50}',
    "close ghosttype: Generate tests",
  ]);
  // Only the end reaches the language client's own ProgressPart (which saw no begin: it shows nothing).
  assert.equal(passed(), 1);
});

test("Cancel sends window/workDoneProgress/cancel for that token, once", () => {
  const { progress, cancels, sent, events, next } = setUp();
  progress.handle("a", { kind: "begin", title: "ghosttype: Fix", cancellable: true }, next);
  progress.handle(7, { kind: "begin", title: "ghosttype: Explain", cancellable: true }, next);
  cancels[1]!();
  cancels[1]!();
  assert.deepEqual(sent, [7]);
  assert.ok(events.includes('report {"message":"cancelling..."}'));
  progress.handle(7, { kind: "end", message: "cancelled" }, next);
  cancels[1]!(); // a late click after the end sends nothing
  assert.deepEqual(sent, [7]);
});

test("a progress that is not cancellable goes on to the status bar untouched", () => {
  const { progress, events, next, passed } = setUp();
  progress.handle("loading", { kind: "begin", title: "ghosttype", message: "loading the model" }, next);
  progress.handle("loading", { kind: "report", message: "50%" }, next);
  progress.handle("loading", { kind: "end" }, next);
  assert.deepEqual(events, []);
  assert.equal(passed(), 3);
});

test("percentages are clamped and never go back; closeAll closes what is open", () => {
  const { progress, events, next } = setUp();
  progress.handle("p", { kind: "begin", title: "T", cancellable: true, percentage: 150 }, next);
  progress.handle("p", { kind: "report", percentage: 40 }, next);
  progress.closeAll();
  progress.handle("p", { kind: "report", message: "late" }, next); // after closeAll: not ours any more
  assert.deepEqual(events, ["open T", 'report {"increment":100}', "close T"]);
});
