// The memory backend: all three stores over a MemoryDisk, which stands for the durable medium.
// Opening a new MemoryStorage on the same disk is a clean restart; crash() is a power loss:
// it drops every append not yet synced and returns the storage reopened from what was durable.

import { assert } from "../../assert.js";
import { defaultEntryBytesMax } from "../options.js";
import { StorageClosedError } from "../errors.js";
import { applyStableUpdate } from "../stable-codec.js";
import {
  type StableState,
  type StableStateUpdate,
  type StableStore,
  type Storage,
  emptyStableState,
} from "../types.js";
import {
  type MemoryLogMedium,
  MemoryLogStore,
  dropUnsynced,
  emptyLogMedium,
} from "./memory-log-store.js";
import { MemorySnapshotStore, type StoredSnapshot } from "./memory-snapshot-store.js";

export class MemoryDisk {
  readonly log: MemoryLogMedium = emptyLogMedium();
  readonly snapshots = new Map<number, StoredSnapshot>();
  stable: StableState = emptyStableState;
  /** The storage currently using this disk: one at a time, as with a lock file. */
  inUse = false;
}

class MemoryStableStore implements StableStore {
  private closed = false;

  constructor(private readonly disk: MemoryDisk) {}

  get(): StableState {
    return this.disk.stable;
  }

  async set(update: StableStateUpdate): Promise<void> {
    if (this.closed) throw new StorageClosedError("memory stable store");
    this.disk.stable = applyStableUpdate(this.disk.stable, update);
  }

  close(): void {
    this.closed = true;
  }
}

export interface MemoryStorageOptions {
  readonly disk?: MemoryDisk;
  readonly entryBytesMax?: number;
}

export class MemoryStorage implements Storage {
  readonly kind = "memory" as const;
  readonly repairs: readonly string[] = [];
  readonly disk: MemoryDisk;
  readonly log: MemoryLogStore;
  readonly stable: MemoryStableStore;
  readonly snapshots: MemorySnapshotStore;
  private readonly entryBytesMax: number;
  private closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    this.disk = options.disk ?? new MemoryDisk();
    assert(!this.disk.inUse, "memory disk is already open");
    this.disk.inUse = true;
    this.entryBytesMax = options.entryBytesMax ?? defaultEntryBytesMax;
    this.log = new MemoryLogStore(this.disk.log, this.entryBytesMax);
    this.stable = new MemoryStableStore(this.disk);
    this.snapshots = new MemorySnapshotStore(this.disk.snapshots);
  }

  /** A clean shutdown: what was appended, synced or not, is kept. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.disk.log.syncedLastIndex = this.log.lastIndex();
    this.release();
  }

  /** A power loss: unsynced appends are lost. Returns the storage reopened after it. */
  crash(): MemoryStorage {
    if (this.closed) throw new StorageClosedError("memory storage");
    dropUnsynced(this.disk.log);
    this.release();
    return new MemoryStorage({ disk: this.disk, entryBytesMax: this.entryBytesMax });
  }

  private release(): void {
    this.closed = true;
    this.log.close();
    this.stable.close();
    this.snapshots.close();
    this.disk.inUse = false;
  }
}


