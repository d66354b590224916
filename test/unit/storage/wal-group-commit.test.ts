// Proves the WAL's group commit: appends issued while a durable write is in flight share the
// next one, yet each synced append resolves only after a durable write (segments are opened
// with O_DSYNC, so the writev itself is the sync) that started after it was called; a
// truncateSuffix issued between appends waits for the earlier ones and is applied in call
// order (including cuts inside a multi-entry record, which reopen to the same log); and a
// failed durable write rejects every waiting append and stops the store. Everything is
// deterministic.

import assert from "node:assert/strict";
import { type FileHandle, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import type { Entry } from "../../../src/core/types.js";
import { makeEntries, plain, readAll } from "../../../src/storage/conformance/fixtures.js";
import { StorageFailedError } from "../../../src/storage/errors.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import { makeTempDir } from "../../support/storage/backends.js";

type Writev = FileHandle["writev"];

/** The prototype every FileHandle shares, so a test can observe or fail its writes. */
async function fileHandlePrototype(dir: string): Promise<{ writev: Writev }> {
  const handle = await open(join(dir, "probe"), "w");
  const prototype = Object.getPrototypeOf(handle) as { writev: Writev };
  await handle.close();
  return prototype;
}

let restore: (() => void) | null = null;
const dirs: string[] = [];

afterEach(async () => {
  restore?.();
  restore = null;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function freshWal(): Promise<{ dir: string; storage: Storage }> {
  const dir = await makeTempDir("wal-group");
  dirs.push(dir);
  return { dir, storage: await openStorage({ kind: "wal", dir, segmentBytes: 1 << 20 }) };
}

/** Wraps the (durable) writev so every start and end gets a number on one shared clock. */
async function traceSyncs(dir: string) {
  const prototype = await fileHandlePrototype(dir);
  const original = prototype.writev;
  const clock = { now: 0 };
  const syncs: { start: number; end: number }[] = [];
  prototype.writev = async function traced(this: FileHandle, ...args: Parameters<Writev>) {
    const sync = { start: (clock.now += 1), end: Infinity };
    syncs.push(sync);
    const result = await original.apply(this, args);
    sync.end = (clock.now += 1);
    return result;
  } as Writev;
  restore = () => { prototype.writev = original; };
  return { clock, syncs };
}

describe("WAL group commit", () => {
  it("concurrent synced appends share durable writes, each covered by one started after", async () => {
    const { dir, storage } = await freshWal();
    await storage.log.append(makeEntries(1, 1, 1), { sync: true });
    const { clock, syncs } = await traceSyncs(dir);
    const batches: Entry[][] = [];
    for (let k = 0; k < 8; k += 1) batches.push(makeEntries(2 + k * 10, 11 + k * 10, 1, 64));
    const covered = await Promise.all(batches.map(async (batch) => {
      const called = (clock.now += 1);
      await storage.log.append(batch, { sync: true });
      const resolved = (clock.now += 1);
      return syncs.some((sync) => sync.start > called && sync.end < resolved);
    }));
    assert.deepEqual(covered, batches.map(() => true), "an append resolved before its write");
    assert.ok(syncs.length < batches.length, `${syncs.length} durable writes for 8 appends`);
    restore?.();
    restore = null;
    const expected = makeEntries(1, 81, 1, 64).map((entry, k) => k === 0
      ? makeEntries(1, 1, 1)[0] as Entry
      : entry);
    assert.deepEqual(plain(await readAll(storage)), plain(expected));
    await storage.close();
    const again = await openStorage({ kind: "wal", dir });
    assert.deepEqual(plain(await readAll(again)), plain(expected));
    assert.deepEqual(again.repairs, []);
    await again.close();
  });

  it("run buffers reused from group to group never carry one batch's bytes into another",
    async () => {
      const { dir, storage } = await freshWal();
      // Batches of about 10 KiB: their buffers come from the WAL's pool (buffer-pool.ts) and go
      // back after their group's write, while the next appends are being encoded.
      const size = 500;
      let next = 1;
      for (let round = 0; round < 6; round += 1) {
        const batches: Entry[][] = [];
        for (let k = 0; k < 8; k += 1) {
          batches.push(makeEntries(next, next + 19, 1, size));
          next += 20;
        }
        await Promise.all(batches.map((batch) => storage.log.append(batch, { sync: true })));
      }
      const expected = plain(makeEntries(1, next - 1, 1, size));
      assert.deepEqual(plain(await readAll(storage)), expected);
      await storage.close();
      const reopened = await openStorage({ kind: "wal", dir, segmentBytes: 1 << 20 });
      try {
        assert.deepEqual(plain(await readAll(reopened)), expected);
      } finally {
        await reopened.close();
      }
    });

  it("a truncateSuffix between appends waits for them and applies in call order", async () => {
    const { dir, storage } = await freshWal();
    const order: string[] = [];
    const log = storage.log;
    const done = (name: string) => () => { order.push(name); };
    await Promise.all([
      log.append(makeEntries(1, 10, 1), { sync: true }).then(done("a1")),
      log.append(makeEntries(11, 20, 1), { sync: false }).then(done("a2")),
      log.truncateSuffix(15).then(done("t15")),
      log.append(makeEntries(15, 30, 2), { sync: true }).then(done("a3")),
      log.truncateSuffix(27).then(done("t27")),
      log.append(makeEntries(27, 33, 3), { sync: true }).then(done("a4")),
    ]);
    assert.deepEqual(order, ["a1", "a2", "t15", "a3", "t27", "a4"]);
    const expected = [
      ...makeEntries(1, 14, 1), ...makeEntries(15, 26, 2), ...makeEntries(27, 33, 3)];
    assert.deepEqual(plain(await readAll(storage)), plain(expected));
    assert.equal(log.lastIndex(), 33);
    await storage.close();
    const again = await openStorage({ kind: "wal", dir });
    assert.deepEqual(again.repairs, []);
    assert.deepEqual(plain(await readAll(again)), plain(expected));
    assert.equal(await again.log.term(14), 1);
    assert.deepEqual(plain(await again.log.entries(20, 21, 0)), plain(makeEntries(20, 20, 2)));
    await again.close();
  });

  it("repeated cuts inside one record reopen to the same log", async () => {
    const { dir, storage } = await freshWal();
    await storage.log.append(makeEntries(1, 50, 1), { sync: true });
    await storage.log.truncateSuffix(40);
    await storage.log.truncateSuffix(30);
    await storage.log.append(makeEntries(30, 35, 2), { sync: true });
    await storage.log.truncateSuffix(33);
    await storage.log.truncateSuffix(20);
    await storage.log.append(makeEntries(20, 22, 3), { sync: true });
    await storage.close();
    const expected = [...makeEntries(1, 19, 1), ...makeEntries(20, 22, 3)];
    const again = await openStorage({ kind: "wal", dir });
    assert.deepEqual(again.repairs, []);
    assert.deepEqual(plain(await readAll(again)), plain(expected));
    await again.close();
  });

  it("a failed durable write rejects every waiting append and stops the store", async () => {
    const { dir, storage } = await freshWal();
    await storage.log.append(makeEntries(1, 5, 1), { sync: true });
    const prototype = await fileHandlePrototype(dir);
    const original = prototype.writev;
    prototype.writev = async function failing(): Promise<never> {
      throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" });
    } as Writev;
    restore = () => { prototype.writev = original; };
    const outcomes = await Promise.allSettled([
      storage.log.append(makeEntries(6, 10, 1), { sync: true }),
      storage.log.append(makeEntries(11, 15, 1), { sync: false }),
      storage.log.append(makeEntries(16, 20, 1), { sync: true }),
    ]);
    // Every call names the system's error, the later ones too.
    const stopped = (error: unknown): boolean => {
      assert.ok(error instanceof StorageFailedError, String(error));
      assert.match(error.message, /has stopped: EIO: i\/o error, write$/);
      return true;
    };
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      stopped(outcome.reason);
    }
    await assert.rejects(storage.log.append(makeEntries(21, 21, 1), { sync: true }), stopped);
    await assert.rejects(storage.log.term(1), stopped);
    restore();
    restore = null;
    await storage.close();
  });
});
