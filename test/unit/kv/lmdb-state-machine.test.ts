// Proves the LMDB state machine: it computes exactly the memory state machine's results and
// state for the same seeded entries (including across a close/reopen and a snapshot exchange);
// a reopen keeps data, sessions and appliedIndex; a failed restore leaves the state untouched;
// a snapshot is the state when snapshot() was called however many applies follow, its read
// transaction is released when a stream ends or is abandoned; snapshots are byte-identical to
// the memory machine's and restore across kinds; keys long enough to share LMDB buckets behave
// like any other key.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { encodeCommand } from "../../../src/kv/command.js";
import { CorruptKvSnapshotError, KvStoreDamagedError } from "../../../src/kv/errors.js";
import { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import { openKvStateMachine } from "../../../src/kv/kv-store.js";
import { LmdbKvStateMachine } from "../../../src/kv/lmdb-state-machine.js";
import type { Command, KvResult } from "../../../src/kv/types.js";
import { open as openLmdb } from "lmdb";
import { Applier, collect, meta, rechunk, seed } from "./helpers.js";
import { removeStoreDirs, storeDir } from "./stores.js";
import { Workload } from "./workload.js";

after(removeStoreDirs);

function entry(index: number, command: Command) {
  return { index, term: 1, data: encodeCommand(command) };
}

/** Applies `count` workload entries with the next indexes. */
function feed(a: Applier, workload: Workload, count: number): void {
  for (let i = 0; i < count; i++) a.sm.apply({ index: ++a.index, term: 1, data: workload.next() });
}

async function snapshotBytes(sm: { snapshot(): AsyncIterable<Uint8Array> }): Promise<Buffer> {
  return Buffer.concat(await collect(sm.snapshot()));
}

/** The reads both machines must answer alike at `nowMs`. */
function reads(sm: LmdbKvStateMachine | KvStateMachine, nowMs: number): unknown {
  return {
    all: sm.range("", 10_000),
    live: sm.range("k/", 25, { nowMs, after: "k/2" }),
    long: sm.range("LLLL", 3, { nowMs }),
    expired: sm.expiredKeys(nowMs + 200, 50),
    get: [sm.get("k/7", nowMs), sm.get(`${"L".repeat(1950)}1`)],
    size: sm.size,
    sessions: sm.sessionCount,
  };
}

describe("LMDB and memory state machines are equivalent", () => {
  test(`the same seeded entries give the same results, reads and state, one by one or in batches (seed ${seed})`,
    async () => {
      const dir = storeDir();
      const memory = new KvStateMachine({ sessionsMax: 8 });
      let lmdb = await LmdbKvStateMachine.open(dir, { sessionsMax: 8 });
      const workload = new Workload(seed);
      let index = 0;
      for (let batch = 0; batch < 12; batch++) {
        const entries = [];
        for (let i = 0; i < 150; i++) {
          index += 1 + (i % 7 === 0 ? 1 : 0); // indexes may skip (no-op entries)
          entries.push({ index, term: 1, data: workload.next() });
        }
        if (batch % 2 === 0) {
          // Even batches one entry at a time, odd ones in one transaction (applyBatch).
          for (const e of entries) assert.deepEqual(lmdb.apply(e), memory.apply(e), `entry ${e.index}`);
        } else {
          assert.deepEqual(lmdb.applyBatch(entries), entries.map((e) => memory.apply(e)), `batch ${batch}`);
        }
        const sweep = memory.expiredKeys(workload.nowMs, 100);
        index++;
        const e = entry(index, { kind: "sweep", keys: sweep, nowMs: workload.nowMs });
        assert.deepEqual(lmdb.apply(e), memory.apply(e), `sweep at ${index}`);
        assert.equal(lmdb.stateHash(), memory.stateHash(), `state after batch ${batch}`);
        assert.deepEqual(reads(lmdb, workload.nowMs), reads(memory, workload.nowMs));
        assert.equal(lmdb.appliedIndex(), index);
        if (batch % 4 === 3) {
          await lmdb.close();
          lmdb = await LmdbKvStateMachine.open(dir, { sessionsMax: 8 });
          assert.equal(lmdb.appliedIndex(), index, "appliedIndex survives a reopen");
          assert.equal(lmdb.stateHash(), memory.stateHash(), "state survives a reopen");
        }
        if (batch === 5) await lmdb.restore(memory.snapshot(), meta(index));
      }
      assert.ok(memory.size > 30, `${memory.size} keys at the end`);
      assert.deepEqual(await snapshotBytes(lmdb), await snapshotBytes(memory),
        "byte-identical snapshots");
      await lmdb.close();
    });
});

describe("LMDB state machine", () => {
  test("a reopen keeps the data, the sessions and the applied index", async () => {
    const dir = storeDir();
    const a = new Applier(await LmdbKvStateMachine.open(dir), 4);
    a.run({ kind: "put", key: "k", value: "v", expiresAtMs: 5000, nowMs: 1 });
    const saved = a.run({ kind: "incr", key: "n", delta: "5", session: { clientId: "c",
      sequence: 1 } });
    const hash = a.sm.stateHash();
    await a.sm.close();
    const reopened = new Applier(await LmdbKvStateMachine.open(dir), 6);
    assert.equal(reopened.sm.appliedIndex(), 6);
    assert.equal(reopened.sm.stateHash(), hash);
    assert.deepEqual(reopened.sm.get("k"), { key: "k", value: "v", createIndex: 5,
      modIndex: 5, expiresAtMs: 5000 });
    assert.deepEqual(reopened.sm.expiredKeys(5000, 10), [{ key: "k", modIndex: 5 }]);
    assert.deepEqual(reopened.run({ kind: "incr", key: "n", delta: "5",
      session: { clientId: "c", sequence: 1 } }), saved, "the duplicate is answered, not applied");
    assert.equal(reopened.sm.get("n")?.value, "5");
    await reopened.sm.close();
  });

  test("a failed restore leaves the state and the applied index untouched", async () => {
    const source = new Applier(new KvStateMachine());
    const w = new Workload(seed + 1);
    feed(source, w, 400);
    const bytes = await snapshotBytes(source.sm);
    const dir = storeDir();
    const target = new Applier(await LmdbKvStateMachine.open(dir));
    target.put("mine", "1");
    const hash = target.sm.stateHash();
    async function* failing(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, bytes.length >> 1);
      throw new Error("disk read failed");
    }
    const flipped = Buffer.from(bytes);
    flipped[bytes.length >> 1] = (flipped[bytes.length >> 1] as number) ^ 4;
    type Expected = RegExp | typeof CorruptKvSnapshotError;
    const attempts: [string, AsyncIterable<Uint8Array>, Expected][] = [
      ["truncated", rechunk(bytes.subarray(0, bytes.length - 9), [4096]), CorruptKvSnapshotError],
      ["bit flip", rechunk(flipped, [777]), CorruptKvSnapshotError],
      ["failing source", failing(), /disk read failed/],
    ];
    for (const [what, chunks, error] of attempts) {
      await assert.rejects(target.sm.restore(chunks, meta(source.index)), error, what);
      assert.equal(target.sm.stateHash(), hash, `${what}: state untouched`);
      assert.equal(target.sm.appliedIndex(), 1, `${what}: index untouched`);
      assert.equal(target.sm.size, 1);
    }
    await target.sm.close();
    const reopened = await LmdbKvStateMachine.open(dir);
    assert.equal(reopened.stateHash(), hash);
    await reopened.restore(rechunk(bytes, [4096]), meta(source.index + 3));
    assert.equal(reopened.stateHash(), source.sm.stateHash());
    assert.equal(reopened.appliedIndex(), source.index + 3);
    await reopened.close();
    const again = await LmdbKvStateMachine.open(dir);
    assert.equal(again.stateHash(), source.sm.stateHash(), "a restore is durable across reopen");
    assert.equal(again.appliedIndex(), source.index + 3);
    await again.close();
  });

  test(`a snapshot is the state when snapshot() was called (seed ${seed})`, async () => {
    const a = new Applier(await LmdbKvStateMachine.open(storeDir(), {
      snapshotChunkBytes: 4096 }));
    const w = new Workload(seed + 2);
    feed(a, w, 1500);
    const hashAtCall = a.sm.stateHash();
    const indexAtCall = a.index;
    const stream = a.sm.snapshot();
    feed(a, w, 300);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) {
      chunks.push(Buffer.from(chunk));
      feed(a, w, 20);
      await new Promise((resolve) => setImmediate(resolve)); // lmdb-js renews reads per turn
    }
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    assert.notEqual(a.sm.stateHash(), hashAtCall);
    const copy = new KvStateMachine();
    await copy.restore(rechunk(Buffer.concat(chunks), [4096]), meta(indexAtCall));
    assert.equal(copy.stateHash(), hashAtCall);
    await a.sm.close();
  });

  test("abandoned and finished snapshot streams release their read transactions", async () => {
    const a = new Applier(await LmdbKvStateMachine.open(storeDir(), {
      snapshotChunkBytes: 4096 }));
    for (let i = 0; i < 300; i++) a.put(`key/${i}`, "v".repeat(100));
    // More than LMDB's 126 reader slots: a leaked transaction per stream would exhaust them.
    for (let i = 0; i < 300; i++) {
      a.put("tick", `${i}`); // a write between snapshots: each pins a new transaction
      const stream = a.sm.snapshot();
      for await (const chunk of stream) {
        assert.ok(chunk.byteLength > 0);
        break; // return(): abandons the stream after one chunk
      }
    }
    const unread = a.sm.snapshot(); // never iterated: close() releases it
    assert.ok(unread !== undefined);
    await a.sm.close();
  });

  test("snapshots restore across kinds: LMDB into memory and memory into LMDB", async () => {
    const memory = new Applier(new KvStateMachine());
    const w = new Workload(seed + 3);
    feed(memory, w, 800);
    const lmdb = await LmdbKvStateMachine.open(storeDir());
    await lmdb.restore(memory.sm.snapshot(), meta(memory.index));
    assert.equal(lmdb.stateHash(), memory.sm.stateHash());
    const back = new KvStateMachine();
    await back.restore(lmdb.snapshot(), meta(memory.index));
    assert.equal(back.stateHash(), memory.sm.stateHash());
    assert.deepEqual(await snapshotBytes(lmdb), await snapshotBytes(memory.sm));
    await lmdb.close();
  });

  test("keys sharing a 1900-byte prefix (one LMDB bucket) behave like any keys", async () => {
    const a = new Applier(await LmdbKvStateMachine.open(storeDir()));
    const m = new Applier(new KvStateMachine());
    const long = (suffix: string) => `${"p".repeat(1899)}${suffix}`;
    const commands: Command[] = [
      { kind: "put", key: long("b"), value: "1", expiresAtMs: 50, nowMs: 0 },
      { kind: "put", key: long("a"), value: "2", expiresAtMs: 50, nowMs: 0 },
      { kind: "put", key: long(""), value: "3" },
      { kind: "put", key: long("a\u{1F600}"), value: "4", expiresAtMs: 70, nowMs: 0 },
      { kind: "put", key: "p".repeat(1898), value: "short" },
      { kind: "put", key: "q", value: "after" },
      { kind: "incr", key: long("n"), delta: "9" },
      { kind: "delete", key: long("b") },
      { kind: "expire", key: long("a"), expiresAtMs: 0, nowMs: 10 },
    ];
    for (const command of commands) assert.deepEqual(a.run(command), m.run(command));
    const keys = a.sm.range("pp", 10).records.map((r) => r.key.slice(1897));
    assert.deepEqual(keys, ["p", "pp", "ppa", "ppa\u{1F600}", "ppn"]);
    assert.deepEqual(a.sm.range("pp", 10), m.sm.range("pp", 10));
    const page = { after: long("") };
    assert.deepEqual(a.sm.range("", 2, page), m.sm.range("", 2, page));
    assert.deepEqual(a.sm.expiredKeys(100, 10), [{ key: long("a\u{1F600}"), modIndex: 4 }]);
    assert.equal(a.sm.stateHash(), m.sm.stateHash());
    const sweep: Command = { kind: "sweep", keys: a.sm.expiredKeys(100, 10), nowMs: 100 };
    assert.deepEqual(a.run(sweep), m.run(sweep));
    assert.equal(a.sm.size, 5);
    assert.equal(a.sm.stateHash(), m.sm.stateHash());
    await a.sm.close();
  });

  test("openKvStateMachine opens either kind; an unknown layout is refused", async () => {
    const memory = await openKvStateMachine({ kind: "memory", sessionsMax: 5 });
    assert.ok(memory instanceof KvStateMachine);
    assert.ok(!("appliedIndex" in memory), "the memory machine is volatile");
    const dir = storeDir();
    const lmdb = await openKvStateMachine({ kind: "lmdb", dir });
    const result: KvResult = lmdb.apply(entry(3, { kind: "put", key: "k", value: "v" }));
    assert.equal(result.kind, "put");
    assert.equal(await lmdb.appliedIndex?.(), 3);
    await lmdb.close();
    const raw = openLmdb<Buffer, Buffer>({ path: dir, noSubdir: false, noSync: true,
      keyEncoding: "binary", encoding: "binary" });
    const metaDb = raw.openDB<Buffer, Buffer>("meta", { keyEncoding: "binary",
      encoding: "binary" });
    metaDb.putSync(Buffer.from("layout"), Buffer.from([9, 0, 0, 0]));
    await raw.close();
    await assert.rejects(LmdbKvStateMachine.open(dir), KvStoreDamagedError);
  });
});
