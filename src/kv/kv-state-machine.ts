// The replicated key-value state machine kept in memory. `apply` decodes a command
// (command-decode.ts), deduplicates it through the client's session (sessions.ts) and executes
// it (execute.ts) against a copy-on-write B+tree (btree.ts) plus an expiry index
// (expiry-index.ts); everything it does depends only on the entry and the prior state, so every
// replica computes the same results and the same state.
//
// Reads (`get`, `range`, `expiredKeys`) see everything applied so far; the server calls them
// after a read barrier (ReadIndex or lease). The state is volatile, so this machine has no
// `appliedIndex()` (the port's optional method): the node rebuilds the state from the latest
// snapshot and the log. LmdbKvStateMachine is the durable variant that has one.

import { assert } from "../assert.js";
import { ConfigError } from "../errors.js";
import type { SnapshotMeta } from "../core/types.js";
import type { AppliedEntry } from "../node/ports.js";
import { BTree, BTreeBuilder, recordsFrom } from "./btree.js";
import {
  type RecordStore,
  checkExpiredRequest,
  collectRange,
  decodeEntry,
  execute,
  live,
} from "./execute.js";
import { ExpiryIndex } from "./expiry-index.js";
import type { KvStore } from "./kv-store.js";
import {
  type SessionLimits,
  SessionTable,
  defaultSessionLimits,
} from "./sessions.js";
import { readSnapshot } from "./snapshot-reader.js";
import {
  chunkBytesMax,
  chunkBytesMin,
  defaultChunkBytes,
  writeSnapshot,
} from "./snapshot-format.js";
import { hashState } from "./state-hash.js";
import type { KvRange, KvRecord, KvResult, RangeOptions, SweepKey } from "./types.js";

export type { KvRange } from "./types.js";

export interface KvStateMachineOptions extends Partial<SessionLimits> {
  /** Size of the chunks `snapshot()` yields (the last may be a little larger). */
  readonly snapshotChunkBytes?: number;
}

/** The session limits and chunk size, defaulted and checked (shared with the LMDB machine). */
export function resolveOptions(options: KvStateMachineOptions): {
  sessionLimits: SessionLimits;
  chunkBytes: number;
} {
  const sessionLimits = {
    sessionsMax: options.sessionsMax ?? defaultSessionLimits.sessionsMax,
    sessionBytesMax: options.sessionBytesMax ?? defaultSessionLimits.sessionBytesMax,
  };
  const chunkBytes = options.snapshotChunkBytes ?? defaultChunkBytes;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < chunkBytesMin
    || chunkBytes > chunkBytesMax) {
    throw new ConfigError(
      `snapshotChunkBytes ${chunkBytes} must be in [${chunkBytesMin}, ${chunkBytesMax}]`);
  }
  return { sessionLimits, chunkBytes };
}

export class KvStateMachine implements KvStore {
  private tree = new BTree();
  private expiry = new ExpiryIndex();
  private sessions: SessionTable;
  private readonly sessionLimits: SessionLimits;
  private readonly chunkBytes: number;
  /** The index of the last entry applied (or of the restored snapshot). */
  private lastIndex = 0;
  /** The tree and the expiry index as one RecordStore, for execute(). */
  private readonly store: RecordStore = {
    get: (key) => this.tree.get(key),
    set: (record, previous) => {
      const replaced = this.tree.set(record);
      assert(replaced === previous, () => `set ${record.key}: previous record mismatch`);
      this.expiry.update(previous, record);
    },
    delete: (previous) => {
      const removed = this.tree.delete(previous.key);
      assert(removed === previous, () => `delete ${previous.key}: record mismatch`);
      this.expiry.update(previous, undefined);
    },
  };

  constructor(options: KvStateMachineOptions = {}) {
    const { sessionLimits, chunkBytes } = resolveOptions(options);
    this.sessionLimits = sessionLimits;
    this.chunkBytes = chunkBytes;
    this.sessions = new SessionTable(this.sessionLimits);
  }

  /** Keys stored (expired ones included until swept). */
  get size(): number {
    return this.tree.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The index of the last entry applied, or of the snapshot restored (not `appliedIndex`). */
  get lastAppliedIndex(): number {
    return this.lastIndex;
  }

  apply(entry: AppliedEntry): KvResult {
    assert(entry.index > this.lastIndex, () => `apply ${entry.index} after ${this.lastIndex}`);
    this.lastIndex = entry.index;
    const command = decodeEntry(entry);
    if (command.kind === "rejected") return command;
    const session = command.session;
    if (session !== undefined) {
      const answer = this.sessions.check(session, entry.index);
      if (answer !== undefined) return answer;
    }
    const result = execute(this.store, command, entry.index);
    if (session !== undefined) this.sessions.record(session, result);
    return result;
  }

  get(key: string, nowMs?: number): KvRecord | undefined {
    return live(this.tree.get(key), nowMs);
  }

  /** Up to `limit` live keys that start with `prefix` ("" for all), in key order. */
  range(prefix: string, limit: number, options: RangeOptions = {}): KvRange {
    const root = this.tree.liveRoot();
    return collectRange((start) => recordsFrom(root, start), prefix, limit, options);
  }

  expiredKeys(nowMs: number, max: number): SweepKey[] {
    checkExpiredRequest(nowMs, max);
    const keys: SweepKey[] = [];
    for (const key of this.expiry.due(nowMs)) {
      if (keys.length === max) break;
      const record = this.tree.get(key);
      assert(record !== undefined && record.expiresAtMs > 0 && record.expiresAtMs <= nowMs,
        () => `expiry index holds ${key}, which is not expired at ${nowMs}`);
      keys.push({ key, modIndex: record.modIndex });
    }
    return keys;
  }

  /**
   * The state as of this call, streamed in chunks: the tree is frozen in O(1) (copy-on-write)
   * and the session table, which is bounded, is copied. Later applies do not change the stream.
   */
  snapshot(): AsyncIterable<Uint8Array> {
    const frozen = this.tree.freeze();
    const source = {
      appliedIndex: this.lastIndex,
      recordCount: frozen.count,
      records: { [Symbol.iterator]: () => recordsFrom(frozen.root) },
      sessions: this.sessions.entries(),
    };
    return writeSnapshot(source, this.chunkBytes);
  }

  /** Reads and verifies the whole stream, then swaps the state in one synchronous step. */
  async restore(chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    const builder = new BTreeBuilder();
    const expiry = new ExpiryIndex();
    const read = await readSnapshot(chunks, meta.index, (record) => {
      builder.push(record);
      expiry.update(undefined, record);
    });
    const sessions = SessionTable.restore(this.sessionLimits, read.sessions);
    const built = builder.finish();
    assert(built.count === read.recordCount, "restored record count");
    this.tree = new BTree(built);
    this.expiry = expiry;
    this.sessions = sessions;
    this.lastIndex = meta.index;
  }

  /**
   * SHA-256 (hex) of the replicated contents: every record in key order and the sessions in
   * eviction order (state-hash.ts).
   */
  stateHash(): string {
    return hashState(recordsFrom(this.tree.liveRoot()), this.sessions.entries());
  }

  /** Nothing to release: the state lives in memory. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
