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

/** How a WAL variant of the tests writes: its write mode and whether it preallocates. */
export interface WalVariant {
  readonly writeMode?: WalWriteMode;
  readonly preallocate?: boolean;
}

function variantLabel(wal: WalVariant): string | null {
  const parts = [
    ...(wal.writeMode === undefined ? [] : [`${wal.writeMode} writes`]),
    ...(wal.preallocate === false ? ["no preallocation"] : []),
  ];
  return parts.length === 0 ? null : parts.join(", ");
}

/** A backend of `kind`; `wal` picks how the WAL writes (its defaults otherwise). */
export function backendFor(kind: StorageKind, wal: WalVariant = {}): ConformanceBackend {
  const variant = variantLabel(wal);
  return {
    kind,
    ...(variant === null ? {} : { variant }),
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
          ? openStorage({ kind, dir, segmentBytes: testSegmentBytes, ...limits, ...wal })
          : openStorage({ kind, dir, ...limits }),
        snapshotLeftovers: async () =>
          (await readdir(join(dir, "snapshots"))).filter((name) => !name.endsWith(".snap")),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  };
}

/**
 * What the crash test kills: each disk backend, the WAL in its other write modes, and the WAL
 * without preallocated segments ("wal-grow": every write grows the file).
 */
export const crashVariants = [
  "wal", "wal-inline", "wal-auto", "lmdb", "level", "wal-grow",
] as const;
export type CrashVariant = (typeof crashVariants)[number];

export function openCrashVariant(variant: CrashVariant, dir: string): Promise<Storage> {
  if (variant === "wal" || variant === "wal-inline" || variant === "wal-auto" ||
    variant === "wal-grow") {
    const modes = { wal: "thread", "wal-inline": "inline", "wal-auto": "auto",
      "wal-grow": "thread" } as const;
    const writeMode: WalWriteMode = modes[variant];
    return openStorage({ kind: "wal", dir, segmentBytes: testSegmentBytes * 8, writeMode,
      preallocate: variant !== "wal-grow" });
  }
  return openStorage({ kind: variant, dir });
}
