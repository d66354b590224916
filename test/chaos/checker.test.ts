// Proves the register linearizability checker on hand-written histories: valid sequential and
// concurrent ones pass; stale reads, lost writes, double cas, reads of values never written and
// reads of failed writes are caught with a small window; info ops may take effect late or
// never; keys are checked independently; a work budget gives "unknown" instead of hanging.

import assert from "node:assert/strict";
import { test } from "node:test";
import { cas, read, write } from "./build-ops.js";
import type { CompletedOp } from "./history.js";
import { HistoryError } from "./history.js";
import { type CheckResult, checkLinearizable } from "./linearizability.js";

function assertValid(ops: readonly CompletedOp[]): void {
  const result = checkLinearizable(ops);
  assert.equal(result.valid, true, JSON.stringify(result));
}

function assertInvalid(ops: readonly CompletedOp[]): Extract<CheckResult, { valid: false }> {
  const result = checkLinearizable(ops);
  assert.equal(result.valid, false, "expected a non-linearizable history");
  if (result.valid !== false) throw new Error("unreachable");
  // The window is a witness on its own.
  assert.equal(checkLinearizable(result.window).valid, false, result.explanation);
  return result;
}

test("an empty history and a sequential register history are linearizable", () => {
  assertValid([]);
  assertValid([
    read(0, null, 0, 1),
    write(0, "1", 2, 3),
    read(1, "1", 4, 5),
    write(1, "2", 6, 7),
    cas(0, "2", "3", 8, 9),
    read(1, "3", 10, 11),
    cas(0, null, "4", 12, 13, { type: "fail" }),
  ]);
});

test("a read concurrent with a write may see either the old or the new value", () => {
  const before = [write(0, "1", 0, 1), write(1, "2", 2, 6)];
  assertValid([...before, read(2, "1", 3, 4)]);
  assertValid([...before, read(2, "2", 3, 4)]);
  assertValid([...before, read(2, "2", 3, 4), read(3, "2", 4.5, 5)]);
});

test("two reads concurrent with a write may not see the new value and then the old", () => {
  const ops = [write(0, "1", 0, 1), write(1, "2", 2, 10), read(2, "2", 3, 4), read(3, "1", 5, 6)];
  const result = assertInvalid(ops);
  assert.equal(result.window.length, 4);
});

test("an interval touching another at the same nanosecond counts as concurrent", () => {
  assertValid([write(0, "1", 0, 1), read(1, null, 1, 2)]);
});

test("a stale read after a completed write is caught with a window of at most 4 ops", () => {
  const ops = [
    write(0, "1", 0, 1),
    read(1, "1", 1.5, 2),
    write(0, "2", 2, 3),
    read(2, "1", 4, 5),
    write(1, "3", 6, 7),
    read(2, "3", 8, 9),
  ];
  const result = assertInvalid(ops);
  assert.equal(result.key, "x");
  assert.ok(result.window.length <= 4, `window of ${result.window.length}:\n${result.explanation}`);
  const staleRead = result.window.find((op) => op.f === "read" && op.start > 3e6);
  assert.equal(staleRead?.resultValue, "1");
  assert.match(result.explanation, /not linearizable/);
  assert.match(result.explanation, /p2 read → "1" ok/);
});

test("a lost write (acknowledged, then a later read sees the previous value) is caught", () => {
  const lostToAbsent = assertInvalid([write(0, "1", 0, 1), read(1, null, 2, 3)]);
  assert.equal(lostToAbsent.window.length, 2);
  const lostToPrevious = assertInvalid([
    write(0, "1", 0, 1),
    read(1, "1", 2, 3),
    write(0, "2", 4, 5),
    read(1, "1", 6, 7),
    read(1, "1", 8, 9),
  ]);
  assert.ok(lostToPrevious.window.length <= 4);
});

