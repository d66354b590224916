// Proves the WAL's recovery rules: damage in the middle of the log (a flipped byte in a sealed
// segment, or one followed by intact records, a missing segment, a bad segment header, a record
// whose checksum holds but whose entries or cut are malformed) makes open fail with
// CorruptLogError naming the file and the record's offset, while a torn tail (a last record cut
// short, garbage or zeros after the last record, a segment torn at creation, a group of appends
// written as one record and damaged anywhere) is cut off durably and every complete record kept.
// Every suite runs twice: with the default scan window of recovery.ts, and with a 100-byte one,
// smaller than a record, so that opening reads every record across windows.

import assert from "node:assert/strict";
import { mkdir, readFile, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { crc32c } from "@node-rs/crc32";
import type { Entry } from "../../../src/core/types.js";
import { makeEntries, plain, readAll } from "../../../src/storage/conformance/fixtures.js";
import { ConfigError } from "../../../src/errors.js";
import { CorruptLogError } from "../../../src/storage/errors.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import {
  encodeCutRecord,
  entryHeaderBytes,
  recordHeaderBytes,
} from "../../../src/storage/wal/record.js";
import { isZeroFrom, lastNonZero } from "../../../src/storage/wal/recovery.js";
import { segmentHeaderBytes, segmentSalt } from "../../../src/storage/wal/segment.js";
import { WalLogStore } from "../../../src/storage/wal/wal-log-store.js";
import { makeTempDir } from "../../support/storage/backends.js";
import {
  appendBytes,
  cutFile,
  fileSize,
  flipByte,
  segmentPaths,
} from "../../support/storage/files.js";

const segmentBytes = 2048;
const entrySize = 100;
/** One entry per append, so one record per entry. */
const recordSize = recordHeaderBytes + entryHeaderBytes + entrySize;

