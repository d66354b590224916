// The replicated key-value state machine kept on disk in LMDB (layout in lmdb-layout.ts), so
// that a restart resumes after `appliedIndex()` instead of replaying all history. It runs the
// same command semantics (execute.ts) and session table (sessions.ts) as the in-memory
// KvStateMachine and streams the same snapshot format, so replicas of either kind compute the
// same results and exchange snapshots.
//
// Each apply is one synchronous LMDB write transaction holding the records, the expiry index,
// the session table and the applied index, so data, sessions and index always agree.
//
// Durability. The environment is opened with noSync: a commit is not fsynced, which is what makes
// tens of thousands of applies per second possible. A process crash loses nothing (the pages are in
// the OS cache). Where the kernel has a boot id (Linux), the environment is also written through
// its memory map (useWritemap), which halves the CPU of an apply: a commit writes no pages with
// system calls. After an OS crash or power loss such an environment may be corrupt, so a marker
// beside it (lmdb-writemap.ts) tells on open whether the OS restarted while it held writes not yet
// flushed; if so, or if the marker cannot be read, the environment is deleted and the node rebuilds
// the state from its snapshot and log. (Without the memory map, an OS crash may roll LMDB back to
// an earlier committed state, provided the filesystem keeps write order, as LMDB's noSync mode
// assumes.) Either way is safe because the node resumes after the state's appliedIndex() and
// replays the entries from its durable Raft log, or restores a snapshot when the log no longer has
// them.
// The log loses entries only behind a snapshot, so two points are made durable:
// - snapshot() starts an fsync at once and its stream yields nothing until it completes, so the
//   durable appliedIndex is at least the snapshot's index before the node can store the
//   snapshot and compact the log behind it;
// - restore() fsyncs before it resolves, since the node then drops its whole log.

import { mkdir } from "node:fs/promises";
import { type RootDatabase, open as openLmdb } from "lmdb";
import { assert } from "../assert.js";
import type { SnapshotMeta } from "../core/types.js";
import type { AppliedEntry } from "../node/ports.js";
import { KvStoreDamagedError } from "./errors.js";
import { checkExpiredRequest, collectRange, decodeEntry, execute, live } from "./execute.js";
import type { KvStore } from "./kv-store.js";
import { type KvStateMachineOptions, resolveOptions } from "./kv-state-machine.js";
import { LAYOUT_VERSION, metaKeys, readU64, u64Bytes } from "./lmdb-layout.js";
import { LmdbSessions } from "./lmdb-sessions.js";
import { type BinaryDb, LmdbSlot, SlotLoader, put } from "./lmdb-slot.js";
import {
  distrust,
  markClean,
  markDirty,
  readBootId,
  removeEnvironment,
  removeMarker,
} from "./lmdb-writemap.js";
import { ReadTxnStream } from "./read-txn-stream.js";
import { type SessionLimits, SessionTable } from "./sessions.js";
import { writeSnapshot } from "./snapshot-format.js";
import { readSnapshot } from "./snapshot-reader.js";
import { hashState } from "./state-hash.js";
import type { KvRange, KvRecord, KvResult, RangeOptions, SweepKey } from "./types.js";

export interface LmdbKvStateMachineOptions extends KvStateMachineOptions {
  /**
   * Write through the memory map (default true where the kernel's boot id can be read, which
   * the safety check needs; false elsewhere). See the file comment and lmdb-writemap.ts.
   */
  readonly writeMap?: boolean;
}

const binary = { keyEncoding: "binary", encoding: "binary", compression: false } as const;

interface Databases {
  readonly root: RootDatabase<Buffer, Buffer>;
  readonly meta: BinaryDb;
  readonly sessions: BinaryDb;
  readonly slots: readonly [LmdbSlot, LmdbSlot];
}

export class LmdbKvStateMachine implements KvStore {
  private slotIndex: 0 | 1;
  private lastIndex: number;
  private closed = false;
  /** Set while an apply runs; left set if it threw (see apply). */
  private failed = false;
  private readonly streams = new Set<ReadTxnStream>();

  private constructor(
    readonly dir: string,
    private readonly dbs: Databases,
    private readonly sessions: LmdbSessions,
    private readonly sessionLimits: SessionLimits,
    private readonly chunkBytes: number,
    state: { slot: 0 | 1; applied: number },
    /** Why the state found on open was deleted (null: it was kept, or there was none). */
    readonly discardedOnOpen: string | null,
    private readonly writeMap: boolean,
  ) {
    this.slotIndex = state.slot;
    this.lastIndex = state.applied;
  }

