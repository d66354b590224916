// Proves the set workload checker: acknowledged adds missing from the final read are lost,
// elements never added are unexpected, failed adds that show up are flagged, info and
// concurrent adds may go either way, and malformed set histories are refused.

import assert from "node:assert/strict";
import { test } from "node:test";
import { add, read, readSet, write } from "./build-ops.js";
import { HistoryError } from "./history.js";
import { checkSet } from "./set-check.js";

const key = { key: "s" };

test("every acknowledged add in the final read: nothing lost, nothing unexpected", () => {
  const result = checkSet(
    [add(0, "a", 0, 1, key), add(1, "b", 0, 2, key), add(2, "c", 1, 3, { ...key, type: "info" }),
      add(3, "d", 1, 3, { ...key, type: "fail" }), readSet(4, ["a", "b", "c"], 10, 11, key)],
    "s",
  );
  assert.deepEqual(result, {
    lost: [], unexpected: [], failedPresent: [], ok: 2, unknownPresent: 1, valid: true,
  });
});

test("an acknowledged add missing from the final read is lost; an unknown one is not", () => {
  const result = checkSet(
    [add(0, "a", 0, 1, key), add(1, "b", 0, 2, key), add(2, "c", 1, 3, { ...key, type: "info" }),
      readSet(4, ["a"], 10, 11, key)],
    "s",
  );
  assert.deepEqual(result.lost, ["b"]);
  assert.equal(result.unknownPresent, 0);
  assert.equal(result.valid, false);
});

test("elements never added and failed adds present make the set invalid", () => {
  const result = checkSet(
    [add(0, 1, 0, 1, key), add(1, 2, 0, 1, { ...key, type: "fail" }),
      readSet(4, [1, 2, "ghost"], 10, 11, key)],
    "s",
  );
  assert.deepEqual(result.unexpected, ["ghost"]);
  assert.deepEqual(result.failedPresent, ["2"]);
  assert.equal(result.ok, 1);
  assert.equal(result.valid, false);
});

test("the final read is the last to complete; an add concurrent with it may be absent", () => {
  const result = checkSet(
    [add(0, "a", 0, 1, key), readSet(1, [], 0.5, 0.8, key), add(2, "b", 9, 12, key),
      readSet(3, ["a"], 10, 11, key), add(4, "other", 0, 1, { key: "t" })],
    "s",
  );
  assert.deepEqual(result, {
    lost: [], unexpected: [], failedPresent: [], ok: 1, unknownPresent: 0, valid: true,
  });
});

test("a set history without a final read, with a duplicate add or a register op is refused", () => {
  assert.throws(() => checkSet([add(0, "a", 0, 1, key)], "s"), /no ok read of the whole set/);
  const twice = [add(0, "a", 0, 1, key), add(1, "a", 2, 3, key), readSet(2, [], 4, 5, key)];
  assert.throws(() => checkSet(twice, "s"), /element a added twice/);
  assert.throws(() => checkSet([write(0, "a", 0, 1, key)], "s"), HistoryError);
  assert.throws(() => checkSet([read(0, "a", 0, 1, key)], "s"), /did not return an array/);
});
