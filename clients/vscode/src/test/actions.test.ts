import { test } from "node:test";
import assert from "node:assert/strict";

import { commandArguments, REFACTOR_COMMAND } from "../actions";

const data = { action: "refactor", uri: "file:///w/calc.py", start: 0, end: 10 };

test("ghosttype.refactor gets the instruction asked for as data.instruction", async () => {
  const sent = await commandArguments(REFACTOR_COMMAND, [data], async () => "  swap the operands ");
  assert.deepEqual(sent, [{ ...data, instruction: "swap the operands" }]);
  assert.equal("instruction" in data, false, "the action's own data is not changed");
});

test("a cancelled prompt sends nothing; an empty answer sends no instruction", async () => {
  assert.equal(await commandArguments(REFACTOR_COMMAND, [data], async () => undefined), undefined);
  assert.deepEqual(await commandArguments(REFACTOR_COMMAND, [data], async () => "   "), [data]);
});

test("other commands go through untouched, without asking", async () => {
  let asked = false;
  const ask = async () => {
    asked = true;
    return "x";
  };
  assert.deepEqual(await commandArguments("ghosttype.runAction", [data], ask), [data]);
  assert.equal(asked, false);
});