  /** Opens (creating if needed) the state kept in directory `dir`. */
  static async open(dir: string, options: LmdbKvStateMachineOptions = {}):
    Promise<LmdbKvStateMachine> {
    const { sessionLimits, chunkBytes } = resolveOptions(options);
    await mkdir(dir, { recursive: true });
    const bootId = await readBootId();
    const writeMap = options.writeMap !== false && bootId !== null;
    const discarded = await distrust(dir, bootId);
    if (discarded !== null) await removeEnvironment(dir);
    if (writeMap && bootId !== null) await markDirty(dir, bootId);
    else await removeMarker(dir);
    const root = openLmdb<Buffer, Buffer>({ path: dir, noSubdir: false, noSync: true,
      useWritemap: writeMap, ...binary });
    try {
      const named = (name: string): BinaryDb => root.openDB<Buffer, Buffer>(name, binary);
      const meta = named("meta");
      const state = initMeta(root, meta);
      const slots = [0, 1].map((n) => new LmdbSlot(named(`records-${n}`), named(`expiry-${n}`),
        n === state.slot ? state.count : 0)) as [LmdbSlot, LmdbSlot];
      // A restore interrupted by a crash leaves records in the other slot: drop them.
      const spare = slots[1 - state.slot] as LmdbSlot;
      if (!spare.isEmpty()) spare.clear();
      const sessionsDb = named("sessions");
      const sessions = LmdbSessions.load(root, sessionsDb, sessionLimits);
      const dbs = { root, meta, sessions: sessionsDb, slots };
      return new LmdbKvStateMachine(dir, dbs, sessions, sessionLimits, chunkBytes, state,
        discarded, writeMap);
    } catch (error) {
      await root.close();
      throw error;
    }
  }

  /** StateMachine.appliedIndex: where the node resumes (stored with the data, atomically). */
  appliedIndex(): number {
    return this.lastIndex;
  }

  get lastAppliedIndex(): number {
    return this.lastIndex;
  }

  get size(): number {
    return this.live.count;
  }

  get sessionCount(): number {
    return this.sessions.table.size;
  }

  apply(entry: AppliedEntry): KvResult {
    const [result] = this.applyBatch([entry]);
    assert(result !== undefined, "applyBatch returned no result");
    return result;
  }

  /**
   * Applies consecutive entries in ONE write transaction (StateMachine.applyBatch): records,
   * sessions and the applied index of the last entry commit together, so a batch costs one
   * LMDB commit instead of one per entry.
   */
  applyBatch(entries: readonly AppliedEntry[]): KvResult[] {
    this.checkOpen();
    let previous = this.lastIndex;
    const commands = entries.map((entry) => {
      // Gaps are normal: the node keeps no-ops and configuration entries to itself.
      assert(entry.index > previous, () => `apply ${entry.index} after ${previous}`);
      previous = entry.index;
      return decodeEntry(entry);
    });
    const last = entries[entries.length - 1];
    if (last === undefined) return [];
    const slot = this.live;
    const countBefore = slot.count;
    // A throw aborts the transaction but may have changed the in-memory count or sessions:
    // the instance then refuses further use (the node stops; reopening reloads a consistent
    // state from LMDB).
    this.failed = true;
    const results = this.dbs.root.transactionSync((): KvResult[] => {
      const answers = entries.map((entry, i): KvResult => {
        const command = commands[i];
        assert(command !== undefined, "a decoded command per entry");
        if (command.kind === "rejected") return command;
        const session = command.session;
        const saved = session === undefined ? undefined : this.sessions.check(session, entry.index);
        const answer = saved ?? execute(slot, command, entry.index);
        if (session !== undefined && saved === undefined) this.sessions.record(session, answer);
        return answer;
      });
      put(this.dbs.meta, metaKeys.applied, u64Bytes(last.index));
      if (slot.count !== countBefore) put(this.dbs.meta, metaKeys.count, u64Bytes(slot.count));
      return answers;
    });
    this.failed = false;
    this.lastIndex = last.index;
    return results;
  }

  get(key: string, nowMs?: number): KvRecord | undefined {
    this.checkOpen();
    return live(this.live.get(key), nowMs);
  }

  range(prefix: string, limit: number, options: RangeOptions = {}): KvRange {
    this.checkOpen();
    const slot = this.live;
    return collectRange((start) => slot.from(start), prefix, limit, options);
  }

  expiredKeys(nowMs: number, max: number): SweepKey[] {
    this.checkOpen();
    checkExpiredRequest(nowMs, max);
    return this.live.due(nowMs, max);
  }

