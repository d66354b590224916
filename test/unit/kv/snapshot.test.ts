// Proves snapshots: a restored replica has the same contents, expiries and sessions (equal state
// hash), whatever the chunking; a snapshot reflects the moment snapshot() was called even while
// applies continue during streaming; and every truncation, every single-bit flip, trailing
// bytes, a failing source or a snapshot newer than its meta is refused with a typed error that
// leaves the previous state untouched.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Sfc32 } from "../../../src/core/prng.js";
import { CorruptKvSnapshotError } from "../../../src/kv/errors.js";
import { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import type { Command } from "../../../src/kv/types.js";
import { Applier, collect, meta, rechunk, seed } from "./helpers.js";

/** A seeded mix of puts (some with a TTL), incrs, deletes, transactions and sessions. */
function workload(a: Applier<KvStateMachine>, prng: Sfc32, commands: number): void {
  const key = () => `key/${prng.nextInt(400)}${prng.nextInt(4) === 0 ? "\u{1F600}" : ""}`;
  for (let i = 0; i < commands; i++) {
    const clientId = `c${prng.nextInt(8)}`;
    const roll = prng.nextInt(12);
    let command: Command;
    if (roll < 5) command = { kind: "put", key: key(), value: `v${a.index}é` };
    else if (roll < 6) {
      command = { kind: "put", key: key(), value: "ttl", expiresAtMs: 1000 + a.index, nowMs: 0 };
    } else if (roll < 7) command = { kind: "incr", key: `n${prng.nextInt(9)}`, delta: "-3" };
    else if (roll < 9) command = { kind: "delete", key: key() };
    else {
      command = { kind: "txn", txn: { compare: [{ target: "absent", key: key() }],
        success: [{ op: "put", key: key(), value: "t" }, { op: "get", key: key() }],
        failure: [{ op: "get", key: key() }, { op: "delete", key: key() }] } };
    }
    if (prng.nextInt(3) === 0) command = { ...command, session: { clientId, sequence: i + 1 } };
    a.run(command);
  }
}

async function snapshotBytes(sm: KvStateMachine): Promise<Buffer> {
  return Buffer.concat(await collect(sm.snapshot()));
}

function populated(commands: number, chunkBytes = 4096): Applier<KvStateMachine> {
  const a = new Applier(new KvStateMachine({ snapshotChunkBytes: chunkBytes }));
  workload(a, new Sfc32(seed), commands);
  return a;
}

describe("snapshot round trip", () => {
  test(`a restored replica equals the original, however the stream is cut (seed ${seed})`,
    async () => {
      const a = populated(3000);
      const bytes = await snapshotBytes(a.sm);
      const chunkings = [[bytes.length], [1], [3, 7, 1000], [4096], [22, 5, 8191]];
      for (const sizes of chunkings) {
        const b = new KvStateMachine();
        await b.restore(rechunk(bytes, sizes), meta(a.index + 5));
        assert.equal(b.stateHash(), a.sm.stateHash(), `chunks ${sizes.join(",")}`);
        assert.equal(b.size, a.sm.size);
        assert.equal(b.sessionCount, a.sm.sessionCount);
        assert.equal(b.lastAppliedIndex, a.index + 5);
        assert.deepEqual(b.range("key/1", 50), a.sm.range("key/1", 50));
      }
    });

  test("restored sessions still deduplicate, and applies continue after the meta index",
    async () => {
      const a = new Applier(new KvStateMachine());
      const saved = a.run({ kind: "txn", session: { clientId: "c", sequence: 1 }, txn: {
        compare: [], success: [{ op: "put", key: "k", value: "v" }, { op: "get", key: "k" }],
        failure: [] } });
      const b = new Applier(new KvStateMachine(), 10);
      await b.sm.restore(a.sm.snapshot(), meta(10));
      assert.deepEqual(b.put("k", "ignored", { clientId: "c", sequence: 1 }), saved);
      assert.equal(b.sm.get("k")?.value, "v");
      assert.equal(b.put("k", "w").index, 12);
    });

  test("records keep their expiry: reads, expiredKeys and sweeps agree after a restore",
    async () => {
      const a = populated(2000);
      const expired = a.sm.expiredKeys(2600, 10_000);
      assert.ok(expired.length > 20, `${expired.length} keys expired at 2600`);
      const b = new Applier(new KvStateMachine(), a.index);
      await b.sm.restore(a.sm.snapshot(), meta(a.index));
      assert.deepEqual(b.sm.expiredKeys(2600, 10_000), expired);
      assert.deepEqual(b.sm.range("", 10_000, { nowMs: 2600 }),
        a.sm.range("", 10_000, { nowMs: 2600 }));
      const first = expired[0];
      assert.ok(first !== undefined);
      assert.deepEqual(b.sm.get(first.key), a.sm.get(first.key));
      assert.ok((b.sm.get(first.key)?.expiresAtMs ?? 0) > 1000);
      const sweep: Command = { kind: "sweep", keys: expired, nowMs: 2600 };
      assert.deepEqual(b.run(sweep), { kind: "sweep", index: b.index,
        deleted: expired.length });
      assert.deepEqual(b.sm.expiredKeys(2600, 10_000), []);
      assert.equal(b.sm.size, a.sm.size - expired.length);
    });

  test("an empty state round-trips", async () => {
    const b = populated(50);
    await b.sm.restore(new KvStateMachine().snapshot(), meta(0));
    assert.equal(b.sm.size, 0);
    assert.equal(b.sm.stateHash(), new KvStateMachine().stateHash());
  });

  test(`the snapshot reflects the moment of the call while applies continue (seed ${seed})`,
    async () => {
      const a = populated(3000);
      const hashAtCall = a.sm.stateHash();
      const indexAtCall = a.index;
      const first = a.sm.snapshot();
      const prng = new Sfc32(seed + 1);
      workload(a, prng, 2000); // before the first chunk is even pulled
      const hashAtSecond = a.sm.stateHash();
      const second = a.sm.snapshot();
      const firstChunks: Buffer[] = [];
      for await (const chunk of first) {
        firstChunks.push(Buffer.from(chunk));
        workload(a, prng, 100); // and between chunks
      }
      const secondBytes = Buffer.concat(await collect(second));
      assert.ok(firstChunks.length > 3, `streamed in ${firstChunks.length} chunks`);
      assert.notEqual(a.sm.stateHash(), hashAtCall);
      const b = new KvStateMachine();
      await b.restore(rechunk(Buffer.concat(firstChunks), [4096]), meta(indexAtCall));
      assert.equal(b.stateHash(), hashAtCall);
      await b.restore(rechunk(secondBytes, [4096]), meta(indexAtCall + 2000));
      assert.equal(b.stateHash(), hashAtSecond);
    });
});

describe("corrupt snapshots", () => {
  async function expectRejected(target: KvStateMachine, source: AsyncIterable<Uint8Array>,
    index: number, what: string): Promise<void> {
    const before = target.stateHash();
    const applied = target.lastAppliedIndex;
    await assert.rejects(target.restore(source, meta(index)), CorruptKvSnapshotError, what);
    assert.equal(target.stateHash(), before, `${what}: state untouched`);
    assert.equal(target.lastAppliedIndex, applied, `${what}: index untouched`);
  }

  test("every truncation and every single-bit flip is rejected, state untouched", async () => {
    const a = populated(60);
    const bytes = await snapshotBytes(a.sm);
    const target = populated(20).sm;
    assert.ok(bytes.length > 500 && bytes.length < 8000, `snapshot of ${bytes.length} bytes`);
    for (let cut = 0; cut < bytes.length; cut++) {
      await expectRejected(target, rechunk(bytes.subarray(0, cut), [97]), a.index,
        `cut at ${cut}`);
    }
    for (let at = 0; at < bytes.length; at++) {
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] as number) ^ (1 << (at % 8));
      await expectRejected(target, rechunk(flipped, [97]), a.index, `flip at ${at}`);
    }
  });

  test("trailing bytes, a newer snapshot than its meta, and a bad version are rejected",
    async () => {
      const a = populated(100);
      const bytes = await snapshotBytes(a.sm);
      const target = populated(20).sm;
      await expectRejected(target, rechunk(Buffer.concat([bytes, Buffer.from([0])]), [4096]),
        a.index, "trailing byte");
      await expectRejected(target, rechunk(bytes, [4096]), a.index - 1, "meta before snapshot");
      const version = Buffer.from(bytes);
      version.writeUInt16LE(1, 4);
      await expectRejected(target, rechunk(version, [4096]), a.index, "version 1");
    });

  test("a source that fails mid-stream propagates its error and changes nothing", async () => {
    const a = populated(1000);
    const bytes = await snapshotBytes(a.sm);
    const target = populated(20).sm;
    const before = target.stateHash();
    async function* failing(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, bytes.length >> 1);
      throw new Error("disk read failed");
    }
    await assert.rejects(target.restore(failing(), meta(a.index)), /disk read failed/);
    assert.equal(target.stateHash(), before);
  });
});
