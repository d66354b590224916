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
import type { StorageKind } from "../../../src/storage/types.js";

export const testSegmentBytes = 4096;

export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `raft-store-${label}-`));
}

export function backendFor(kind: StorageKind): ConformanceBackend {
  return {
    kind,
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
          ? openStorage({ kind, dir, segmentBytes: testSegmentBytes, ...limits })
          : openStorage({ kind, dir, ...limits }),
        snapshotLeftovers: async () =>
          (await readdir(join(dir, "snapshots"))).filter((name) => !name.endsWith(".snap")),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  };
}
