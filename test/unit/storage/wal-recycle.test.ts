// Proves the WAL's reuse of compacted segments (recycled-segments.ts): a prefix deletion keeps
// whole segments for reuse, new segments are made from them, and the records of a file's
// previous life are never read back as entries: not after a crash (they are the clean end, cut
// as a torn tail), not in a sealed segment (cut when sealed), not after a clean close. Also:
// with preallocation off nothing is kept, and version 2 (unsalted) segments still open. A seeded
// random workload of appends and deletions takes crash images (the files copied while the store
// is open) and checks that each opens to exactly the log.

import assert from "node:assert/strict";
import { cp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { crc32c } from "@node-rs/crc32";
import type { Entry } from "../../../src/core/types.js";
import {
  makeEntries,
  plain,
  readAll,
  seededRandom,
} from "../../../src/storage/conformance/fixtures.js";
import { CorruptLogError } from "../../../src/storage/errors.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import {
  checkRecord,
  encodeCutRecord,
  entryHeaderBytes,
  recordHeaderBytes,
  recordLimits,
} from "../../../src/storage/wal/record.js";
import { segmentHeaderBytes, segmentSalt } from "../../../src/storage/wal/segment.js";
import type { WalLogStore } from "../../../src/storage/wal/wal-log-store.js";
import { makeTempDir } from "../../support/storage/backends.js";
import { fileSize, segmentPaths } from "../../support/storage/files.js";

const segmentBytes = 2048;
const limits = recordLimits(1024 * 1024, 1024 * 1024);

function openWal(dir: string, preallocate = true): Promise<Storage> {
  return openStorage({ kind: "wal", dir, segmentBytes, preallocate });
}

function repairs(storage: Storage): readonly string[] {
  return (storage.log as WalLogStore).repairs;
}

async function recycledFiles(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, "log"));
  return names.filter((name) => name.startsWith("recycled-")).sort()
    .map((name) => join(dir, "log", name));
}

/**
 * The files as a SIGKILL would leave them (segments are written with O_DSYNC). The spare being
 * zero-filled in the background (spare.tmp) is left out: it may be renamed while the copy runs,
 * and opening a store deletes it anyway (spare-segment.ts).
 */
async function crashImage(dir: string): Promise<string> {
  const image = await makeTempDir("wal-recycle-image");
  await cp(dir, image, { recursive: true, filter: (source) => basename(source) !== "spare.tmp" });
  return image;
}

/**
 * Opens `dir` and checks it holds exactly `expected`, having repaired nothing (unless a crash
 * image may have a torn tail to cut: `tornTail`).
 */
async function expectClean(dir: string, expected: readonly Entry[], tornTail = false):
  Promise<void> {
  const reopened = await openWal(dir);
  if (!tornTail) assert.deepEqual(repairs(reopened), []);
  assert.deepEqual(plain(await readAll(reopened)), plain(expected));
  await reopened.close();
}

/** Appends entries from..to, one synced append each, `size` bytes of data apiece. */
async function appendEach(storage: Storage, from: number, to: number, size = 100) {
  for (const entry of makeEntries(from, to, 1, size)) {
    await storage.log.append([entry], { sync: true });
  }
}

/**
 * A WAL whose entries 1..60 filled several segments, compacted through 45: the two newest
 * whole segments before 46 are kept for reuse.
 */
async function compacted(): Promise<{ dir: string; storage: Storage }> {
  const dir = await makeTempDir("wal-recycle");
  const storage = await openWal(dir);
  await appendEach(storage, 1, 60);
  await storage.log.truncatePrefix(45, 1);
  return { dir, storage };
}

/** Appends one entry at a time from `from` until a new segment exists; returns the next index. */
async function appendUntilRoll(storage: Storage, dir: string, from: number): Promise<number> {
  const before = (await segmentPaths(dir)).length;
  let next = from;
  while ((await segmentPaths(dir)).length === before) {
    await appendEach(storage, next, next);
    next += 1;
  }
  return next;
}

