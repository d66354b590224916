// Proves the state machine's command semantics (CONTRACTS.md, POST /v1/txn): put and delete
// results, createIndex/modIndex bookkeeping, compare-and-set success and failure, absent and
// modIndex comparisons, gets inside a transaction seeing earlier operations, range reads, and
// that garbage entries are rejected identically without touching the state.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssertionError } from "../../../src/assert.js";
import { InvalidReadError } from "../../../src/kv/errors.js";
import { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import type { Compare, KvResult, TxnOp } from "../../../src/kv/types.js";
import { Applier } from "./helpers.js";

function fresh(): Applier {
  return new Applier(new KvStateMachine());
}

function txn(a: Applier, compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): KvResult {
  return a.run({ kind: "txn", txn: { compare, success, failure } });
}

describe("put and delete", () => {
  test("a put returns the previous value and modIndex, and keeps createIndex", () => {
    const a = fresh();
    assert.deepEqual(a.put("k", "v1"), { kind: "put", index: 1, written: true, prevValue: null,
      prevModIndex: null });
    assert.deepEqual(a.put("k", "v2"), { kind: "put", index: 2, written: true, prevValue: "v1",
      prevModIndex: 1 });
    assert.deepEqual(a.sm.get("k"), { key: "k", value: "v2", createIndex: 1, modIndex: 2,
      expiresAtMs: 0 });
  });

  test("a delete says whether the key existed; a re-created key gets a new createIndex", () => {
    const a = fresh();
    a.put("k", "v");
    assert.deepEqual(a.del("k"), { kind: "delete", index: 2, existed: true });
    assert.deepEqual(a.del("k"), { kind: "delete", index: 3, existed: false });
    assert.equal(a.sm.get("k"), undefined);
    a.put("k", "w");
    assert.deepEqual(a.sm.get("k"), { key: "k", value: "w", createIndex: 4, modIndex: 4,
      expiresAtMs: 0 });
  });

  test("indexes may skip (no-ops and configuration entries are not applied here)", () => {
    const a = fresh();
    a.index = 10;
    a.put("k", "v");
    a.index = 20;
    assert.deepEqual(a.put("k", "w"), { kind: "put", index: 21, written: true, prevValue: "v",
      prevModIndex: 11 });
    assert.equal(a.sm.lastAppliedIndex, 21);
  });

  test("an index at or before the last applied one is a bug (AssertionError)", () => {
    const a = fresh();
    a.put("k", "v");
    a.index = 0;
    assert.throws(() => a.put("k", "v"), AssertionError);
  });

  test("undecodable entries are rejected deterministically and change nothing", () => {
    const a = fresh();
    a.put("k", "v");
    const before = a.sm.stateHash();
    const result = a.sm.apply({ index: 2, term: 1, data: Uint8Array.from([9, 9, 9]) });
    assert.equal(result.kind, "rejected");
    assert.equal(result.kind === "rejected" && result.code, "MALFORMED_COMMAND");
    assert.equal(a.sm.stateHash(), before);
  });
});

/** Comparisons and whether the transaction succeeds after `setup` puts (indexes 1, 2, ...). */
const txnCases: {
  name: string;
  setup: [string, string][];
  compare: Compare[];
  succeeded: boolean;
}[] = [
  { name: "no comparison succeeds", setup: [], compare: [], succeeded: true },
  { name: "value equal succeeds", setup: [["k", "v"]],
    compare: [{ target: "value", key: "k", value: "v" }], succeeded: true },
  { name: "value different fails", setup: [["k", "v"]],
    compare: [{ target: "value", key: "k", value: "w" }], succeeded: false },
  { name: "value of an absent key fails, even for the empty string", setup: [],
    compare: [{ target: "value", key: "k", value: "" }], succeeded: false },
  { name: "empty value equal succeeds", setup: [["k", ""]],
    compare: [{ target: "value", key: "k", value: "" }], succeeded: true },
  { name: "absent on an absent key succeeds", setup: [["j", "v"]],
    compare: [{ target: "absent", key: "k" }], succeeded: true },
  { name: "absent on a present key fails", setup: [["k", "v"]],
    compare: [{ target: "absent", key: "k" }], succeeded: false },
  { name: "modIndex equal succeeds", setup: [["j", "x"], ["k", "v"]],
    compare: [{ target: "modIndex", key: "k", modIndex: 2 }], succeeded: true },
  { name: "modIndex different fails", setup: [["k", "v"]],
    compare: [{ target: "modIndex", key: "k", modIndex: 2 }], succeeded: false },
  { name: "modIndex 0 matches an absent key", setup: [],
    compare: [{ target: "modIndex", key: "k", modIndex: 0 }], succeeded: true },
  { name: "all comparisons must hold", setup: [["k", "v"]],
    compare: [{ target: "value", key: "k", value: "v" }, { target: "absent", key: "k" }],
    succeeded: false },
];

describe("transactions", () => {
  for (const c of txnCases) {
    test(`${c.name}, and runs the matching branch only`, () => {
      const a = fresh();
      for (const [key, value] of c.setup) a.put(key, value);
      const result = txn(a, c.compare, [{ op: "put", key: "ok", value: "yes" }],
        [{ op: "put", key: "ko", value: "no" }]);
      assert.equal(result.kind === "txn" && result.succeeded, c.succeeded);
      assert.equal(result.index, c.setup.length + 1);
      assert.equal(a.sm.get("ok")?.value, c.succeeded ? "yes" : undefined);
      assert.equal(a.sm.get("ko")?.value, c.succeeded ? undefined : "no");
    });
  }

  test("compare-and-set: one comparison on the value and one put", () => {
    const a = fresh();
    a.put("k", "1");
    const cas = (expected: string, next: string) => txn(a,
      [{ target: "value", key: "k", value: expected }], [{ op: "put", key: "k", value: next }]);
    assert.deepEqual(cas("1", "2"), { kind: "txn", index: 2, succeeded: true,
      results: [{ op: "put", prevValue: "1", prevModIndex: 1 }] });
    assert.deepEqual(cas("1", "3"), { kind: "txn", index: 3, succeeded: false, results: [] });
    assert.deepEqual(a.sm.get("k"), { key: "k", value: "2", createIndex: 1, modIndex: 2,
      expiresAtMs: 0 });
  });

  test("operations run in order: a get sees the same transaction's earlier put and delete", () => {
    const a = fresh();
    a.put("k", "old");
    const result = txn(a, [], [
      { op: "get", key: "k" },
      { op: "put", key: "k", value: "new" },
      { op: "get", key: "k" },
      { op: "delete", key: "k" },
      { op: "get", key: "k" },
      { op: "delete", key: "k" },
      { op: "put", key: "n", value: "x" },
    ]);
    assert.deepEqual(result, { kind: "txn", index: 2, succeeded: true, results: [
      { op: "get", value: "old", createIndex: 1, modIndex: 1 },
      { op: "put", prevValue: "old", prevModIndex: 1 },
      { op: "get", value: "new", createIndex: 1, modIndex: 2 },
      { op: "delete", existed: true },
      { op: "get", value: null, createIndex: null, modIndex: null },
      { op: "delete", existed: false },
      { op: "put", prevValue: null, prevModIndex: null },
    ] });
    assert.deepEqual(a.sm.get("n"), { key: "n", value: "x", createIndex: 2, modIndex: 2,
      expiresAtMs: 0 });
  });

  test("a failed transaction runs the failure branch, including gets", () => {
    const a = fresh();
    a.put("k", "v");
    const result = txn(a, [{ target: "absent", key: "k" }], [{ op: "delete", key: "k" }],
      [{ op: "get", key: "k" }]);
    assert.deepEqual(result, { kind: "txn", index: 2, succeeded: false,
      results: [{ op: "get", value: "v", createIndex: 1, modIndex: 1 }] });
    assert.ok(a.sm.get("k") !== undefined);
  });
});

describe("range", () => {
  test("returns keys with the prefix in byte order, up to limit, and says if more follow", () => {
    const a = fresh();
    for (const key of ["b", "a/2", "a/10", "a/1", "a", "a\u{1F600}", "a\uFFFF", "ab"]) {
      a.put(key, key.toUpperCase());
    }
    const keys = (prefix: string, limit: number) =>
      a.sm.range(prefix, limit).records.map((r) => r.key);
    assert.deepEqual(keys("a/", 10), ["a/1", "a/10", "a/2"]);
    assert.deepEqual(keys("a", 10), ["a", "a/1", "a/10", "a/2", "ab", "a\uFFFF", "a\u{1F600}"]);
    assert.deepEqual(keys("", 2), ["a", "a/1"]);
    assert.equal(a.sm.range("", 2).more, true);
    assert.equal(a.sm.range("a/", 3).more, false);
    assert.deepEqual(keys("c", 5), []);
    assert.throws(() => a.sm.range("", 0), InvalidReadError);
  });
});
