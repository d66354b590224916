// Proves the bitflip nemesis's damage on a real WAL written through openStorage: for every
// record it may pick (seeds 1..40), the flipped byte lies inside a record that intact records
// follow, and the WAL then refuses to open with CorruptLogError naming the segment and the
// offset of that record, never cutting it off as a torn tail. A segment with a single record
// is left alone.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Sfc32 } from "../../src/core/prng.js";
import { CorruptLogError } from "../../src/storage/errors.js";
import { openStorage } from "../../src/storage/open-storage.js";
import { textEntries } from "../support/storage/entries.js";
import { flipMidLog } from "./bit-flip.js";

const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A preallocated WAL holding `appends` records of 3 entries each. */
async function writtenWal(appends: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raft-store-flip-"));
  dirs.push(dir);
  const storage = await openStorage({ kind: "wal", dir, segmentBytes: 1 << 20 });
  for (let k = 0; k < appends; k++) {
    await storage.log.append(textEntries(1 + 3 * k, 3), { sync: true });
  }
  await storage.close();
  return dir;
}

test("a flipped byte mid-log makes the WAL refuse to open, naming the damaged record", async () => {
  const picked = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const dir = await writtenWal(4);
    const flip = await flipMidLog(join(dir, "log"), new Sfc32(seed));
    assert.ok(flip !== null);
    picked.add(flip.recordOffset);
    assert.ok(flip.flippedAt >= flip.recordOffset &&
      flip.flippedAt < flip.recordOffset + flip.recordBytes, JSON.stringify(flip));
    await assert.rejects(openStorage({ kind: "wal", dir, segmentBytes: 1 << 20 }),
      (error: unknown) => error instanceof CorruptLogError && error.file === flip.segment &&
        error.offset === flip.recordOffset,
      JSON.stringify(flip));
  }
  // Each of the three records that another follows was picked, the last one never.
  assert.equal(picked.size, 3, [...picked].join(", "));
});

test("a segment with one record is left alone", async () => {
  const dir = await writtenWal(1);
  assert.equal(await flipMidLog(join(dir, "log"), new Sfc32(1)), null);
  const reopened = await openStorage({ kind: "wal", dir, segmentBytes: 1 << 20 });
  try {
    assert.equal(reopened.log.lastIndex(), 3);
  } finally {
    await reopened.close();
  }
});
