// The StableStore and SnapshotStore half of the conformance suite.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type SnapshotMeta, nodeId } from "../../core/types.js";
import { SnapshotFinishedError } from "../errors.js";
import { readSnapshot, writeSnapshot } from "../snapshot-io.js";
import { emptyStableState } from "../types.js";
import { seededRandom } from "./fixtures.js";
import { type ConformanceBackend, backendLabel, withStorage } from "./harness.js";

export function describeStableConformance(backend: ConformanceBackend): void {
  describe(`${backendLabel(backend)} stable store`, () => {
    it("a fresh store holds the empty state", () =>
      withStorage(backend, async (context) => {
        assert.deepEqual(context.storage.stable.get(), emptyStableState);
        assert.deepEqual((await context.reopen()).stable.get(), emptyStableState);
      }));

    it("the state round-trips, survives a reopen, and a partial update keeps the rest", () =>
      withStorage(backend, async (context) => {
        const stable = context.storage.stable;
        await stable.set({ clusterId: "cluster-ü-1", nodeId: nodeId(3) });
        await stable.set({ hardState: { term: 5, vote: nodeId(2), commit: 9 } });
        const expected = {
          hardState: { term: 5, vote: nodeId(2), commit: 9 },
          clusterId: "cluster-ü-1",
          nodeId: nodeId(3),
        };
        assert.deepEqual(stable.get(), expected);
        assert.deepEqual((await context.reopen()).stable.get(), expected);
        await context.storage.stable.set({ hardState: { term: 6, vote: null, commit: 9 } });
        await context.storage.stable.set({ hardState: { term: 2 ** 40, vote: null, commit: 12 } });
        const latest = { ...expected, hardState: { term: 2 ** 40, vote: null, commit: 12 } };
        assert.deepEqual((await context.reopen()).stable.get(), latest);
      }));
  });
}

export function describeSnapshotConformance(backend: ConformanceBackend): void {
  describe(`${backendLabel(backend)} snapshot store`, () => {
    it("an empty store has no latest snapshot and lists nothing", () =>
      withStorage(backend, async (context) => {
        assert.equal(await context.storage.snapshots.latest(), null);
        assert.deepEqual(await context.storage.snapshots.list(), []);
      }));

    it("a committed snapshot opens as the latest with its data and meta, also after reopen", () =>
      withStorage(backend, async (context) => {
        const data = randomBytes(3 * 1024 * 1024 + 17, 11);
        const meta = snapshotMeta(120, 4);
        await writeSnapshot(context.storage.snapshots, meta, chunksOf(data, 100_000));
        for (let round = 0; round < 2; round += 1) {
          const reader = await context.storage.snapshots.latest();
          assert.ok(reader !== null);
          assert.deepEqual(reader.meta, meta);
          assert.equal(reader.dataBytes, data.length);
          assert.ok(Buffer.from(await readSnapshot(reader)).equals(data));
          await context.reopen();
        }
      }));

    it("list is newest first and retain keeps only the newest N", () =>
      withStorage(backend, async (context) => {
        const snapshots = context.storage.snapshots;
        for (const index of [10, 40, 20, 30]) {
          await writeSnapshot(snapshots, snapshotMeta(index, 1), [Buffer.from(`snap ${index}`)]);
        }
        assert.deepEqual((await snapshots.list()).map((meta) => meta.index), [40, 30, 20, 10]);
        await snapshots.retain(2);
        const kept = (await context.reopen()).snapshots;
        assert.deepEqual((await kept.list()).map((meta) => meta.index), [40, 30]);
        const latest = await kept.latest();
        assert.ok(latest !== null);
        assert.equal(Buffer.from(await readSnapshot(latest)).toString(), "snap 40");
        assert.deepEqual(await kept.indexes(), [40, 30]);
        const older = await kept.open(30);
        assert.ok(older !== null);
        assert.equal(older.meta.index, 30);
        assert.equal(Buffer.from(await readSnapshot(older)).toString(), "snap 30");
        assert.equal(await kept.open(20), null, "a deleted snapshot cannot be opened");
      }));

    it("an aborted or never committed snapshot leaves nothing behind", () =>
      withStorage(backend, async (context) => {
        const aborted = await context.storage.snapshots.create(snapshotMeta(50, 2));
        await aborted.write(randomBytes(1000, 3));
        await aborted.abort();
        await assert.rejects(aborted.write(Buffer.from("x")), SnapshotFinishedError);
        assert.deepEqual(await context.storage.snapshots.list(), []);
        assert.deepEqual(await context.place.snapshotLeftovers(), []);
        const abandoned = await context.storage.snapshots.create(snapshotMeta(60, 2));
        await abandoned.write(randomBytes(1000, 4));
        await context.reopen();
        assert.deepEqual(await context.storage.snapshots.list(), []);
        assert.deepEqual(await context.place.snapshotLeftovers(), []);
        assert.equal(await context.storage.snapshots.latest(), null);
      }));
  });
}

function snapshotMeta(index: number, term: number): SnapshotMeta {
  return {
    index,
    term,
    // With the members' addresses: a node restarted from the snapshot reaches its peers by them.
    configuration: { voters: [nodeId(1), nodeId(2), nodeId(3)], votersOutgoing: [],
      learners: [nodeId(4)], addresses: { 1: "10.0.0.1:7001", 2: "10.0.0.2:7001",
        3: "10.0.0.3:7001", 4: "10.0.0.4:7001" } },
  };
}

function randomBytes(length: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 1) buf[i] = Math.floor(random() * 256);
  return buf;
}

function* chunksOf(data: Buffer, size: number): Iterable<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) {
    yield data.subarray(offset, offset + size);
  }
}