  /**
   * The state as of this call, from an LMDB read transaction held while the stream is read
   * (applies go on). The stream's first chunk waits for a durable flush (see the file comment).
   * The transaction is released when the stream ends, fails or is abandoned (return()); a
   * stream never read nor returned holds it until close().
   */
  snapshot(): AsyncIterable<Uint8Array> {
    this.checkOpen();
    const txn = this.dbs.root.useReadTransaction();
    const slot = this.live;
    const source = {
      appliedIndex: this.lastIndex,
      recordCount: slot.count,
      records: { [Symbol.iterator]: () => slot.from("", txn) },
      sessions: this.sessions.table.entries(),
    };
    const flushed = this.flush();
    // Awaited by the stream's first next(); an unread stream must not leave it unhandled.
    flushed.catch(() => undefined);
    const stream = new ReadTxnStream(writeSnapshot(source, this.chunkBytes), txn, flushed,
      (s) => this.streams.delete(s));
    this.streams.add(stream);
    return stream;
  }

  /**
   * Loads the stream into the spare slot in bounded batches while verifying it; only when the
   * whole stream checked out does one transaction make that slot live with the sessions and
   * the applied index. On a throw the live state is untouched (the spare slot is cleared).
   */
  async restore(chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    this.checkOpen();
    const spareIndex = this.slotIndex === 0 ? 1 : 0;
    const spare = this.dbs.slots[spareIndex];
    if (!spare.isEmpty()) spare.clear();
    const loader = new SlotLoader(this.dbs.root, spare);
    let sessions: SessionTable;
    try {
      const read = await readSnapshot(chunks, meta.index, (record) => loader.push(record));
      const count = loader.finish();
      assert(count === read.recordCount, () => `loaded ${count} of ${read.recordCount}`);
      sessions = SessionTable.restore(this.sessionLimits, read.sessions);
    } catch (error) {
      // The original error decides what the node does (a corrupt snapshot: try an older one),
      // so it is the one thrown; if clearing fails too, the spare slot's leftovers are
      // invisible and are cleared again by the next restore or open.
      try {
        spare.clear();
      } catch {
        // (see above)
      }
      throw error;
    }
    this.checkOpen();
    const previous = this.live;
    const nextStamp = this.dbs.root.transactionSync(() => {
      put(this.dbs.meta, metaKeys.slot, Buffer.from([spareIndex]));
      put(this.dbs.meta, metaKeys.applied, u64Bytes(meta.index));
      put(this.dbs.meta, metaKeys.count, u64Bytes(spare.count));
      return this.sessions.persist(sessions);
    });
    this.sessions.adopt(sessions, nextStamp);
    this.slotIndex = spareIndex;
    this.lastIndex = meta.index;
    previous.clear();
    await this.flush();
  }

  stateHash(): string {
    this.checkOpen();
    return hashState(this.live.from(""), this.sessions.table.entries());
  }

  /** Ends open snapshot streams, makes everything durable and closes the environment. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const stream of [...this.streams]) await stream.return();
    this.closed = true;
    await this.flush();
    if (this.writeMap) await markClean(this.dir);
    await this.dbs.root.close();
  }

  /** fsyncs the environment: every committed transaction is durable once this resolves. */
  private flush(): Promise<void> {
    // lmdb-js's sync() (mdb_env_sync with force, on a worker thread) is not in its typings.
    const env = this.dbs.root as unknown as { sync(done: (error?: Error) => void): void };
    return new Promise((resolve, reject) => {
      env.sync((error) => (error === undefined || error === null ? resolve() : reject(error)));
    });
  }

  private get live(): LmdbSlot {
    return this.dbs.slots[this.slotIndex];
  }

  private checkOpen(): void {
    assert(!this.closed, () => `the LMDB state machine in ${this.dir} is closed`);
    assert(!this.failed, () => `the LMDB state machine in ${this.dir} failed during an apply`);
  }
}

/** Reads the meta database, writing the initial one into a new environment. */
function initMeta(root: RootDatabase<Buffer, Buffer>, meta: BinaryDb):
  { slot: 0 | 1; applied: number; count: number } {
  const layout = meta.getBinary(metaKeys.layout);
  if (layout === undefined) {
    root.transactionSync(() => {
      const version = Buffer.alloc(4);
      version.writeUInt32LE(LAYOUT_VERSION);
      put(meta, metaKeys.layout, version);
      put(meta, metaKeys.slot, Buffer.from([0]));
      put(meta, metaKeys.applied, u64Bytes(0));
      put(meta, metaKeys.count, u64Bytes(0));
    });
    return { slot: 0, applied: 0, count: 0 };
  }
  if (layout.length !== 4 || layout.readUInt32LE(0) !== LAYOUT_VERSION) {
    throw new KvStoreDamagedError(`unknown LMDB layout ${layout.toString("hex")}`);
  }
  const slot = meta.getBinary(metaKeys.slot)?.[0];
  const applied = meta.getBinary(metaKeys.applied);
  const count = meta.getBinary(metaKeys.count);
  if ((slot !== 0 && slot !== 1) || applied === undefined || count === undefined) {
    throw new KvStoreDamagedError("the LMDB meta database is incomplete");
  }
  return { slot, applied: readU64(applied), count: readU64(count) };
}
