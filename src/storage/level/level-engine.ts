// KvEngine on LevelDB (an LSM tree, via `classic-level`). A batch is one atomic record in
// LevelDB's write-ahead log; `{ sync: true }` fsyncs that log before the batch resolves, and
// since the log is sequential, it also makes every earlier unsynced batch durable.

import { ClassicLevel } from "classic-level";
import type { KvEngine, KvOperation, KvPair } from "../engine/kv-engine.js";

export async function openLevelEngine(path: string): Promise<KvEngine> {
  const db = new ClassicLevel<Buffer, Buffer>(path, {
    keyEncoding: "buffer",
    valueEncoding: "buffer",
  });
  await db.open();
  return new LevelEngine(path, db);
}

class LevelEngine implements KvEngine {
  constructor(
    readonly location: string,
    private readonly db: ClassicLevel<Buffer, Buffer>,
  ) {}

  async get(key: Buffer): Promise<Uint8Array | undefined> {
    return (await this.db.get(key)) ?? undefined;
  }

  async range(lo: Buffer, hi: Buffer, limit: number): Promise<KvPair[]> {
    const pairs = await this.db.iterator({ gte: lo, lt: hi, limit }).all();
    return pairs.map(([key, value]) => ({ key, value }));
  }

  async lastKey(lo: Buffer, hi: Buffer): Promise<Uint8Array | undefined> {
    const [key] = await this.db.keys({ gte: lo, lt: hi, reverse: true, limit: 1 }).all();
    return key;
  }

  async write(operations: readonly KvOperation[], sync: boolean): Promise<void> {
    await this.db.batch(operations.map((operation) => ({ ...operation })), { sync });
  }

  async clearRange(lo: Buffer, hi: Buffer): Promise<void> {
    await this.db.clear({ gte: lo, lt: hi });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
