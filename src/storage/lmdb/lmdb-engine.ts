// KvEngine on LMDB (a copy-on-write B-tree, via the `lmdb` package). Writes go in one
// transaction per batch. lmdb-js commits with "overlapping sync" by default: a commit resolves
// when it is visible, and `db.flushed` resolves once it is fsynced, so a synced write awaits
// both. LMDB does not checksum values; entry-codec.ts adds a CRC32C to each.
//
// A failed commit (a full disk, an I/O error) must reach the caller as one error, and nothing
// else: lmdb-js rejects the write with "Commit failed (see commitError for details)" and puts
// the system's error in a second promise, `commitError`, which nobody else handles. With event-
// turn batching on (its default) it also rejects a commit promise of its own that no caller
// holds. Unhandled, either rejection ends the process (Node's default), so a full disk killed
// the embedding application instead of stopping the store: disk-full.test.ts. Our writes are
// explicit transactions, which event-turn batching adds nothing to, so it is off, and write()
// takes the system's error out of `commitError`.

import { type RootDatabase, open } from "lmdb";
import type { KvEngine, KvOperation, KvPair } from "../engine/kv-engine.js";
import { formatMib, freeBytesAt } from "../fs-util.js";

export async function openLmdbEngine(path: string): Promise<KvEngine> {
  const db = open<Buffer, Buffer>({
    path,
    keyEncoding: "binary",
    encoding: "binary",
    compression: false,
    // A process crash keeps the latest committed transaction; after a power loss LMDB falls
    // back to the latest flushed one, which is all a synced append promised.
    overlappingSync: true,
    eventTurnBatching: false,
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
    try {
      if (operations.length > 0) {
        await this.db.transaction(() => {
          for (const operation of operations) {
            if (operation.type === "put") void this.db.put(operation.key, operation.value);
            else void this.db.remove(operation.key);
          }
        });
      }
      if (sync) await this.db.flushed;
    } catch (error) {
      throw await commitFailure(error, this.location);
    }
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

/**
 * The error to report for a failed write: the system's error that lmdb-js keeps in
 * `commitError`, when it has settled by the next turn of the event loop (it is rejected in the
 * same callback that fails the write), with a handler attached either way, and the free space
 * under `location`: LMDB reports a full disk as "Input/output error".
 */
async function commitFailure(error: unknown, location: string): Promise<unknown> {
  const pending: unknown = error instanceof Error ? Reflect.get(error, "commitError") : undefined;
  if (!(pending instanceof Promise)) return error;
  const later = new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)));
  try {
    await Promise.race([pending, later]);
    return error;
  } catch (systemError) {
    const reason = systemError instanceof Error ? systemError.message : String(systemError);
    const free = await freeBytesAt(location).then(
      (bytes) => ` (${formatMib(bytes)} free on its disk)`, () => "");
    return new Error(`LMDB commit failed: ${reason}${free}`, { cause: systemError });
  }
}
