// Proves the core's log: appends replace a conflicting suffix (durable or not), conflict
// search and fast-backtracking hints, byte-limited reads, and the stable/commit/apply marks.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../src/assert.js";
import { RaftLog } from "../../src/core/log.js";
import { MemoryLog } from "../../src/core/memory-log.js";
import { type Entry, EntryType, nodeId } from "../../src/core/types.js";

function entries(terms: readonly number[], first = 1): Entry[] {
  return terms.map((term, i) => ({ term, index: first + i, type: EntryType.Normal, data: new Uint8Array(8) }));
}

function logWith(durable: readonly number[], unstable: readonly number[] = []): RaftLog {
  const storage = new MemoryLog({ voters: [nodeId(1)], votersOutgoing: [], learners: [] });
  storage.append(entries(durable));
  const log = new RaftLog(storage, 0, 0);
  log.append(entries(unstable, durable.length + 1));
  return log;
}

function terms(log: RaftLog): number[] {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i) ?? -1);
  return out;
}

test("an append after the end extends the log, unstable until marked stable", () => {
  const log = logWith([1, 1], [2]);
  assert.deepEqual(terms(log), [1, 1, 2]);
  assert.equal(log.lastDurableIndex(), 2);
  (log.storage as MemoryLog).append(log.entriesToPersist());
  log.stableTo(3, 2);
  assert.equal(log.lastDurableIndex(), 3);
  assert.equal(log.entriesToPersist().length, 0);
});

test("an append inside the durable part replaces the suffix from that index on", () => {
  const log = logWith([1, 1, 1, 1]);
  log.append(entries([3, 3], 3));
  assert.deepEqual(terms(log), [1, 1, 3, 3]);
  assert.equal(log.lastDurableIndex(), 2, "the replaced durable entries no longer count");
  assert.deepEqual(log.entriesToPersist().map((e) => e.index), [3, 4]);
});

test("an append inside the unstable part replaces only its tail", () => {
  const log = logWith([1], [1, 1, 1]);
  log.append(entries([2], 3));
  assert.deepEqual(terms(log), [1, 1, 2]);
});

test("marking an entry stable that was replaced meanwhile changes nothing", () => {
  const log = logWith([1], [1, 1]);
  log.append(entries([2], 3));
  log.stableTo(3, 1);
  assert.equal(log.entriesToPersist().length, 2);
});

test("an append that would overwrite a committed entry or leave a gap is a bug", () => {
  const log = logWith([1, 1, 1]);
  log.commitTo(2);
  assert.throws(() => log.append(entries([2], 2)), AssertionError);
  assert.throws(() => log.append(entries([2], 5)), AssertionError);
  assert.throws(() => log.commitTo(4), AssertionError);
});

test("findConflict names the first entry whose term differs, or 0", () => {
  const log = logWith([1, 1, 2, 2]);
  const cases: [number[], number, number][] = [
    [[1, 1], 1, 0],
    [[2, 2], 3, 0],
    [[2, 2, 3], 3, 5],
    [[1, 3], 2, 3],
    [[4], 5, 5],
  ];
  for (const [ts, first, want] of cases) {
    assert.equal(log.findConflict(entries(ts, first)), want, `entries ${ts} from ${first}`);
  }
});

test("findConflictByTerm skips every entry of a term newer than the hint", () => {
  const log = logWith([1, 1, 1, 4, 4, 5, 5, 6]);
  const cases: [number, number, { index: number; term: number }][] = [
    [8, 6, { index: 8, term: 6 }],
    [8, 5, { index: 7, term: 5 }],
    [8, 4, { index: 5, term: 4 }],
    [8, 3, { index: 3, term: 1 }],
    [8, 0, { index: 0, term: 0 }],
    [20, 2, { index: 3, term: 1 }],
  ];
  for (const [index, term, want] of cases) {
    assert.deepEqual(log.findConflictByTerm(index, term), want, `hint ${index}@${term}`);
  }
});

test("a log is up to date if its last term is higher, or equal and at least as long", () => {
  const log = logWith([1, 2, 2]);
  assert.equal(log.isUpToDate(3, 2), true);
  assert.equal(log.isUpToDate(2, 2), false);
  assert.equal(log.isUpToDate(1, 3), true);
  assert.equal(log.isUpToDate(9, 1), false);
});

test("a read stops at the byte limit but always returns at least one entry", () => {
  const log = logWith([1, 1, 1], [1, 1]);
  assert.equal(log.entries(1, 6, Infinity).length, 5);
  assert.equal(log.entries(1, 6, 1).length, 1);
  assert.equal(log.entries(1, 6, 64).length, 2, "each entry costs 8 + 24 bytes");
  assert.equal(log.entries(3, 6, 64).length, 2, "across the durable/unstable boundary");
  assert.equal(log.entries(4, 4, 64).length, 0);
});

test("committed entries are handed out for applying once, in order", () => {
  const log = logWith([1, 1, 1]);
  log.commitTo(2);
  assert.deepEqual(log.entriesToApply(Infinity).map((e) => e.index), [1, 2]);
  log.appliedTo(2);
  assert.equal(log.hasEntriesToApply(), false);
  log.commitTo(1);
  assert.equal(log.commitIndex, 2, "the commit index never moves back");
});
