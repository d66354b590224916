// How the conformance suite reaches a backend: a fresh place for one test's data, opened as
// many times as the test wants (each open after a close is a restart).

import type { Storage, StorageKind } from "../types.js";

export interface BackendOptions {
  readonly entryBytesMax?: number;
}

export interface BackendPlace {
  open(): Promise<Storage>;
  /** Files left in the snapshot directory other than committed snapshots ([] in memory). */
  snapshotLeftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

export interface ConformanceBackend {
  readonly kind: StorageKind;
  /** Names the variant in test titles when one kind runs in several modes. */
  readonly variant?: string;
  fresh(options?: BackendOptions): Promise<BackendPlace>;
}

/** The backend's name in test titles: its kind, and its variant when it has one. */
export function backendLabel(backend: ConformanceBackend): string {
  return backend.variant === undefined ? backend.kind : `${backend.kind} (${backend.variant})`;
}

/** One test's view of a backend: the current storage, and a way to restart it. */
export class StorageContext {
  constructor(
    public storage: Storage,
    readonly place: BackendPlace,
  ) {}

  /** A clean restart: close, then open the same data again. */
  async reopen(): Promise<Storage> {
    await this.storage.close();
    this.storage = await this.place.open();
    return this.storage;
  }
}

/** Runs `body` on a fresh place; closes the current storage and disposes of the place after. */
export async function withStorage(
  backend: ConformanceBackend,
  body: (context: StorageContext) => Promise<void>,
  options: BackendOptions = {},
): Promise<void> {
  const place = await backend.fresh(options);
  const context = new StorageContext(await place.open(), place);
  try {
    await body(context);
  } finally {
    await context.storage.close();
    await place.dispose();
  }
}
