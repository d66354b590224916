// Proves the saved-result codec that carries session results through snapshots and the state
// hash: every result kind (put with `written`, incr with a value or an error, expire, sweep,
// txn, delete, rejected) round-trips exactly (seeded property), and truncated or garbage bodies
// end in the reader's typed error.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ByteReader, ByteWriter } from "../../../src/kv/binary.js";
import { CorruptKvSnapshotError } from "../../../src/kv/errors.js";
import { readResult, writeResult } from "../../../src/kv/result-codec.js";
import type { KvResult, OpResult } from "../../../src/kv/types.js";
import { arbDelta, arbText, seed } from "./helpers.js";

const arbIndex = fc.oneof(fc.nat({ max: 1000 }), fc.constant(2 ** 53 - 1));
const arbOptText = fc.option(arbText, { nil: null });
const arbOptIndex = fc.option(arbIndex, { nil: null });

const arbOpResult: fc.Arbitrary<OpResult> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), prevValue: arbOptText,
    prevModIndex: arbOptIndex }, { noNullPrototype: true }),
  fc.record({ op: fc.constant("delete" as const), existed: fc.boolean() },
    { noNullPrototype: true }),
  fc.record({ op: fc.constant("get" as const), value: arbOptText, createIndex: arbOptIndex,
    modIndex: arbOptIndex }, { noNullPrototype: true }),
);

const arbResult: fc.Arbitrary<KvResult> = fc.tuple(arbIndex, fc.nat({ max: 8 }), arbOptText,
  arbOptIndex, fc.boolean(), fc.array(arbOpResult, { maxLength: 4 }), arbDelta, arbIndex)
  .map(([index, kind, text, optIndex, flag, ops, delta, count]): KvResult => {
    switch (kind) {
      case 0: return { kind: "put", index, written: flag, prevValue: text, prevModIndex: optIndex };
      case 1: return { kind: "delete", index, existed: flag };
      case 2: return { kind: "txn", index, succeeded: flag, results: ops };
      case 3: return { kind: "incr", index, value: delta, error: null };
      case 4: return { kind: "incr", index, value: null, error: flag ? "OVERFLOW" : "NOT_INTEGER" };
      case 5: return { kind: "expire", index, existed: flag };
      case 6: return { kind: "sweep", index, deleted: count };
      case 7: return { kind: "rejected", index, code: "STALE_SEQUENCE", message: text ?? "" };
      default: return { kind: "rejected", index, code: "MALFORMED_COMMAND", message: "m" };
    }
  });

function read(bytes: Buffer): KvResult {
  const fail = (reason: string) => new CorruptKvSnapshotError(reason);
  const r = new ByteReader(bytes, fail);
  const result = readResult(r, fail);
  r.end();
  return result;
}

test(`every result kind round-trips through the saved-result codec (seed ${seed})`, () => {
  fc.assert(fc.property(arbResult, (result) => {
    const w = new ByteWriter(16);
    writeResult(w, result);
    const bytes = w.take();
    assert.deepStrictEqual(read(bytes), result);
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(() => read(bytes.subarray(0, cut)), CorruptKvSnapshotError);
    }
  }), { seed, numRuns: 500 });
});

test("an incr result with both or neither of value and error is refused", () => {
  const w = new ByteWriter(16);
  writeResult(w, { kind: "incr", index: 1, value: "1", error: null });
  const both = w.take();
  both[both.length - 1] = 1; // value "1" and NOT_INTEGER
  assert.throws(() => read(both), CorruptKvSnapshotError);
  assert.throws(() => read(Buffer.from([5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
    CorruptKvSnapshotError, "neither");
  assert.throws(() => read(Buffer.from([5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3])),
    CorruptKvSnapshotError, "unknown error code");
  assert.throws(() => read(Buffer.from([9, 1, 0, 0, 0, 0, 0, 0, 0])), CorruptKvSnapshotError);
});
