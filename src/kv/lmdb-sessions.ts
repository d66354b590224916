// The LMDB state machine's session table: the same in-memory SessionTable as the memory state
// machine (so deduplication, eviction order and results are identical), mirrored into the
// `sessions` database inside the same write transaction as each apply. Each persisted session
// carries a stamp that grows with every use, so loading sorts them back into eviction order.

import { assert } from "../assert.js";
import type { RootDatabase } from "lmdb";
import { decodeSession, encodeSession } from "./lmdb-layout.js";
import { type BinaryDb, put } from "./lmdb-slot.js";
import { type SessionEntry, type SessionLimits, SessionTable } from "./sessions.js";
import type { ClientSession, KvResult } from "./types.js";

function idKey(clientId: string): Buffer {
  return Buffer.from(clientId, "utf8");
}

export class LmdbSessions {
  private constructor(
    private readonly db: BinaryDb,
    private current: SessionTable,
    /** The stamp of the next session use; above every persisted stamp. */
    private nextStamp: number,
  ) {}

  /** Loads the persisted sessions; drops any the configured limits no longer keep. */
  static load(root: RootDatabase<Buffer, Buffer>, db: BinaryDb, limits: SessionLimits):
    LmdbSessions {
    const loaded: { clientId: string; stamp: number; entry: SessionEntry }[] = [];
    for (const { key, value } of db.getRange({})) {
      const { stamp, entry } = decodeSession(value);
      loaded.push({ clientId: Buffer.from(key).toString("utf8"), stamp, entry });
    }
    loaded.sort((a, b) => a.stamp - b.stamp);
    const table = SessionTable.restore(limits,
      loaded.map(({ clientId, entry }): [string, SessionEntry] => [clientId, entry]));
    const kept = new Set(table.entries().map(([clientId]) => clientId));
    const dropped = loaded.filter(({ clientId }) => !kept.has(clientId));
    if (dropped.length > 0) {
      root.transactionSync(() => {
        for (const { clientId } of dropped) db.removeSync(idKey(clientId));
      });
    }
    const last = loaded[loaded.length - 1];
    return new LmdbSessions(db, table, (last?.stamp ?? 0) + 1);
  }

  get table(): SessionTable {
    return this.current;
  }

  check(session: ClientSession, index: number): KvResult | undefined {
    return this.current.check(session, index);
  }

  /** Inside the apply's write transaction: saves the result and drops evicted sessions. */
  record(session: ClientSession, result: KvResult): void {
    const evicted = this.current.record(session, result);
    const entry = { sequence: session.sequence, result };
    put(this.db, idKey(session.clientId), encodeSession(this.nextStamp++, entry));
    for (const clientId of evicted) {
      const removed = this.db.removeSync(idKey(clientId));
      assert(removed, () => `evicted session ${clientId} was not stored`);
    }
  }

  /**
   * Inside a write transaction: replaces every persisted session by `table`'s, stamped in
   * eviction order. Returns the next stamp, for `adopt` once the transaction committed.
   */
  persist(table: SessionTable): number {
    const keys = [...this.db.getKeys({})];
    for (const key of keys) this.db.removeSync(Buffer.from(key));
    let stamp = 1;
    for (const [clientId, entry] of table.entries()) {
      put(this.db, idKey(clientId), encodeSession(stamp++, entry));
    }
    return stamp;
  }

  adopt(table: SessionTable, nextStamp: number): void {
    assert(nextStamp === table.size + 1, "adopted sessions were persisted first");
    this.current = table;
    this.nextStamp = nextStamp;
  }
}
