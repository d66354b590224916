// The storage ports: a log, the stable state and snapshots. Every backend implements all three
// and passes the same conformance suite (src/storage/conformance/). The core reads its log
// synchronously from the driver's in-memory copy; these stores are the durable truth, so their
// reads and writes are asynchronous. Each store runs one operation at a time, in call order.

import type { Entry, HardState, LogIndex, NodeId, SnapshotMeta, Term } from "../core/types.js";

export interface AppendOptions {
  /** Resolve only once these entries (and everything written before) are on stable storage. */
  readonly sync: boolean;
  /**
   * A hint: the caller has other work to do while this append is written. A backend that can
   * write on the calling thread (the WAL with writeMode "auto") writes from the thread pool
   * instead, so that work overlaps the disk. Backends may ignore it.
   */
  readonly overlap?: boolean;
}

/**
 * The replicated log. Holds the contiguous entries firstIndex()..lastIndex(); an empty store has
 * lastIndex() === firstIndex() - 1. Entries up to firstIndex() - 1 were compacted away, but the
 * term of firstIndex() - 1 (the compaction point) is remembered, so a follower can still answer
 * the log-matching check right after a snapshot.
 */
export interface LogStore {
  firstIndex(): LogIndex;
  lastIndex(): LogIndex;
  /**
   * The term of the entry at `index`, for firstIndex() - 1 <= index <= lastIndex().
   * Throws LogCompactedError below that range and LogUnavailableError above it.
   */
  term(index: LogIndex): Promise<Term>;
  /**
   * Entries lo..hi-1, stopping before their entryBytes() total exceeds `bytesMax`, but always
   * at least one entry when lo < hi. Same range errors as term().
   */
  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): Promise<Entry[]>;
  /**
   * Appends entries that start at lastIndex() + 1 and follow each other (else LogGapError;
   * delete a conflicting suffix first). Terms never decrease. With `sync`, one fsync covers
   * the whole batch; an empty batch with `sync` makes earlier unsynced appends durable.
   */
  append(entries: readonly Entry[], options: AppendOptions): Promise<void>;
  /** Deletes entries fromIndex..lastIndex(), durably before resolving. fromIndex >= firstIndex. */
  truncateSuffix(fromIndex: LogIndex): Promise<void>;
  /**
   * Deletes entries up to and including `upToIndex`, whose term is `upToTerm`, durably. Works
   * past lastIndex() (a snapshot newer than the log): the store is then empty and takes its next
   * append at upToIndex + 1. A point at or before the current one is a no-op.
   */
  truncatePrefix(upToIndex: LogIndex, upToTerm: Term): Promise<void>;
}

/** What StableStore keeps: the Raft hard state plus the ids this data directory belongs to. */
export interface StableState {
  readonly hardState: HardState;
  readonly clusterId: string | null;
  readonly nodeId: NodeId | null;
}

export interface StableStateUpdate {
  readonly hardState?: HardState;
  readonly clusterId?: string;
  readonly nodeId?: NodeId;
}

export const emptyStableState: StableState = {
  hardState: { term: 0, vote: null, commit: 0 },
  clusterId: null,
  nodeId: null,
};

/** The largest cluster id, in UTF-8 bytes, a stable store accepts. */
export const clusterIdBytesMax = 255;

export interface StableStore {
  /** The state as of the last completed set(); read from disk once, on open. */
  get(): StableState;
  /** Replaces the given fields atomically and durably: after a crash, all or none are seen. */
  set(update: StableStateUpdate): Promise<void>;
}

/**
 * A snapshot being written. Chunks stream to a temporary place; commit() makes the snapshot
 * visible atomically and durably, abort() (or never committing) leaves nothing behind.
 */
export interface SnapshotWriter {
  readonly meta: SnapshotMeta;
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A committed snapshot opened for reading. chunks() may be iterated once; it verifies the data
 * checksum as it goes and throws CorruptSnapshotError after the last chunk if it does not match,
 * so a consumer must treat the restored state as valid only once the iteration completes.
 */
export interface SnapshotReader {
  readonly meta: SnapshotMeta;
  readonly dataBytes: number;
  chunks(): AsyncIterable<Uint8Array>;
  /** Releases the reader without reading (chunks() releases it when it finishes). */
  close(): Promise<void>;
}

export interface SnapshotStore {
  create(meta: SnapshotMeta): Promise<SnapshotWriter>;
  /** The committed snapshot with the highest index, or null. */
  latest(): Promise<SnapshotReader | null>;
  /** The committed snapshot at `index`, or null if there is none. */
  open(index: LogIndex): Promise<SnapshotReader | null>;
  /**
   * Indexes of the committed snapshots, newest first, without reading them (so that a corrupt
   * one does not hide the others).
   */
  indexes(): Promise<LogIndex[]>;
  /** Metadata of every committed snapshot, newest (highest index) first. */
  list(): Promise<SnapshotMeta[]>;
  /** Deletes all but the newest `count` committed snapshots (count >= 1). */
  retain(count: number): Promise<void>;
}

/** The three stores of one data directory, opened and closed together. */
export interface Storage {
  readonly kind: StorageKind;
  readonly log: LogStore;
  readonly stable: StableStore;
  readonly snapshots: SnapshotStore;
  /** What opening repaired (a torn tail cut off, leftovers removed), for the operator's log. */
  readonly repairs: readonly string[];
  /** Flushes and releases everything; later calls on the stores throw StorageClosedError. */
  close(): Promise<void>;
}

/** The backends that keep the log on disk. */
export const diskStorageKinds = ["wal", "lmdb", "level"] as const;
export type DiskStorageKind = (typeof diskStorageKinds)[number];
export const storageKinds = [...diskStorageKinds, "memory"] as const;
export type StorageKind = (typeof storageKinds)[number];
