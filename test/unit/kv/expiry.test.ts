// Proves the Redis-like commands on every state machine: expiry decided only by the command's
// nowMs (a record with 0 < expiresAtMs <= nowMs is absent for puts, conditions, txn compares
// and gets, incr, expire and delete; nothing is expired without nowMs), conditional puts,
// keepTtl and plain puts clearing the TTL, INCRBY on canonical int64 values with NOT_INTEGER
// and OVERFLOW changing nothing, EXPIRE touching only the expiry, and sweeps deleting only
// keys still expired and unchanged.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { KvStore } from "../../../src/kv/kv-store.js";
import type { Command, KvRecord, PutCommand } from "../../../src/kv/types.js";
import { Applier } from "./helpers.js";
import { removeStoreDirs, storeKinds } from "./stores.js";

after(removeStoreDirs);

const now = 1000;
/** What "k" holds before the command under test (applied at index 1). */
type Start = "absent" | "live" | "ttl" | "expired";
const startExpiry: Record<Exclude<Start, "absent">, number> = { live: 0, ttl: 2000, expired: 500 };

function record(value: string, createIndex: number, modIndex: number, expiresAtMs = 0): KvRecord {
  return { key: "k", value, createIndex, modIndex, expiresAtMs };
}

/** A store where "k" is in state `start` (written at index 1); the next index is 2. */
async function prepared(open: () => Promise<KvStore>, start: Start): Promise<Applier> {
  const a = new Applier(await open());
  if (start === "absent") a.index = 1;
  else {
    const expiresAtMs = startExpiry[start];
    a.run({ kind: "put", key: "k", value: "old", nowMs: 0,
      ...(expiresAtMs === 0 ? {} : { expiresAtMs }) });
  }
  return a;
}

type PutOptions = Pick<PutCommand, "expiresAtMs" | "keepTtl" | "condition">;
const putCases: {
  start: Start; options: PutOptions; written: boolean; prev: string | null;
  after: KvRecord | undefined;
}[] = [
  { start: "absent", options: {}, written: true, prev: null, after: record("new", 2, 2) },
  { start: "live", options: {}, written: true, prev: "old", after: record("new", 1, 2) },
  { start: "ttl", options: {}, written: true, prev: "old", after: record("new", 1, 2) },
  { start: "expired", options: {}, written: true, prev: null, after: record("new", 2, 2) },
  { start: "ttl", options: { expiresAtMs: 5000 }, written: true, prev: "old",
    after: record("new", 1, 2, 5000) },
  { start: "ttl", options: { keepTtl: true }, written: true, prev: "old",
    after: record("new", 1, 2, 2000) },
  { start: "expired", options: { keepTtl: true }, written: true, prev: null,
    after: record("new", 2, 2) },
  { start: "absent", options: { keepTtl: true }, written: true, prev: null,
    after: record("new", 2, 2) },
  { start: "absent", options: { condition: "absent" }, written: true, prev: null,
    after: record("new", 2, 2) },
  { start: "live", options: { condition: "absent" }, written: false, prev: "old",
    after: record("old", 1, 1) },
  { start: "expired", options: { condition: "absent" }, written: true, prev: null,
    after: record("new", 2, 2) },
  { start: "absent", options: { condition: "present" }, written: false, prev: null,
    after: undefined },
  { start: "expired", options: { condition: "present" }, written: false, prev: null,
    after: record("old", 1, 1, 500) },
  { start: "ttl", options: { condition: "present", keepTtl: true }, written: true, prev: "old",
    after: record("new", 1, 2, 2000) },
];