/** Every suite below, its WAL opens reading `scanWindowBytes` at a time (undefined: default). */
function walCorruptionSuites(scanWindowBytes: number | undefined): void {
  const window = scanWindowBytes === undefined ? {} : { scanWindowBytes };

  /**
   * Without the zero-filled spare segment, so each segment ends at its last record and the file
   * surgery below can work from the file's end. Preallocated segments have tests of their own.
   */
  function openWal(dir: string): Promise<Storage> {
    return openStorage({ kind: "wal", dir, segmentBytes, preallocate: false, ...window });
  }

  /** A WAL holding entries 1..count written one per batch; returns its directory. */
  async function walWith(count: number): Promise<{ dir: string; entries: Entry[] }> {
    const dir = await makeTempDir("wal-corruption");
    const entries = makeEntries(1, count, 1, entrySize);
    const storage = await openWal(dir);
    for (const entry of entries) await storage.log.append([entry], { sync: true });
    await storage.close();
    return { dir, entries };
  }

  /** Offset of the k-th record (0-based) in a segment. */
  function recordOffset(k: number): number {
    return segmentHeaderBytes + k * recordSize;
  }

  async function expectCorrupt(dir: string, file: string, offset: number):
    Promise<CorruptLogError> {
    const error: unknown = await openWal(dir).then(
      async (storage) => { await storage.close(); return null; },
      (caught: unknown) => caught);
    assert.ok(error instanceof CorruptLogError, `expected CorruptLogError, got ${String(error)}`);
    assert.equal(error.code, "CORRUPT_LOG");
    assert.equal(error.file, file);
    assert.equal(error.offset, offset);
    assert.match(error.message, new RegExp(`${basename(file)} at offset ${offset}`));
    return error;
  }

  /** Opens, checks the content and that something was repaired, then reopens cleanly. */
  async function expectRepaired(dir: string, expected: readonly Entry[]): Promise<void> {
    const storage = await openWal(dir);
    try {
      assert.equal(storage.repairs.length, 1, `repairs: ${storage.repairs.join("; ")}`);
      assert.deepEqual(plain(await readAll(storage)), plain(expected));
      const next = makeEntries(expected.length + 1, expected.length + 2, 2, entrySize);
      await storage.log.append(next, { sync: true });
    } finally {
      await storage.close();
    }
    const again = await openWal(dir);
    assert.deepEqual(again.repairs, []);
    assert.equal(again.log.lastIndex(), expected.length + 2);
    await again.close();
  }

  describe("WAL mid-log corruption", () => {
    it("a flipped byte in a sealed segment fails open, naming file and offset", async () => {
      const { dir } = await walWith(60);
      const [first] = await segmentPaths(dir);
      assert.ok(first !== undefined);
      await flipByte(first, recordOffset(3) + recordHeaderBytes + 40);
      await expectCorrupt(dir, first, recordOffset(3));
      await rm(dir, { recursive: true });
    });

    it("a flipped byte in the last segment with intact records after it fails open", async () => {
      const { dir } = await walWith(60);
      const last = (await segmentPaths(dir)).pop();
      assert.ok(last !== undefined);
      await flipByte(last, recordOffset(1) + 6);
      const error = await expectCorrupt(dir, last, recordOffset(1));
      assert.match(error.reason, /intact records follow/);
      await rm(dir, { recursive: true });
    });

    it("a missing segment in the middle fails open, naming the segment after the gap", async () => {
      const { dir } = await walWith(60);
      const segments = await segmentPaths(dir);
      assert.ok(segments.length >= 3, `only ${segments.length} segments`);
      await unlink(segments[1] ?? "");
      await expectCorrupt(dir, segments[2] ?? "", 0);
      await rm(dir, { recursive: true });
    });

    it("a damaged header of a sealed segment fails open at offset 0", async () => {
      const { dir } = await walWith(60);
      const [first] = await segmentPaths(dir);
      assert.ok(first !== undefined);
      await flipByte(first, 3);
      await expectCorrupt(dir, first, 0);
      await rm(dir, { recursive: true });
    });

  });

  /** Rewrites the record at `offset` of `path` through `edit`, then fixes its checksum. */
  async function rewriteRecord(path: string, offset: number, edit: (record: Buffer) => void) {
    const file = await readFile(path);
    const record = file.subarray(offset, offset + file.readUInt32LE(offset + 4));
    edit(record);
    record.writeUInt32LE(crc32c(record.subarray(4), segmentSalt(file)), 0);
    await writeFile(path, file);
  }

  describe("WAL records with a valid checksum but bad contents", () => {
    it("a malformed entry inside a record fails open, naming file and offset", async () => {
      const { dir } = await walWith(10);
      const [first] = await segmentPaths(dir);
      assert.ok(first !== undefined);
      await rewriteRecord(first, recordOffset(2), (record) => {
        record.writeUInt32LE(9, recordHeaderBytes + 12);
      });
      const error = await expectCorrupt(dir, first, recordOffset(2));
      assert.match(error.reason, /bad type word/);
      await rm(dir, { recursive: true });
    });

    it("a cut record naming an index outside its segment fails open", async () => {
      const { dir } = await walWith(5);
      const [first] = await segmentPaths(dir);
      assert.ok(first !== undefined);
      const end = await fileSize(first);
      await appendBytes(first, encodeCutRecord(9, segmentSalt(await readFile(first))));
      const error = await expectCorrupt(dir, first, end);
      assert.match(error.reason, /cut record at 9/);
      await rm(dir, { recursive: true });
    });
  });

  describe("WAL torn tails", () => {
    it("appends written together are one record: damage in it cuts the whole group", async () => {
      const { dir, entries } = await walWith(5);
      const storage = await openWal(dir);
      const group = makeEntries(6, 17, 1, entrySize);
      // The first append is written at once; the next three wait and are written as one record.
      await Promise.all([0, 3, 6, 9].map((k) =>
        storage.log.append(group.slice(k, k + 3), { sync: true })));
      await storage.close();
      const last = (await segmentPaths(dir)).pop() ?? "";
      const groupBytes = recordHeaderBytes + 9 * (entryHeaderBytes + entrySize);
      const groupStart = (await fileSize(last)) - groupBytes;
      assert.equal((await readFile(last)).readUInt32LE(groupStart + 12), 9, "one record of 9");
      await flipByte(last, groupStart + groupBytes - 3 * (entryHeaderBytes + entrySize) - 7);
      await expectRepaired(dir, [...entries, ...group.slice(0, 3)]);
      await rm(dir, { recursive: true });
    });

    it("a last record cut short is cut off and every complete record kept", async () => {
      const { dir, entries } = await walWith(60);
      const last = (await segmentPaths(dir)).pop() ?? "";
      await cutFile(last, (await fileSize(last)) - 37);
      await expectRepaired(dir, entries.slice(0, 59));
      await rm(dir, { recursive: true });
    });

    it("a bad checksum in the very last record is treated as a torn tail", async () => {
      const { dir, entries } = await walWith(60);
      const last = (await segmentPaths(dir)).pop() ?? "";
      await flipByte(last, (await fileSize(last)) - 5);
      await expectRepaired(dir, entries.slice(0, 59));
      await rm(dir, { recursive: true });
    });

    it("zeros after the last record are its clean end; a partial header is cut off", async () => {
      const { dir, entries } = await walWith(30);
      const last = (await segmentPaths(dir)).pop() ?? "";
      await appendBytes(last, new Uint8Array(4096));
      const storage = await openWal(dir);
      assert.deepEqual(storage.repairs, [], "zeros are the unused end of a preallocated segment");
      assert.deepEqual(plain(await readAll(storage)), plain(entries));
      await storage.close();
      await appendBytes(last, Buffer.from([7, 0, 0, 0, 99, 0, 0]));
      await expectRepaired(dir, entries);
      await rm(dir, { recursive: true });
    });

    it("a last segment torn while being created is removed", async () => {
      const { dir, entries } = await walWith(30);
      const next = join(dir, "log", `${String(31).padStart(20, "0")}.wal`);
      await writeFile(next, Buffer.from("RSWAL"));
      await expectRepaired(dir, entries);
      await rm(dir, { recursive: true });
    });

    it("a record damaged after open is reported by the read, naming file and offset", async () => {
      const { dir } = await walWith(10);
      const storage = await openWal(dir);
      const [first] = await segmentPaths(dir);
      assert.ok(first !== undefined);
      await flipByte(first, recordOffset(4) + recordHeaderBytes + 1);
      await assert.rejects(storage.log.entries(1, 11, 1e9),
        (error: unknown) => error instanceof CorruptLogError && error.offset === recordOffset(4));
      assert.equal((await storage.log.entries(1, 5, 1e9)).length, 4);
      await storage.close();
      await rm(dir, { recursive: true });
    });
  });

  /** Tiny segments, made from zero-filled spares. */
  const preallocated =
    { kind: "wal", segmentBytes: 4096, preallocate: true, ...window } as const;

  /** Opens a preallocating WAL and waits until its spare is ready. */
  async function openWithSpare(dir: string): Promise<{ storage: Storage; wal: WalLogStore }> {
    const storage = await openStorage({ ...preallocated, dir });
    assert.ok(storage.log instanceof WalLogStore);
    assert.equal(await storage.log.spareReady(), true);
    return { storage, wal: storage.log };
  }

  describe("WAL preallocated segments", () => {
    /** A WAL whose first segment is made from a ready spare, holding entries 1..count. */
    async function preallocatedWal(count: number): Promise<{ dir: string; entries: Entry[] }> {
      const dir = await makeTempDir("wal-prealloc");
      const { storage } = await openWithSpare(dir);
      const entries = makeEntries(1, count, 1, entrySize);
      for (const entry of entries) await storage.log.append([entry], { sync: true });
      await storage.close();
      return { dir, entries };
    }

    it("a segment from the spare is zero-filled after its records, reopens clean", async () => {
      const { dir, entries } = await preallocatedWal(10);
      const [segment] = await segmentPaths(dir);
      assert.ok(segment !== undefined);
      assert.equal(await fileSize(segment), 4096, "the whole segment was allocated up front");
      const buf = await readFile(segment);
      assert.ok(buf.subarray(recordOffset(10)).every((byte) => byte === 0));
      const storage = await openStorage({ ...preallocated, dir });
      assert.deepEqual(storage.repairs, []);
      assert.deepEqual(plain(await readAll(storage)), plain(entries));
      // Appends go on at the end of the records, over the zeros.
      const more = makeEntries(11, 12, 1, entrySize);
      await storage.log.append(more, { sync: true });
      await storage.close();
      assert.equal(await fileSize(segment), 4096);
      assert.equal((await readFile(segment)).readUInt32LE(recordOffset(10) + 16), 11);
      const again = await openStorage({ ...preallocated, dir });
      assert.deepEqual(plain(await readAll(again)), plain([...entries, ...more]));
      await again.close();
      await rm(dir, { recursive: true });
    });

    it("a record torn in the zero-filled part is cut off, keeping every complete one", async () => {
      const { dir, entries } = await preallocatedWal(10);
      const [segment] = await segmentPaths(dir);
      assert.ok(segment !== undefined);
      const buf = await readFile(segment);
      // What a crash during the 11th write leaves: its first half, then the zeros.
      buf.copy(buf, recordOffset(10), recordOffset(9), recordOffset(9) + recordSize / 2);
      buf.writeUInt32LE(11, recordOffset(10) + 16);
      await writeFile(segment, buf);
      const storage = await openStorage({ ...preallocated, dir });
      assert.equal(storage.repairs.length, 1, storage.repairs.join("; "));
      assert.match(storage.repairs[0] ?? "", new RegExp(`at offset ${recordOffset(10)}`));
      assert.deepEqual(plain(await readAll(storage)), plain(entries));
      await storage.close();
      await rm(dir, { recursive: true });
    });

    it("damage followed by intact records in a preallocated segment fails open", async () => {
      const { dir } = await preallocatedWal(10);
      const [segment] = await segmentPaths(dir);
      assert.ok(segment !== undefined);
      await flipByte(segment, recordOffset(4) + 30);
      const error: unknown = await openStorage({ ...preallocated, dir }).then(
        async (storage) => { await storage.close(); return null; }, (caught: unknown) => caught);
      assert.ok(error instanceof CorruptLogError, String(error));
      assert.equal(error.offset, recordOffset(4));
      assert.match(error.reason, /intact records follow/);
      await rm(dir, { recursive: true });
    });

    it("a spare renamed into place before its header was written is removed", async () => {
      const { dir, entries } = await preallocatedWal(5);
      const next = join(dir, "log", `${String(6).padStart(20, "0")}.wal`);
      await writeFile(next, new Uint8Array(4096));
      const storage = await openStorage({ ...preallocated, dir });
      assert.equal(storage.repairs.length, 1, storage.repairs.join("; "));
      assert.match(storage.repairs[0] ?? "", /torn at creation/);
      assert.deepEqual(plain(await readAll(storage)), plain(entries));
      await storage.close();
      await rm(dir, { recursive: true });
    });

    it("a half-filled spare is removed on open, one of the wrong size replaced", async () => {
      const dir = await makeTempDir("wal-prealloc");
      const log = join(dir, "log");
      await mkdir(log, { recursive: true });
      await writeFile(join(log, "spare.tmp"), new Uint8Array(100));
      await writeFile(join(log, "spare.zero"), new Uint8Array(100));
      const { storage } = await openWithSpare(dir);
      const names = (await readdir(log)).sort();
      assert.deepEqual(names.filter((name) => name.startsWith("spare")), ["spare.zero"]);
      assert.equal(await fileSize(join(log, "spare.zero")), 4096);
      await storage.close();
      await rm(dir, { recursive: true });
    });

    it("rolls to a new spare as each segment fills", async () => {
      const dir = await makeTempDir("wal-prealloc");
      const storage = await openStorage({ ...preallocated, dir });
      assert.ok(storage.log instanceof WalLogStore);
      // Two appends of 20 entries fill a segment: four segments, the last holding one append.
      const entries = makeEntries(1, 140, 1, entrySize);
      for (let k = 0; k < entries.length; k += 20) {
        await storage.log.spareReady();
        await storage.log.append(entries.slice(k, k + 20), { sync: true });
      }
      await storage.close();
      const segments = await segmentPaths(dir);
      assert.equal(segments.length, 4);
      // The last one is allocated in full though its records take 2,832 bytes.
      for (const segment of segments) assert.ok(await fileSize(segment) >= 4096, segment);
      const again = await openStorage({ ...preallocated, dir });
      assert.deepEqual(again.repairs, []);
      assert.deepEqual(plain(await readAll(again)), plain(entries));
      await again.close();
      await rm(dir, { recursive: true });
    });
  });

  describe("WAL spare segments that cannot be made or are gone", () => {
    it("a fill that fails leaves the WAL working, and the next roll tries again", async () => {
      const dir = await makeTempDir("wal-spare-fail");
      const { storage, wal } = await openWithSpare(dir);
      const log = join(dir, "log");
      // The first roll takes the spare; the refill then finds a directory in its way.
      await mkdir(join(log, "spare.tmp"));
      const entries = makeEntries(1, 140, 1, entrySize);
      await storage.log.append(entries.slice(0, 20), { sync: true });
      assert.equal(await wal.spareReady(), false, "no spare while the path is blocked");
      // Rolls meanwhile make plain segments.
      for (let k = 20; k < 80; k += 20) {
        await storage.log.append(entries.slice(k, k + 20), { sync: true });
      }
      await rm(join(log, "spare.tmp"), { recursive: true });
      for (let k = 80; k < 140; k += 20) {
        await wal.spareReady();
        await storage.log.append(entries.slice(k, k + 20), { sync: true });
      }
      assert.equal(await wal.spareReady(), true, "a later roll made a spare again");
      await storage.close();
      const again = await openStorage({ ...preallocated, dir });
      assert.deepEqual(again.repairs, []);
      assert.deepEqual(plain(await readAll(again)), plain(entries));
      await again.close();
      await rm(dir, { recursive: true });
    });

    it("a spare removed by hand is replaced by a plain segment", async () => {
      const dir = await makeTempDir("wal-spare-gone");
      const { storage } = await openWithSpare(dir);
      await unlink(join(dir, "log", "spare.zero"));
      const entries = makeEntries(1, 40, 1, entrySize);
      await storage.log.append(entries.slice(0, 20), { sync: true });
      await storage.log.append(entries.slice(20), { sync: true });
      await storage.close();
      const again = await openStorage({ ...preallocated, dir });
      assert.deepEqual(plain(await readAll(again)), plain(entries));
      await again.close();
      await rm(dir, { recursive: true });
    });
  });
}

