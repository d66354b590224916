// KvEngine on LMDB (a copy-on-write B-tree, via the `lmdb` package). Writes go in one
// transaction per batch. lmdb-js commits with "overlapping sync" by default: a commit resolves
// when it is visible, and `db.flushed` resolves once it is fsynced, so a synced write awaits
// both. LMDB does not checksum values; entry-codec.ts adds a CRC32C to each.

import { type RootDatabase, open } from "lmdb";
import type { KvEngine, KvOperation, KvPair } from "../engine/kv-engine.js";

export async function openLmdbEngine(path: string): Promise<KvEngine> {
  const db = open<Buffer, Buffer>({
    path,
    keyEncoding: "binary",
    encoding: "binary",
    compression: false,
    // A process crash keeps the latest committed transaction; after a power loss LMDB falls
    // back to the latest flushed one, which is all a synced append promised.
    overlappingSync: true,
  });
  return new LmdbEngine(path, db);
}

class LmdbEngine implements KvEngine {
  constructor(
    readonly location: string,
    private readonly db: RootDatabase<Buffer, Buffer>,
  ) {}

  async get(key: Buffer): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  async range(lo: Buffer, hi: Buffer, limit: number): Promise<KvPair[]> {
    const pairs: KvPair[] = [];
    for (const { key, value } of this.db.getRange({ start: lo, end: hi, limit })) {
      pairs.push({ key, value });
    }
    return pairs;
  }

  async lastKey(lo: Buffer, hi: Buffer): Promise<Uint8Array | undefined> {
    // Reversed, lmdb-js starts at `start` inclusively and treats `end` as exclusive, so `end`
    // would hide `lo` itself: take the first key at or below hi and check both bounds here.
    for (const key of this.db.getKeys({ start: hi, reverse: true, limit: 2 })) {
      if (Buffer.compare(key, hi) >= 0) continue;
      return Buffer.compare(key, lo) >= 0 ? key : undefined;
    }
    return undefined;
  }

  async write(operations: readonly KvOperation[], sync: boolean): Promise<void> {
    if (operations.length > 0) {
      await this.db.transaction(() => {
        for (const operation of operations) {
          if (operation.type === "put") void this.db.put(operation.key, operation.value);
          else void this.db.remove(operation.key);
        }
      });
    }
    if (sync) await this.db.flushed;
  }

  async clearRange(lo: Buffer, hi: Buffer): Promise<void> {
    const keys = [...this.db.getKeys({ start: lo, end: hi })];
    if (keys.length === 0) return;
    await this.db.transaction(() => {
      for (const key of keys) void this.db.remove(key);
    });
  }

  async close(): Promise<void> {
    await this.db.flushed;
    await this.db.close();
  }
}
