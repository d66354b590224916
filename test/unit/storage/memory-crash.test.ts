// Proves that the memory backend models a power loss: crash() drops exactly the appends not yet
// covered by a sync, keeps synced entries, truncations, the stable state and committed
// snapshots, forgets unfinished snapshots, and closes the crashed instance.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeId } from "../../../src/core/types.js";
import { makeEntries, plain, readAll } from "../../../src/storage/conformance/fixtures.js";
import { StorageClosedError } from "../../../src/storage/errors.js";
import { MemoryStorage } from "../../../src/storage/memory/memory-storage.js";
import { writeSnapshot } from "../../../src/storage/snapshot-io.js";

const configuration = { voters: [nodeId(1)], votersOutgoing: [], learners: [] };

describe("memory storage crash", () => {
  it("a crash drops the unsynced tail and keeps everything a sync covered", async () => {
    const storage = new MemoryStorage();
    await storage.log.append(makeEntries(1, 3, 1), { sync: false });
    await storage.log.append(makeEntries(4, 5, 1), { sync: true });
    await storage.log.append(makeEntries(6, 9, 1), { sync: false });
    const after = storage.crash();
    assert.deepEqual(plain(await readAll(after)), plain(makeEntries(1, 5, 1)));
    await assert.rejects(storage.log.append(makeEntries(6, 6, 1), { sync: true }),
      StorageClosedError);
    await after.close();
  });

  it("truncations, the stable state and committed snapshots survive a crash", async () => {
    const storage = new MemoryStorage();
    await storage.log.append(makeEntries(1, 10, 1), { sync: true });
    await storage.log.truncateSuffix(8);
    await storage.log.truncatePrefix(3, 1);
    await storage.log.append(makeEntries(8, 9, 2), { sync: false });
    await storage.stable.set({ hardState: { term: 2, vote: nodeId(1), commit: 5 } });
    const meta = { index: 3, term: 1, configuration };
    await writeSnapshot(storage.snapshots, meta, [Buffer.from("s")]);
    const unfinished = await storage.snapshots.create({ index: 6, term: 1, configuration });
    await unfinished.write(Buffer.from("never committed"));
    const after = storage.crash();
    assert.equal(after.log.firstIndex(), 4);
    assert.equal(after.log.lastIndex(), 7);
    assert.equal(await after.log.term(3), 1);
    assert.deepEqual(after.stable.get().hardState, { term: 2, vote: nodeId(1), commit: 5 });
    assert.deepEqual((await after.snapshots.list()).map((meta) => meta.index), [3]);
    await after.close();
  });

  it("a clean close keeps unsynced appends", async () => {
    const storage = new MemoryStorage();
    await storage.log.append(makeEntries(1, 4, 1), { sync: false });
    await storage.close();
    const reopened = new MemoryStorage({ disk: storage.disk });
    assert.equal(reopened.log.lastIndex(), 4);
    const after = reopened.crash();
    assert.equal(after.log.lastIndex(), 4);
    await after.close();
  });
});