describe("WAL segment reuse", () => {
  it("keeps compacted segments and makes new segments from them", async () => {
    const { dir, storage } = await compacted();
    const kept = await recycledFiles(dir);
    assert.equal(kept.length, 2, "the two newest compacted segments are kept");
    const inodes = new Set(await Promise.all(kept.map(async (path) => (await stat(path)).ino)));
    await appendEach(storage, 61, 120);
    assert.deepEqual(await recycledFiles(dir), [], "both were reused");
    const segmentInodes = await Promise.all((await segmentPaths(dir)).map(async (path) =>
      (await stat(path)).ino));
    assert.equal(segmentInodes.filter((ino) => inodes.has(ino)).length, 2);
    const expected = makeEntries(46, 120, 1, 100);
    assert.deepEqual(plain(await readAll(storage)), plain(expected));
    await storage.close();
    await expectClean(dir, expected);
    await rm(dir, { recursive: true });
  });

  it("after a crash, a reused file's old records are its clean end, never entries", async () => {
    const { dir, storage } = await compacted();
    const [oldest] = await recycledFiles(dir);
    assert.ok(oldest !== undefined);
    const oldSalt = segmentSalt(await readFile(oldest));
    let next = await appendUntilRoll(storage, dir, 61);
    await appendEach(storage, next, next + 2);
    next += 3;
    const image = await crashImage(dir);
    await storage.close();
    const last = (await segmentPaths(image)).pop() ?? "";
    const buf = await readFile(last);
    // Four records (1 + 3 appends) in the new life; the old life's fifth record follows intact.
    const end = segmentHeaderBytes + 4 * (recordHeaderBytes + entryHeaderBytes + 100);
    assert.ok(buf.length > end + recordHeaderBytes, "the old records are still in the file");
    assert.ok(checkRecord(buf, end, buf.length, limits, oldSalt) > end,
      "what follows is a record that was valid in the file's previous life");
    assert.ok(checkRecord(buf, end, buf.length, limits, segmentSalt(buf)) < 0);
    const reopened = await openWal(image);
    assert.equal(repairs(reopened).length, 1);
    assert.match(repairs(reopened)[0] ?? "", /cut a torn tail/);
    assert.deepEqual(plain(await readAll(reopened)), plain(makeEntries(46, next - 1, 1, 100)));
    assert.equal(await fileSize(last), end);
    await reopened.close();
    await rm(dir, { recursive: true });
    await rm(image, { recursive: true });
  });

  it("a reused segment is cut at its end when sealed, so no sealed segment has old bytes",
    async () => {
      const dir = await makeTempDir("wal-recycle-seal");
      const storage = await openWal(dir);
      // Large entries: the first segments end well past segmentBytes.
      await appendEach(storage, 1, 20, 600);
      const firstSize = await fileSize((await segmentPaths(dir))[0] ?? "");
      await storage.log.truncatePrefix(16, 1);
      assert.ok((await recycledFiles(dir)).length > 0);
      // Small entries into the reused file, past segmentBytes and into the next segment.
      let next = await appendUntilRoll(storage, dir, 21);
      next = await appendUntilRoll(storage, dir, next);
      const paths = await segmentPaths(dir);
      const sealed = paths[paths.length - 2] ?? "";
      const sealedSize = await fileSize(sealed);
      assert.ok(sealedSize >= segmentBytes && sealedSize < firstSize,
        `sealed at ${sealedSize}, the old file was ${firstSize}`);
      const image = await crashImage(dir);
      await storage.close();
      const expected = [...makeEntries(17, 20, 1, 600), ...makeEntries(21, next - 1, 1, 100)];
      await expectClean(dir, expected);
      // The image's last segment may be a reused one too: its old bytes are cut as a torn tail.
      await expectClean(image, expected, true);
      await rm(dir, { recursive: true });
      await rm(image, { recursive: true });
    });

  it("a clean close cuts the active segment's old bytes: the next open repairs nothing",
    async () => {
      const { dir, storage } = await compacted();
      let next = await appendUntilRoll(storage, dir, 61);
      await appendEach(storage, next, next);
      next += 1;
      await storage.close();
      const last = (await segmentPaths(dir)).pop() ?? "";
      assert.equal(await fileSize(last),
        segmentHeaderBytes + 2 * (recordHeaderBytes + entryHeaderBytes + 100));
      await expectClean(dir, makeEntries(46, next - 1, 1, 100));
      await rm(dir, { recursive: true });
    });

  it("a suffix deletion in a reused segment leaves the file ending at the kept records",
    async () => {
      const { dir, storage } = await compacted();
      let next = await appendUntilRoll(storage, dir, 61);
      await appendEach(storage, next, next + 4);
      next += 5;
      await storage.log.truncateSuffix(next - 3);
      await appendEach(storage, next - 3, next - 3);
      const image = await crashImage(dir);
      await storage.close();
      await expectClean(image, makeEntries(46, next - 3, 1, 100));
      await rm(dir, { recursive: true });
      await rm(image, { recursive: true });
    });

  it("with preallocation off, compacted segments are deleted, and kept ones removed on open",
    async () => {
      const { dir, storage } = await compacted();
      await storage.close();
      assert.equal((await recycledFiles(dir)).length, 2);
      const plainWal = await openWal(dir, false);
      assert.deepEqual(await recycledFiles(dir), []);
      await appendEach(plainWal, 61, 100);
      await plainWal.log.truncatePrefix(90, 1);
      assert.deepEqual(await recycledFiles(dir), []);
      assert.deepEqual(plain(await readAll(plainWal)), plain(makeEntries(91, 100, 1, 100)));
      await plainWal.close();
      await rm(dir, { recursive: true });
    });
});

