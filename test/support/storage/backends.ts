// Backends for the storage tests: each gives a fresh data directory under os.tmpdir() (or a
// fresh MemoryDisk), removed afterwards. WAL segments are tiny (4 KiB) so that every test
// crosses segment boundaries.

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  BackendOptions,
  BackendPlace,
  ConformanceBackend,
} from "../../../src/storage/conformance/index.js";
import { MemoryDisk } from "../../../src/storage/memory/memory-storage.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage, StorageKind } from "../../../src/storage/types.js";
import type { WalWriteMode } from "../../../src/storage/wal/wal-log-store.js";

export const testSegmentBytes = 4096;

export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `raft-store-${label}-`));
}

/** A backend of `kind`; `walWriteMode` picks how the WAL writes (its default otherwise). */
export function backendFor(kind: StorageKind, walWriteMode?: WalWriteMode): ConformanceBackend {
  return {
    kind,
    ...(walWriteMode === undefined ? {} : { variant: `${walWriteMode} writes` }),
    async fresh(options: BackendOptions = {}): Promise<BackendPlace> {
      const limits = options.entryBytesMax === undefined
        ? {}
        : { entryBytesMax: options.entryBytesMax };
      if (kind === "memory") {
        const disk = new MemoryDisk();
        return {
          open: () => openStorage({ kind, disk, ...limits }),
          snapshotLeftovers: async () => [],
          dispose: async () => {},
        };
      }
      const dir = await makeTempDir(kind);
      return {
        open: () => kind === "wal"
          ? openStorage({ kind, dir, segmentBytes: testSegmentBytes, ...limits,
            ...(walWriteMode === undefined ? {} : { writeMode: walWriteMode }) })
          : openStorage({ kind, dir, ...limits }),
        snapshotLeftovers: async () =>
          (await readdir(join(dir, "snapshots"))).filter((name) => !name.endsWith(".snap")),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  };
}

/** What the crash test kills: each disk backend, and the WAL in its other write modes. */
export const crashVariants = ["wal", "wal-inline", "wal-auto", "lmdb", "level"] as const;
export type CrashVariant = (typeof crashVariants)[number];

export function openCrashVariant(variant: CrashVariant, dir: string): Promise<Storage> {
  if (variant === "wal" || variant === "wal-inline" || variant === "wal-auto") {
    const modes = { wal: "thread", "wal-inline": "inline", "wal-auto": "auto" } as const;
    const writeMode: WalWriteMode = modes[variant];
    return openStorage({ kind: "wal", dir, segmentBytes: testSegmentBytes * 8, writeMode });
  }
  return openStorage({ kind: variant, dir });
}