test("a cas that succeeds twice from the same expected value is caught", () => {
  const result = assertInvalid([
    write(0, "0", 0, 1),
    cas(1, "0", "1", 2, 5),
    cas(2, "0", "2", 3, 6),
  ]);
  assert.equal(result.window.length, 3);
  // Concurrent cas of which only one succeeded, the other recorded as fail, are fine.
  const failed = cas(2, "0", "2", 3, 6, { type: "fail" });
  assertValid([write(0, "0", 0, 1), cas(1, "0", "1", 2, 5), failed]);
});

test("a read of a value never written is caught and named in the explanation", () => {
  const result = assertInvalid([write(0, "1", 0, 1), read(1, "ghost", 2, 3), write(0, "2", 4, 5)]);
  assert.equal(result.window.length, 1);
  assert.match(result.explanation, /no write or cas of this key wrote/);
});

test("an info write may take effect long after its invoke, or never", () => {
  const info = write(0, "1", 0, 1, { type: "info" });
  assert.equal(info.end, Infinity);
  assertValid([info, read(1, null, 5, 6), read(1, "1", 100, 101), read(2, "1", 200, 201)]);
  assertValid([info, read(1, null, 5, 6), read(1, null, 100, 101)]);
  assertValid([info]);
});

test("an info write cannot take effect before its invoke, nor be undone", () => {
  assertInvalid([read(1, "1", 0, 1), write(0, "1", 2, 3, { type: "info" })]);
  assertInvalid([
    write(0, "1", 0, 1, { type: "info" }),
    read(1, "1", 2, 3),
    read(1, null, 4, 5),
  ]);
});

test("a read seeing the value of a failed write is caught", () => {
  const result = assertInvalid([write(0, "1", 0, 1, { type: "fail" }), read(1, "1", 2, 3)]);
  assert.equal(result.window.length, 1);
  assert.match(result.explanation, /only a failed write or cas tried to write/);
});

test("an info cas applies only from its expected value; info reads are ignored", () => {
  const start = [write(0, "a", 0, 1), cas(1, "a", "b", 2, 3, { type: "info" })];
  assertValid([...start, read(2, "b", 10, 11), read(3, null, 20, 21, { type: "info" })]);
  assertValid([...start, read(2, "a", 10, 11)]);
  const fromZ = [write(0, "z", 0, 1), cas(1, "a", "b", 2, 3, { type: "info" })];
  assertInvalid([...fromZ, read(2, "b", 4, 5)]);
});

test("keys are independent registers: each is checked on its own", () => {
  const x = [write(0, "1", 0, 1, { key: "x" }), read(1, "1", 2, 3, { key: "x" })];
  const y = [write(2, "1", 0, 1, { key: "y" }), read(3, "1", 2, 3, { key: "y" })];
  assertValid([...x, ...y]);
  // A value written to x does not explain a read of y.
  const crossed = assertInvalid([...x, read(3, "1", 2, 3, { key: "y" })]);
  assert.equal(crossed.key, "y");
  assert.ok(crossed.window.every((op) => op.key === "y"));
});

test("set ops and set reads are refused by the register checker", () => {
  const addOp: CompletedOp = { ...write(0, "e", 0, 1), f: "add" };
  assert.throws(() => checkLinearizable([addOp]), HistoryError);
  const setRead: CompletedOp = { ...read(0, null, 0, 1), resultValue: ["e"] };
  assert.throws(() => checkLinearizable([setRead]), HistoryError);
});

test("a search over its step budget answers unknown instead of hanging", () => {
  const ops: CompletedOp[] = [];
  for (let i = 0; i < 200; i += 1) ops.push(write(i, String(i), 0, 1000));
  ops.push(read(500, "7", 1001, 1002));
  const result = checkLinearizable(ops, { maxSteps: 1000 });
  assert.equal(result.valid, "unknown");
  if (result.valid === "unknown") assert.match(result.reason, /key "x": step budget exhausted/);
});
