// Proves that damaged or hostile state files (the stable state, the compaction point, snapshots,
// engine records) give a clear typed error naming the file, never a parser's stack trace and
// never a silently wrong state; and that the stable file survives one damaged copy intact.

import assert from "node:assert/strict";
import { readdir, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { crc32c } from "@node-rs/crc32";
import { nodeId } from "../../../src/core/types.js";
import { ConfigError, RaftStoreError } from "../../../src/errors.js";
import { makeEntries, seededRandom } from "../../../src/storage/conformance/fixtures.js";
import { entryKey, stableKey } from "../../../src/storage/engine/kv-engine.js";
import {
  CorruptLogError,
  CorruptSnapshotError,
  CorruptStateError,
} from "../../../src/storage/errors.js";
import { openLevelEngine } from "../../../src/storage/level/level-engine.js";
import { openLmdbEngine } from "../../../src/storage/lmdb/lmdb-engine.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import { readSnapshot, writeSnapshot } from "../../../src/storage/snapshot-io.js";
import type { Storage } from "../../../src/storage/types.js";
import { makeTempDir } from "../../support/storage/backends.js";
import { cutFile, fileSize, flipByte } from "../../support/storage/files.js";

const hardState = { term: 7, vote: nodeId(2), commit: 3 };

function garbage(length: number, seed: number): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

/** Runs `body` in a fresh WAL directory holding a set hard state and one snapshot. */
async function withWalDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await makeTempDir("hostile");
  try {
    const storage = await openStorage({ kind: "wal", dir });
    await storage.stable.set({ hardState, clusterId: "c1" });
    await storage.log.append(makeEntries(1, 5, 7), { sync: true });
    await storage.log.truncatePrefix(2, 7);
    const meta = { index: 2, term: 7, configuration: { voters: [nodeId(1)], votersOutgoing: [],
      learners: [] } };
    await writeSnapshot(storage.snapshots, meta, [garbage(5000, 1)]);
    await storage.close();
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openError(options: Parameters<typeof openStorage>[0]): Promise<unknown> {
  return openStorage(options).then(async (storage: Storage) => {
    await storage.close();
    return null;
  }, (error: unknown) => error);
}

function assertTyped(error: unknown, type: new (...args: never[]) => RaftStoreError, file: string) {
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.ok(error instanceof RaftStoreError);
  assert.ok(error.message.includes(file), `"${error.message}" does not name ${file}`);
}

async function snapshotFile(dir: string): Promise<string> {
  const names = (await readdir(join(dir, "snapshots"))).filter((name) => name.endsWith(".snap"));
  assert.equal(names.length, 1);
  return join(dir, "snapshots", names[0] ?? "");
}

describe("hostile stable-state files", () => {
  for (const [label, damage] of [
    ["cut short", (path: string) => cutFile(path, 700)],
    ["garbage", (path: string) => writeFile(path, garbage(1024, 2))],
    ["emptied", (path: string) => writeFile(path, Buffer.alloc(0))],
    ["damaged in both copies", async (path: string) => {
      await flipByte(path, 20);
      await flipByte(path, 512 + 20);
    }],
  ] as const) {
    it(`a WAL state file ${label} fails open with CorruptStateError`, () =>
      withWalDir(async (dir) => {
        const path = join(dir, "state");
        await damage(path);
        assertTyped(await openError({ kind: "wal", dir }), CorruptStateError, path);
      }));
  }

  it("a WAL state file with one damaged copy opens with the right state", () =>
    withWalDir(async (dir) => {
      let commit = hardState.commit;
      for (const offset of [17, 512 + 17]) {
        await flipByte(join(dir, "state"), offset);
        const storage = await openStorage({ kind: "wal", dir });
        assert.deepEqual(storage.stable.get().hardState, { ...hardState, commit });
        commit += 1;
        await storage.stable.set({ hardState: { ...hardState, commit } });
        await storage.close();
      }
    }));

  it("a missing WAL state file in an initialized directory fails open", () =>
    withWalDir(async (dir) => {
      await unlink(join(dir, "state"));
      assertTyped(await openError({ kind: "wal", dir }), CorruptStateError, join(dir, "state"));
    }));

  it("a garbage compaction point fails open with CorruptStateError", () =>
    withWalDir(async (dir) => {
      const path = join(dir, "log", "compaction");
      await writeFile(path, garbage(28, 3));
      assertTyped(await openError({ kind: "wal", dir }), CorruptStateError, path);
    }));

  it("a directory of one backend is refused by another", () =>
    withWalDir(async (dir) => {
      assert.ok((await openError({ kind: "level", dir })) instanceof ConfigError);
    }));
});

describe("hostile snapshot files", () => {
  it("a truncated snapshot fails latest() with CorruptSnapshotError", () =>
    withWalDir(async (dir) => {
      const path = await snapshotFile(dir);
      await cutFile(path, (await fileSize(path)) - 10);
      const storage = await openStorage({ kind: "wal", dir });
      await assert.rejects(storage.snapshots.latest(), (error: unknown) => {
        assertTyped(error, CorruptSnapshotError, path);
        return true;
      });
      await storage.close();
    }));

  it("a garbage snapshot fails list() and latest() with CorruptSnapshotError", () =>
    withWalDir(async (dir) => {
      const path = await snapshotFile(dir);
      await writeFile(path, garbage(300, 4));
      const storage = await openStorage({ kind: "wal", dir });
      await assert.rejects(storage.snapshots.list(), CorruptSnapshotError);
      await assert.rejects(storage.snapshots.latest(), CorruptSnapshotError);
      await storage.close();
    }));

  it("a flipped data byte fails the read at its end, never yielding a silent success", () =>
    withWalDir(async (dir) => {
      const path = await snapshotFile(dir);
      await flipByte(path, 2000);
      const storage = await openStorage({ kind: "wal", dir });
      const reader = await storage.snapshots.latest();
      assert.ok(reader !== null);
      await assert.rejects(readSnapshot(reader), /data checksum mismatch/);
      await storage.close();
    }));

  const wrongShapes: [string, unknown][] = [
    ["voters that are not a list", { voters: "x" }],
    ["an address under an id that is not a node id",
      { voters: [1], votersOutgoing: [], learners: [], addresses: { "0x1": "h:1" } }],
    ["an empty address", { voters: [1], votersOutgoing: [], learners: [], addresses: { 1: "" } }],
    ["addresses that are not an object",
      { voters: [1], votersOutgoing: [], learners: [], addresses: ["h:1"] }],
  ];
  for (const [what, configuration] of wrongShapes) {
    it(`metadata with a valid checksum but ${what} is rejected`, () => withWalDir(async (dir) => {
      const path = await snapshotFile(dir);
      const meta = { index: 2, term: 7, configuration };
      const json = Buffer.from(JSON.stringify(meta));
      const header = Buffer.alloc(12 + json.length + 4);
      header.write("RSSNAP01", 0, "latin1");
      header.writeUInt32LE(json.length, 8);
      json.copy(header, 12);
      header.writeUInt32LE(crc32c(header.subarray(0, 12 + json.length)), 12 + json.length);
      await writeFile(path, header);
      const storage = await openStorage({ kind: "wal", dir });
      await assert.rejects(storage.snapshots.list(), /wrong shape/);
      await storage.close();
    }));
  }
});

describe("hostile engine records", () => {
  for (const kind of ["lmdb", "level"] as const) {
    it(`${kind}: a garbage stable record fails open, a damaged entry fails its read`, async () => {
      const dir = await makeTempDir(`hostile-${kind}`);
      try {
        const storage = await openStorage({ kind, dir });
        await storage.log.append(makeEntries(1, 5, 1), { sync: true });
        await storage.close();
        const engine = kind === "lmdb"
          ? await openLmdbEngine(join(dir, kind))
          : await openLevelEngine(join(dir, kind));
        await engine.write([{ type: "put", key: entryKey(3), value: garbage(40, 5) }], true);
        await engine.close();
        const reopened = await openStorage({ kind, dir });
        await assert.rejects(reopened.log.entries(1, 6, 1e9), CorruptLogError);
        await assert.rejects(reopened.log.term(3), /entry 3: checksum mismatch/);
        await reopened.close();
        const again = kind === "lmdb"
          ? await openLmdbEngine(join(dir, kind))
          : await openLevelEngine(join(dir, kind));
        await again.write([{ type: "put", key: stableKey, value: garbage(512, 6) }], true);
        await again.close();
        assertTyped(await openError({ kind, dir }), CorruptStateError, join(dir, kind));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
