// The server's watch on free disk space (disk-guard.ts), on readings the test sets: a directory
// short of space is reported once, with a message naming it and both amounts; an unreadable
// directory is reported and skipped; a guard that tripped or was stopped checks no more.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DiskGuard, DiskNearlyFullError } from "../../../src/server/disk-guard.js";
import { freeBytesAt } from "../../../src/storage/fs-util.js";

const mib = 2 ** 20;

/** A guard over /raft and /kv whose readings come from `free`; records what it reports. */
function guardOn(free: Map<string, number | Error>) {
  const low: DiskNearlyFullError[] = [];
  const errors: string[] = [];
  const readings: string[] = [];
  let reads = 0;
  const guard = new DiskGuard({
    paths: ["/raft", "/kv"],
    minFreeBytes: 64 * mib,
    onLow: (error) => low.push(error),
    onError: (path, error) => errors.push(`${path}: ${String(error)}`),
    onReading: (path, bytes) => readings.push(`${path}=${bytes / mib}`),
    freeBytes: async (path) => {
      reads += 1;
      const value = free.get(path);
      if (value === undefined || value instanceof Error) throw value ?? new Error("no reading");
      return value;
    },
  });
  return { guard, low, errors, readings, reads: () => reads };
}

describe("disk guard", () => {
  it("finds nothing while every directory has the minimum free", async () => {
    const { guard, low, readings } = guardOn(new Map([["/raft", 64 * mib], ["/kv", 900 * mib]]));
    assert.equal(await guard.check(), null);
    await guard.tick();
    assert.deepEqual(low, []);
    assert.deepEqual(readings, ["/raft=64", "/kv=900", "/raft=64", "/kv=900"]);
  });

  it("reports the first directory short of space once, then stops checking", async () => {
    const free = new Map<string, number | Error>([["/raft", 500 * mib], ["/kv", 63.5 * mib]]);
    const { guard, low, reads } = guardOn(free);
    await guard.tick();
    assert.equal(low.length, 1);
    const [error] = low;
    assert.ok(error instanceof DiskNearlyFullError);
    assert.equal(error.code, "DISK_NEARLY_FULL");
    assert.equal(error.path, "/kv");
    assert.equal(error.freeBytes, 63.5 * mib);
    assert.equal(error.message, "disk nearly full: 63.5 MiB free under /kv, less than the " +
      "64.0 MiB --min-free-mib asks for; free space there, then restart");
    const before = reads();
    await guard.tick();
    assert.equal(reads(), before, "a guard that tripped reads no more");
    assert.equal(low.length, 1);
  });

  it("reports an unreadable directory and still checks the others", async () => {
    const free = new Map<string, number | Error>([["/raft", new Error("EACCES")],
      ["/kv", 1 * mib]]);
    const { guard, low, errors } = guardOn(free);
    await guard.tick();
    assert.deepEqual(errors, ["/raft: Error: EACCES"]);
    assert.equal(low[0]?.path, "/kv");
  });

  it("checks nothing once stopped", async () => {
    const { guard, low, reads } = guardOn(new Map([["/raft", 0], ["/kv", 0]]));
    guard.stop();
    await guard.tick();
    assert.equal(reads(), 0);
    assert.deepEqual(low, []);
  });

  it("reads a real directory's free space", async () => {
    const dir = await mkdtemp(join(tmpdir(), "raft-store-guard-"));
    try {
      const bytes = await freeBytesAt(dir);
      assert.ok(Number.isSafeInteger(bytes) && bytes > 0, `free bytes ${bytes}`);
      await assert.rejects(freeBytesAt(join(dir, "missing")), /ENOENT/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
