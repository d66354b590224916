// Proves the copy-on-write B+tree against a naive sorted model (seeded properties): random
// inserts, replacements and deletes keep every structural invariant and the same contents;
// prefix ranges with a limit match the model; a frozen root keeps exactly the contents it had
// when frozen however the tree changes afterwards; bulk-built trees are valid and writable.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BTree, BTreeBuilder, recordsFrom, verifyTree } from "../../../src/kv/btree.js";
import { compareKeys } from "../../../src/kv/keys.js";
import { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import type { KvRecord } from "../../../src/kv/types.js";
import { Applier, seed } from "./helpers.js";

/** Small alphabets so that prefixes, replacements and deletes of present keys are common. */
const arbKey = fc.string({ unit: fc.constantFrom("a", "b", "c", "\u{1F600}", "\uFFFF"),
  minLength: 1, maxLength: 5 });
const arbOp = fc.oneof(
  { weight: 3, arbitrary: fc.record({ put: fc.constant(true), key: arbKey }) },
  { weight: 2, arbitrary: fc.record({ put: fc.constant(false), key: arbKey }) },
);

function sortedModel(model: Map<string, KvRecord>): KvRecord[] {
  return [...model.values()].sort((x, y) => compareKeys(x.key, y.key));
}

test(`random writes keep the tree valid and equal to a sorted model (seed ${seed})`, () => {
  fc.assert(fc.property(fc.array(arbOp, { maxLength: 2500 }), (ops) => {
    const tree = new BTree();
    const model = new Map<string, KvRecord>();
    ops.forEach(({ put, key }, i) => {
      if (put) {
        const record = { key, value: `v${i}`, createIndex: i + 1, modIndex: i + 1,
          expiresAtMs: 0 };
        assert.equal(tree.set(record), model.get(key));
        model.set(key, record);
      } else {
        assert.equal(tree.delete(key), model.get(key));
        model.delete(key);
      }
    });
    const frozen = tree.freeze();
    verifyTree(frozen);
    assert.deepEqual([...recordsFrom(frozen.root)], sortedModel(model));
  }), { seed, numRuns: 60 });
});

test(`prefix ranges with a limit match a naive filter-sort-slice (seed ${seed})`, () => {
  const arbCase = fc.tuple(fc.array(arbOp, { maxLength: 800 }),
    fc.array(fc.tuple(fc.string({ unit: fc.constantFrom("a", "b", "\u{1F600}"), maxLength: 3 }),
      fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 10 }));
  fc.assert(fc.property(arbCase, ([ops, queries]) => {
    const a = new Applier(new KvStateMachine());
    const model = new Map<string, string>();
    for (const { put, key } of ops) {
      const value = `v${a.index}`;
      if (put) a.put(key, value);
      else a.del(key);
      if (put) model.set(key, value);
      else model.delete(key);
    }
    for (const [prefix, limit] of queries) {
      const all = [...model.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
      const got = a.sm.range(prefix, limit);
      assert.deepEqual(got.records.map((r) => [r.key, r.value]),
        all.slice(0, limit).map((k) => [k, model.get(k)]));
      assert.equal(got.more, all.length > limit);
    }
  }), { seed, numRuns: 60 });
});

test(`a frozen root never changes, whatever is written later (seed ${seed})`, () => {
  const arbCase = fc.tuple(fc.array(arbOp, { maxLength: 1500 }),
    fc.array(arbOp, { maxLength: 1500 }), fc.array(arbOp, { maxLength: 500 }));
  fc.assert(fc.property(arbCase, ([before, after, more]) => {
    const tree = new BTree();
    const write = (ops: typeof before) => ops.forEach(({ put, key }, i) => {
      if (put) tree.set({ key, value: `w${i}`, createIndex: 1, modIndex: 1, expiresAtMs: 0 });
      else tree.delete(key);
    });
    write(before);
    const first = tree.freeze();
    const firstContents = [...recordsFrom(first.root)];
    write(after);
    const second = tree.freeze();
    const secondContents = [...recordsFrom(second.root)];
    write(more);
    assert.deepEqual([...recordsFrom(first.root)], firstContents);
    assert.deepEqual([...recordsFrom(second.root)], secondContents);
    verifyTree(first);
    verifyTree(second);
    verifyTree(tree.freeze());
  }), { seed, numRuns: 40 });
});

test("bulk-built trees of any size are valid, and writable afterwards without sharing", () => {
  for (const n of [0, 1, 15, 16, 47, 48, 49, 63, 64, 65, 700, 2305, 2400, 48 * 48 + 1, 120_000]) {
    const builder = new BTreeBuilder();
    const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(7, "0")}`);
    for (const key of keys) builder.push({ key, value: key, createIndex: 1, modIndex: 1,
      expiresAtMs: 0 });
    const built = builder.finish();
    verifyTree(built);
    assert.equal(built.count, n);
    const tree = new BTree(built);
    const builtContents = n <= 3000 ? [...recordsFrom(built.root)] : [];
    for (let i = 0; i < Math.min(n, 3000); i += 2) tree.delete(keys[i] as string);
    tree.set({ key: "zz", value: "", createIndex: 2, modIndex: 2, expiresAtMs: 0 });
    verifyTree(tree.freeze());
    verifyTree(built);
    if (n <= 3000) assert.deepEqual([...recordsFrom(built.root)], builtContents);
    assert.equal(tree.size, n - Math.ceil(Math.min(n, 3000) / 2) + 1);
  }
});
