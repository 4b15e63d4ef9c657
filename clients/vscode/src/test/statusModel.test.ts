import { test } from "node:test";
import assert from "node:assert/strict";

import { describeStatus, parseStatus } from "../statusModel";

test("status: each server state has its icon; loading spins; error shows the message", () => {
  const base = { message: "", globalOn: true, languageOn: true, languageId: "python" };
  assert.match(describeStatus({ ...base, state: "loading" }).text, /loading~spin/);
  assert.equal(describeStatus({ ...base, state: "ready" }).shown, "ready");
  const error = describeStatus({ ...base, state: "error", message: "model file missing" });
  assert.equal(error.error, true);
  assert.match(error.tooltip, /model file missing/);
  assert.equal(error.ariaLabel, "ghosttype error: model file missing");
});

test("status: a language or everything switched off shows disabled at once", () => {
  const off = describeStatus({ state: "ready", message: "", globalOn: true, languageOn: false, languageId: "markdown" });
  assert.equal(off.shown, "disabled");
  assert.match(off.tooltip, /off for markdown/);
  assert.equal(describeStatus({ state: "busy", message: "", globalOn: false, languageOn: false, languageId: "python" }).shown, "disabled");
  // Errors are never hidden behind "disabled".
  assert.equal(describeStatus({ state: "error", message: "x", globalOn: false, languageOn: false }).shown, "error");
});

test("parseStatus accepts the five server states and nothing else", () => {
  assert.deepEqual(parseStatus({ state: "ready", message: "qwen" }), { state: "ready", message: "qwen" });
  assert.deepEqual(parseStatus({ state: "busy" }), { state: "busy", message: "" });
  assert.equal(parseStatus({ state: "sleeping", message: "" }), undefined);
  assert.equal(parseStatus(null), undefined);
  assert.equal(parseStatus("ready"), undefined);
});
