// Proves per-follower flow control: the bounded inflight window, probe/replicate transitions
// and the rejection of stale acknowledgements and rejections.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../src/assert.js";
import { Inflights } from "../../src/core/inflights.js";
import { Progress, ProgressState } from "../../src/core/progress.js";

test("the inflight window fills at its count limit and frees on acknowledgement", () => {
  const w = new Inflights(3, 1_000_000);
  w.add(5, 10);
  w.add(9, 10);
  assert.equal(w.full(), false);
  w.add(12, 10);
  assert.equal(w.full(), true);
  assert.throws(() => w.add(13, 10), AssertionError);
  w.freeLE(9);
  assert.equal(w.count, 1);
  w.freeFirstOne();
  assert.equal(w.count, 0);
});

test("the inflight window also fills at its byte limit", () => {
  const w = new Inflights(100, 50);
  w.add(1, 30);
  assert.equal(w.full(), false);
  w.add(2, 30);
  assert.equal(w.full(), true);
  w.freeLE(1);
  assert.equal(w.full(), false);
});

test("a probing follower gets one message at a time until it answers", () => {
  const pr = new Progress(5, 4, 1000);
  assert.equal(pr.isPaused(), false);
  pr.sentAppend(7, 20, 2);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.next, 5, "probing does not move next optimistically");
  assert.equal(pr.maybeUpdate(7), true);
  assert.equal(pr.isPaused(), false);
});

test("a replicating follower is sent ahead optimistically up to the window", () => {
  const pr = new Progress(1, 2, 1000);
  pr.becomeReplicate();
  pr.sentAppend(3, 10, 3);
  pr.sentAppend(6, 10, 3);
  assert.equal(pr.next, 7);
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.state, ProgressState.Replicate);
});

test("a stale rejection changes nothing; a fresh one moves next back to the hint", () => {
  const pr = new Progress(11, 4, 1000);
  pr.match = 3;
  assert.equal(pr.maybeDecrTo(7, 2), false, "answers an older probe (next - 1 is 10)");
  assert.equal(pr.maybeDecrTo(10, 5), true);
  assert.equal(pr.next, 6);
  pr.next = 6;
  assert.equal(pr.maybeDecrTo(5, 0), true);
  assert.equal(pr.next, 4, "never below match + 1");
});

test("while replicating, a rejection at or below match is stale", () => {
  const pr = new Progress(1, 4, 1000);
  pr.maybeUpdate(8);
  pr.becomeReplicate();
  assert.equal(pr.maybeDecrTo(8, 0), false);
  assert.equal(pr.maybeDecrTo(9, 0), true);
  assert.equal(pr.next, 9);
});
