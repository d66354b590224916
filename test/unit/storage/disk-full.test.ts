// Proves what each disk backend does when its disk fills up, on a real file system (a tmpfs of
// a few MiB, which answers ENOSPC): the append that hits the full disk fails with
// StorageFailedError naming what the system reported, the store stops (every later call gives
// the same reason) instead of crashing the process, a snapshot that cannot be written leaves
// the previous one and no partial file, and once the disk has room again the store reopens with
// every acknowledged entry intact and takes new appends. Needs root to mount the tmpfs.

import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type Entry, nodeId } from "../../../src/core/types.js";
import { makeEntries, makeEntry } from "../../../src/storage/conformance/fixtures.js";
import { StorageFailedError } from "../../../src/storage/errors.js";
import { snapshotName } from "../../../src/storage/file/file-snapshot-store.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import { readSnapshot, writeSnapshot } from "../../../src/storage/snapshot-io.js";
import { type DiskStorageKind, type Storage, diskStorageKinds } from "../../../src/storage/types.js";
import { Tmpfs, tmpfsUnavailable } from "../../support/storage/tmpfs.js";

const diskBytes = 4 * 1024 * 1024;
const entryBytes = 1000;
const batch = 16;
/** More than a 4 MiB disk can hold of 16 KB batches: the loop must end on a full disk. */
const batchesMax = 1000;
const hardState = { term: 3, vote: nodeId(2), commit: 0 };
const configuration = { voters: [nodeId(1), nodeId(2), nodeId(3)], votersOutgoing: [],
  learners: [] };
const snapshotData = Buffer.alloc(64 * 1024, 0x2e);
const first = { index: 0, term: 0, configuration };

/** What each backend's error names: the system's or the engine's report of a full disk. */
const reasons: Record<DiskStorageKind, RegExp> = {
  wal: /ENOSPC: no space left on device/,
  lmdb: /LMDB commit failed: .+ \(\d+\.\d MiB free on its disk\)/,
  level: /No space left on device/,
};

function open(kind: DiskStorageKind, dir: string): Promise<Storage> {
  // Small WAL segments, so that several are made (and preallocated) before the disk is full.
  return kind === "wal"
    ? openStorage({ kind, dir, segmentBytes: 256 * 1024 })
    : openStorage({ kind, dir });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => assert.fail("expected a rejection"), (error: unknown) => error);
}

function assertStopped(error: unknown, reason: RegExp): void {
  assert.ok(error instanceof StorageFailedError, `expected StorageFailedError, got ${error}`);
  assert.equal(error.code, "STORAGE_FAILED");
  assert.match(error.message, /failed and the store has stopped: /);
  assert.match(error.message, reason);
}

function assertEntries(got: readonly Entry[], from: number): void {
  for (const [offset, entry] of got.entries()) {
    const want = makeEntry(from + offset, 1, entryBytes);
    assert.equal(entry.index, want.index);
    assert.equal(entry.term, want.term);
    assert.deepEqual(Buffer.from(entry.data), Buffer.from(want.data), `entry ${want.index}`);
  }
}

const unavailable = await tmpfsUnavailable();

describe("a full disk", { skip: unavailable ?? false }, () => {
  for (const kind of diskStorageKinds) {
    it(`${kind}: stops the store with the system's reason and loses no acknowledged entry`,
      async () => {
        const disk = await Tmpfs.mount(diskBytes);
        try {
          let storage = await open(kind, disk.dir);
          await storage.stable.set({ hardState, clusterId: "full" });
          await writeSnapshot(storage.snapshots, first, [snapshotData]);

          let acked = 0;
          let failure: unknown = null;
          for (let n = 0; n < batchesMax && failure === null; n += 1) {
            const entries = makeEntries(acked + 1, acked + batch, 1, entryBytes);
            failure = await storage.log.append(entries, { sync: true })
              .then(() => null, (error: unknown) => error);
            if (failure === null) acked += batch;
          }
          assert.ok(failure !== null, `${batchesMax} batches fitted on a ${diskBytes}-byte disk`);
          assert.ok(acked > 0, "the disk was full before the first append");
          assertStopped(failure, reasons[kind]);
          // Stopped: a later append fails at once, with the same reason.
          assertStopped(await rejection(storage.log.append(makeEntries(acked + 1, acked + 1, 1,
            entryBytes), { sync: true })), reasons[kind]);

          // The hard state is saved, or fails with the same kind of error and stops its store.
          const next = { ...hardState, term: 4 };
          const stableFailure = await storage.stable.set({ hardState: next })
            .then(() => null, (error: unknown) => error);
          if (stableFailure !== null) assertStopped(stableFailure, reasons[kind]);
          const savedState = stableFailure === null ? next : hardState;

          // A snapshot that does not fit fails and leaves the committed one.
          const big = Buffer.alloc(diskBytes, 0x3f);
          assert.ok(await rejection(writeSnapshot(storage.snapshots,
            { index: acked, term: 1, configuration }, [big])) instanceof Error);
          assert.deepEqual(await storage.snapshots.indexes(), [0]);
          await storage.close();

          await disk.resize(4 * diskBytes);
          storage = await open(kind, disk.dir);
          try {
            assert.deepEqual(storage.stable.get().hardState, savedState);
            assert.equal(storage.log.firstIndex(), 1);
            // Every acknowledged entry, intact; anything after them was written whole.
            const last = storage.log.lastIndex();
            assert.ok(last >= acked, `last index ${last}, ${acked} acknowledged`);
            for (let lo = 1; lo <= last; lo += 256) {
              const hi = Math.min(last + 1, lo + 256);
              const got = await storage.log.entries(lo, hi, Number.MAX_SAFE_INTEGER);
              assert.equal(got.length, hi - lo);
              assertEntries(got, lo);
            }
            const snapshotFiles = await readdir(join(disk.dir, "snapshots"));
            assert.deepEqual(snapshotFiles, [snapshotName(first)]);
            const snapshot = await storage.snapshots.latest();
            assert.ok(snapshot !== null);
            assert.equal(snapshot.meta.index, 0);
            assert.deepEqual(Buffer.from(await readSnapshot(snapshot)), snapshotData);
            // Room again: the store takes appends and a snapshot.
            await storage.log.append(makeEntries(last + 1, last + batch, 1, entryBytes),
              { sync: true });
            assertEntries(await storage.log.entries(last + 1, last + batch + 1, 1 << 30),
              last + 1);
            await writeSnapshot(storage.snapshots, { index: last, term: 1, configuration },
              [snapshotData]);
            assert.deepEqual(await storage.snapshots.indexes(), [last, 0]);
          } finally {
            await storage.close();
          }
        } finally {
          await disk.dispose();
        }
      });
  }
});