for (const kind of storeKinds) {
  const open = () => kind.open();

  describe(`${kind.name}: puts with conditions and expiries`, () => {
    for (const c of putCases) {
      test(`put ${JSON.stringify(c.options)} on a ${c.start} key: written ${c.written}`,
        async () => {
          const a = await prepared(open, c.start);
          const result = a.run({ kind: "put", key: "k", value: "new", nowMs: now, ...c.options });
          assert.deepEqual(result, { kind: "put", index: 2, written: c.written,
            prevValue: c.prev, prevModIndex: c.prev === null ? null : 1 });
          assert.deepEqual(a.sm.get("k"), c.after);
          await a.sm.close();
        });
    }

    test("without nowMs nothing is expired: an absent-only put on an old key fails", async () => {
      const a = await prepared(open, "expired");
      assert.deepEqual(a.run({ kind: "put", key: "k", value: "new", condition: "absent" }),
        { kind: "put", index: 2, written: false, prevValue: "old", prevModIndex: 1 });
      assert.deepEqual(a.sm.get("k"), record("old", 1, 1, 500));
      assert.equal(a.sm.get("k", now), undefined, "a read with a clock hides it");
      assert.deepEqual(a.sm.get("k", 499), record("old", 1, 1, 500));
      await a.sm.close();
    });
  });

  describe(`${kind.name}: incr`, () => {
    const cases: { stored: string | undefined; delta: string; value: string | null;
      error: "NOT_INTEGER" | "OVERFLOW" | null }[] = [
      { stored: undefined, delta: "5", value: "5", error: null },
      { stored: "10", delta: "-3", value: "7", error: null },
      { stored: "-7", delta: "7", value: "0", error: null },
      { stored: "9223372036854775806", delta: "1", value: "9223372036854775807", error: null },
      { stored: "-9223372036854775808", delta: "0", value: "-9223372036854775808", error: null },
      { stored: "9223372036854775807", delta: "1", value: null, error: "OVERFLOW" },
      { stored: "-9223372036854775808", delta: "-1", value: null, error: "OVERFLOW" },
      ...["abc", "", " 1", "1 ", "+1", "01", "-0", "1.5", "1e3", "9223372036854775808",
        "-9223372036854775809", "\u0661"].map((stored) =>
        ({ stored, delta: "1", value: null, error: "NOT_INTEGER" as const })),
    ];
    for (const c of cases) {
      test(`incr ${JSON.stringify(c.stored)} by ${c.delta} gives ${c.value ?? c.error}`,
        async () => {
          const a = new Applier(await open());
          if (c.stored !== undefined) a.put("k", c.stored);
          const before = a.sm.get("k");
          const result = a.run({ kind: "incr", key: "k", delta: c.delta, nowMs: now });
          assert.deepEqual(result, { kind: "incr", index: a.index, value: c.value,
            error: c.error });
          const expected = c.value === null ? before
            : { ...record(c.value, before?.createIndex ?? a.index, a.index) };
          assert.deepEqual(a.sm.get("k"), expected);
          await a.sm.close();
        });
    }

    test("incr keeps a live key's expiry and restarts an expired key from 0", async () => {
      const a = await prepared(open, "ttl");
      a.run({ kind: "put", key: "k", value: "100", keepTtl: true, nowMs: now });
      assert.deepEqual(a.run({ kind: "incr", key: "k", delta: "1", nowMs: now }),
        { kind: "incr", index: 3, value: "101", error: null });
      assert.deepEqual(a.sm.get("k"), record("101", 1, 3, 2000));
      assert.deepEqual(a.run({ kind: "incr", key: "k", delta: "1", nowMs: 2000 }),
        { kind: "incr", index: 4, value: "1", error: null });
      assert.deepEqual(a.sm.get("k"), record("1", 4, 4));
      await a.sm.close();
    });
  });

  describe(`${kind.name}: expire`, () => {
    const cases: { start: Start; expiresAtMs: number; existed: boolean;
      after: KvRecord | undefined }[] = [
      { start: "absent", expiresAtMs: 5000, existed: false, after: undefined },
      { start: "live", expiresAtMs: 5000, existed: true, after: record("old", 1, 1, 5000) },
      { start: "ttl", expiresAtMs: 0, existed: true, after: record("old", 1, 1) },
      { start: "ttl", expiresAtMs: 800, existed: true, after: record("old", 1, 1, 800) },
      { start: "expired", expiresAtMs: 5000, existed: false, after: record("old", 1, 1, 500) },
      { start: "expired", expiresAtMs: 0, existed: false, after: record("old", 1, 1, 500) },
    ];
    for (const c of cases) {
      test(`expire ${c.expiresAtMs} on a ${c.start} key: existed ${c.existed}, modIndex kept`,
        async () => {
          const a = await prepared(open, c.start);
          assert.deepEqual(a.run({ kind: "expire", key: "k", expiresAtMs: c.expiresAtMs,
            nowMs: now }), { kind: "expire", index: 2, existed: c.existed });
          assert.deepEqual(a.sm.get("k"), c.after);
          await a.sm.close();
        });
    }
  });

  describe(`${kind.name}: delete, transactions and sweeps see expiry`, () => {
    test("deleting an expired key says it did not exist and removes it", async () => {
      const a = await prepared(open, "expired");
      assert.deepEqual(a.run({ kind: "delete", key: "k", nowMs: now }),
        { kind: "delete", index: 2, existed: false });
      assert.equal(a.sm.get("k"), undefined);
      assert.equal(a.sm.size, 0);
      await a.sm.close();
    });

    test("txn compares and gets treat an expired key as absent; txn puts clear the TTL",
      async () => {
        const a = await prepared(open, "expired");
        a.run({ kind: "put", key: "t", value: "x", expiresAtMs: 2000, nowMs: now });
        const command: Command = { kind: "txn", nowMs: now, txn: {
          compare: [{ target: "absent", key: "k" }, { target: "modIndex", key: "k", modIndex: 0 }],
          success: [{ op: "get", key: "k" }, { op: "put", key: "k", value: "v" },
            { op: "put", key: "t", value: "y" }],
          failure: [] } };
        assert.deepEqual(a.run(command), { kind: "txn", index: 3, succeeded: true, results: [
          { op: "get", value: null, createIndex: null, modIndex: null },
          { op: "put", prevValue: null, prevModIndex: null },
          { op: "put", prevValue: "x", prevModIndex: 2 },
        ] });
        assert.deepEqual(a.sm.get("k"), record("v", 3, 3));
        assert.deepEqual(a.sm.get("t"), { ...record("y", 2, 3), key: "t" });
        const valueCompare = await prepared(open, "expired");
        const failed = valueCompare.run({ kind: "txn", nowMs: now, txn: {
          compare: [{ target: "value", key: "k", value: "old" }], success: [], failure: [] } });
        assert.equal(failed.kind === "txn" && failed.succeeded, false);
        await a.sm.close();
        await valueCompare.sm.close();
      });

    test("a sweep deletes listed keys only while expired and unchanged", async () => {
      const a = new Applier(await open());
      a.nowMs = 0;
      for (const key of ["a", "b", "c", "d"]) {
        a.run({ kind: "put", key, value: key, expiresAtMs: key === "c" ? 5000 : 900 });
      }
      a.put("e", "no ttl");
      const result = a.run({ kind: "sweep", nowMs: now, keys: [
        { key: "a", modIndex: 1 }, { key: "a", modIndex: 1 }, // listed twice, deleted once
        { key: "b", modIndex: 7 }, // rewritten since the sweeper looked
        { key: "c", modIndex: 3 }, // not expired yet
        { key: "e", modIndex: 5 }, // no expiry
        { key: "zz", modIndex: 1 }, // absent
      ] });
      assert.deepEqual(result, { kind: "sweep", index: 6, deleted: 1 });
      assert.deepEqual(a.sm.range("", 10).records.map((r) => r.key), ["b", "c", "d", "e"]);
      await a.sm.close();
    });
  });
}
