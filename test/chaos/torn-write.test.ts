// Proves the torn-write nemesis on a real WAL written through openStorage: "append" adds half a
// record that recovery cuts off without losing an entry; "cut" halves the last record, which
// recovery cuts off with that record's entries; both are reported in `repairs`. A WAL with no
// record is left alone.

import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openStorage } from "../../src/storage/open-storage.js";
import { WalLogStore } from "../../src/storage/wal/wal-log-store.js";
import { textEntries } from "../support/storage/entries.js";
import { newestSegment, tearWal } from "./torn-write.js";

const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * A WAL store with three appends (three records): entries 1..4, 5..7, 8..12. `preallocate`:
 * its segment is made from a zero-filled spare (waited for), or grows with each write.
 */
async function writtenWal(preallocate: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raft-store-torn-"));
  dirs.push(dir);
  const storage = await openStorage({ kind: "wal", dir, preallocate, segmentBytes: 1 << 20 });
  assert.ok(storage.log instanceof WalLogStore);
  assert.equal(await storage.log.spareReady(), preallocate);
  await storage.log.append(textEntries(1, 4, 1), { sync: true });
  await storage.log.append(textEntries(5, 3, 1), { sync: true });
  await storage.log.append(textEntries(8, 5, 2), { sync: true });
  assert.equal(storage.log.lastIndex(), 12);
  await storage.close();
  return dir;
}

for (const preallocate of [false, true]) {
  const label = preallocate ? "a preallocated segment" : "a segment that grows";
  test(`append mode adds half a record that recovery cuts off, losing no entry (${label})`,
    async () => {
      const dir = await writtenWal(preallocate);
      const torn = await tearWal(join(dir, "log"), "append");
      assert.ok(torn !== null);
      if (preallocate) assert.equal(torn.sizeAfter, torn.sizeBefore, "written over the zeros");
      else assert.ok(torn.sizeAfter > torn.sizeBefore, JSON.stringify(torn));
      assert.equal((await stat(torn.segment)).size, torn.sizeAfter);
      const reopened = await openStorage({ kind: "wal", dir, preallocate, segmentBytes: 1 << 20 });
      try {
        assert.equal(reopened.log.lastIndex(), 12);
        assert.equal(reopened.repairs.length, 1, reopened.repairs.join("; "));
        assert.match(reopened.repairs[0] ?? "", /torn tail/);
        const last = await reopened.log.entries(12, 13, 1 << 20);
        assert.equal(last[0]?.term, 2);
      } finally {
        await reopened.close();
      }
      // Cut back to the end of the last intact record.
      assert.equal((await stat(torn.segment)).size, torn.recordOffset + torn.recordBytes);
    });
}

test("cut mode halves the last record; recovery drops that record's entries", async () => {
  const dir = await writtenWal(false);
  const torn = await tearWal(join(dir, "log"), "cut");
  assert.ok(torn !== null);
  assert.ok(torn.sizeAfter < torn.sizeBefore);
  assert.ok(torn.sizeAfter > torn.recordOffset, "the cut is inside the last record");
  const reopened = await openStorage({ kind: "wal", dir });
  try {
    assert.equal(reopened.log.lastIndex(), 7);
    assert.equal(reopened.repairs.length, 1, reopened.repairs.join("; "));
    assert.match(reopened.repairs[0] ?? "", new RegExp(`at offset ${torn.recordOffset}`));
  } finally {
    await reopened.close();
  }
});

test("a WAL without records, or without segments, is left alone", async () => {
  const dir = await mkdtemp(join(tmpdir(), "raft-store-torn-"));
  dirs.push(dir);
  assert.equal(await tearWal(join(dir, "log"), "cut"), null);
  const storage = await openStorage({ kind: "wal", dir });
  await storage.close();
  const segment = await newestSegment(join(dir, "log"));
  if (segment !== null) {
    const size = (await stat(segment)).size;
    assert.equal(await tearWal(join(dir, "log"), "append"), null);
    assert.equal((await stat(segment)).size, size);
  }
});
