// The factory: picks a backend by configuration and opens its three stores over one data
// directory. Directory layout:
//   <dir>/storage-kind   the backend that owns the directory (opening it as another is refused)
//   <dir>/state, <dir>/log/       wal: stable-state file and segments
//   <dir>/lmdb/ or <dir>/level/   lmdb, level: the engine's files (log and stable state)
//   <dir>/snapshots/              every disk backend: one file per snapshot

import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { EngineLogStore } from "./engine/engine-log-store.js";
import { EngineStableStore } from "./engine/engine-stable-store.js";
import type { KvEngine } from "./engine/kv-engine.js";
import { FileSnapshotStore } from "./file/file-snapshot-store.js";
import { FileStableStore } from "./file/file-stable-store.js";
import { ensureDirectory, readFileIfExists, writeFileAtomic } from "./fs-util.js";
import { openLevelEngine } from "./level/level-engine.js";
import { openLmdbEngine } from "./lmdb/lmdb-engine.js";
import { type MemoryDisk, MemoryStorage } from "./memory/memory-storage.js";
import { defaultEntryBytesMax, defaultSegmentBytes } from "./options.js";
import type { LogStore, StableStore, Storage, StorageKind } from "./types.js";
import { storageKinds } from "./types.js";
import { type WalOptions, WalLogStore, type WalWriteMode } from "./wal/wal-log-store.js";

export type StorageOptions =
  | { readonly kind: "memory"; readonly disk?: MemoryDisk; readonly entryBytesMax?: number }
  | {
    readonly kind: "wal";
    readonly dir: string;
    readonly segmentBytes?: number;
    readonly entryBytesMax?: number;
    readonly writeMode?: WalWriteMode;
    /** Keep the next segment zero-filled ahead of need (default true): WalOptions.preallocate. */
    readonly preallocate?: boolean;
    /** Bytes read at a time while opening (default 8 MiB): WalOptions.scanWindowBytes. */
    readonly scanWindowBytes?: number;
  }
  | { readonly kind: "lmdb" | "level"; readonly dir: string; readonly entryBytesMax?: number };

export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (!(storageKinds as readonly string[]).includes(options.kind)) {
    const kinds = storageKinds.join(", ");
    throw new ConfigError(`storage "${String(options.kind)}": use one of ${kinds}`);
  }
  if (options.kind === "memory") {
    const memoryOptions = options.disk === undefined ? {} : { disk: options.disk };
    const entryBytesMax = options.entryBytesMax ?? defaultEntryBytesMax;
    return new MemoryStorage({ ...memoryOptions, entryBytesMax });
  }
  await ensureDirectory(options.dir);
  const initialized = await checkKind(options.dir, options.kind);
  const entryBytesMax = options.entryBytesMax ?? defaultEntryBytesMax;
  const snapshots = await FileSnapshotStore.open(join(options.dir, "snapshots"));
  let storage: DiskStorage;
  if (options.kind === "wal") {
    storage = await openWalStorage(options.dir, initialized, snapshots, {
      dir: join(options.dir, "log"),
      entryBytesMax,
      segmentBytes: options.segmentBytes ?? defaultSegmentBytes,
      ...(options.writeMode === undefined ? {} : { writeMode: options.writeMode }),
      ...(options.preallocate === undefined ? {} : { preallocate: options.preallocate }),
      ...(options.scanWindowBytes === undefined
        ? {}
        : { scanWindowBytes: options.scanWindowBytes }),
    });
  } else {
    storage = await openEngineStorage(options.kind, options.dir, entryBytesMax, snapshots);
  }
  // Written last: its presence says the directory was fully initialized.
  if (!initialized) await writeFileAtomic(kindPath(options.dir), Buffer.from(options.kind));
  return storage;
}

async function openWalStorage(
  dir: string,
  initialized: boolean,
  snapshots: FileSnapshotStore,
  walOptions: WalOptions,
): Promise<DiskStorage> {
  const stable = await FileStableStore.open(join(dir, "state"), !initialized);
  try {
    const log = await WalLogStore.open(walOptions);
    return new DiskStorage("wal", log, stable, snapshots, log.repairs, async () => {
      await log.close();
      await stable.close();
    });
  } catch (error) {
    await stable.close();
    throw error;
  }
}

async function openEngineStorage(
  kind: "lmdb" | "level",
  dir: string,
  entryBytesMax: number,
  snapshots: FileSnapshotStore,
): Promise<DiskStorage> {
  const path = join(dir, kind);
  await ensureDirectory(path);
  const engine: KvEngine = kind === "lmdb"
    ? await openLmdbEngine(path)
    : await openLevelEngine(path);
  try {
    const log = await EngineLogStore.open(engine, entryBytesMax);
    const stable = await EngineStableStore.open(engine);
    return new DiskStorage(kind, log, stable, snapshots, [], async () => {
      await log.close();
      stable.close();
      await engine.close();
    });
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/** Returns whether the directory was initialized before; refuses another backend's directory. */
async function checkKind(dir: string, kind: StorageKind): Promise<boolean> {
  const stored = await readFileIfExists(kindPath(dir));
  if (stored === null) return false;
  const owner = stored.toString("utf8");
  if (owner !== kind) throw new ConfigError(`${dir} holds "${owner}" storage, not "${kind}"`);
  return true;
}

function kindPath(dir: string): string {
  return join(dir, "storage-kind");
}

class DiskStorage implements Storage {
  private closing: Promise<void> | null = null;

  constructor(
    readonly kind: StorageKind,
    readonly log: LogStore,
    readonly stable: StableStore,
    readonly snapshots: FileSnapshotStore,
    readonly repairs: readonly string[],
    private readonly closeStores: () => Promise<void>,
  ) {}

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.snapshots.close();
      await this.closeStores();
    })();
    return this.closing;
  }
}