describe("with the default scan window", () => walCorruptionSuites(undefined));
// Smaller than a record (and than a segment header plus a record): every record is read
// across windows, and the search for zeros walks back through many of them.
describe("with a 100-byte scan window", () => walCorruptionSuites(100));

describe("WAL scan window", () => {
  it("a window too small to hold a segment header and a record header is refused", async () => {
    const dir = await makeTempDir("wal-window");
    for (const scanWindowBytes of [0, 55, 1.5, Number.NaN]) {
      await assert.rejects(openStorage({ kind: "wal", dir, scanWindowBytes }),
        (error: unknown) => error instanceof ConfigError && /scanWindowBytes/.test(error.message));
    }
    const storage = await openStorage({ kind: "wal", dir, scanWindowBytes: 56 });
    await storage.close();
    await rm(dir, { recursive: true });
  });
});

describe("zero tails", () => {
  it("isZeroFrom and lastNonZero find where a preallocated segment's data ends", () => {
    const buf = Buffer.alloc(200_000);
    assert.equal(lastNonZero(buf), -1);
    assert.ok(isZeroFrom(buf, 0));
    for (const at of [0, 1, 65_535, 65_536, 131_071, 199_999]) {
      const copy = Buffer.from(buf);
      copy[at] = 0xb7;
      assert.equal(lastNonZero(copy), at, `a byte at ${at}`);
      assert.equal(isZeroFrom(copy, at + 1), true);
      assert.equal(isZeroFrom(copy, at), false);
    }
  });
});