describe("WAL salts", () => {
  it("a record or cut record checks only under its segment's salt", () => {
    const header = Buffer.alloc(segmentHeaderBytes);
    const cut = encodeCutRecord(5, 7);
    assert.equal(checkRecord(Buffer.concat([header, cut]), segmentHeaderBytes,
      segmentHeaderBytes + cut.length, limits, 7), segmentHeaderBytes + cut.length);
    assert.ok(checkRecord(Buffer.concat([header, cut]), segmentHeaderBytes,
      segmentHeaderBytes + cut.length, limits, 8) < 0);
  });

  it("version 2 segments (salt 0) still open; a version 2 header with a salt is refused",
    async () => {
      const dir = await makeTempDir("wal-v2");
      const storage = await openWal(dir, false);
      await appendEach(storage, 1, 30);
      await storage.close();
      const paths = await segmentPaths(dir);
      assert.ok(paths.length > 1);
      for (const path of paths) await rewriteAsVersion2(path);
      const reopened = await openWal(dir, false);
      assert.deepEqual(plain(await readAll(reopened)), plain(makeEntries(1, 30, 1, 100)));
      await reopened.close();
      const first = paths[0] ?? "";
      const buf = await readFile(first);
      buf.writeUInt32LE(1, 12);
      buf.writeUInt32LE(crc32c(buf.subarray(0, 24)), 24);
      await writeFile(first, buf);
      await assert.rejects(openWal(dir, false), (error: unknown) =>
        error instanceof CorruptLogError && /version 2 header with a salt/.test(error.message));
      await rm(dir, { recursive: true });
    });
});

/** Rewrites a segment as version 2 wrote it: version 2, salt 0, records checksummed unseeded. */
async function rewriteAsVersion2(path: string): Promise<void> {
  const buf = await readFile(path);
  const salt = segmentSalt(buf);
  buf.writeUInt32LE(2, 8);
  buf.writeUInt32LE(0, 12);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 24)), 24);
  for (let at = segmentHeaderBytes; at + recordHeaderBytes <= buf.length;) {
    const end = checkRecord(buf, at, buf.length, limits, salt);
    if (end < 0) break;
    buf.writeUInt32LE(crc32c(buf.subarray(at + 4, end)), at);
    at = end;
  }
  await writeFile(path, buf);
}

describe("WAL segment reuse under a seeded random workload", () => {
  it("every crash image (files copied while open) opens to exactly the log", async () => {
    const random = seededRandom(20261127);
    const dir = await makeTempDir("wal-recycle-random");
    let storage = await openWal(dir);
    let model: Entry[] = [];
    let first = 1;
    let term = 1;
    let reuses = 0;
    let recycledBefore = 0;
    for (let step = 0; step < 300; step += 1) {
      const last = first + model.length - 1;
      const roll = random();
      if (roll < 0.7) {
        if (random() < 0.1) term += 1;
        const added = makeEntries(last + 1, last + 1 + Math.floor(random() * 6), term,
          50 + Math.floor(random() * 400));
        await storage.log.append(added, { sync: random() < 0.8 });
        model = [...model, ...added];
      } else if (roll < 0.8 && model.length > 0) {
        const from = last - Math.floor(random() * Math.min(model.length, 8)) + 1;
        await storage.log.truncateSuffix(from);
        model = model.slice(0, from - first);
      } else if (roll < 0.9 && model.length > 1) {
        const upTo = first + Math.floor(random() * (model.length - 1));
        await storage.log.truncatePrefix(upTo, model[upTo - first]?.term ?? 0);
        model = model.slice(upTo - first + 1);
        first = upTo + 1;
      } else {
        const image = await crashImage(dir);
        const opened = await openWal(image);
        assert.equal(opened.log.firstIndex(), first, `step ${step}`);
        assert.deepEqual(plain(await readAll(opened)), plain(model), `step ${step}`);
        await opened.close();
        await rm(image, { recursive: true });
        if (random() < 0.3) {
          await storage.close();
          storage = await openWal(dir);
        }
      }
      const recycled = (await recycledFiles(dir)).length;
      if (recycled < recycledBefore) reuses += recycledBefore - recycled;
      recycledBefore = recycled;
    }
    assert.ok(reuses >= 5, `only ${reuses} segments were reused`);
    await storage.close();
    await rm(dir, { recursive: true });
  });
});
