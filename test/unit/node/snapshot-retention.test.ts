// Proves that snapshot retention never deletes a snapshot the core may still install. The driver
// stores an incoming snapshot before the core sees its offer; the core may turn it down (a
// leader of a stale term) and then adopt an older snapshot from the current leader. Found by the
// simulator (seeds 355, 517, 1102 and 1227 of 3,000 at 20,000 steps): with "keep the newest N"
// the older snapshot was deleted as it arrived, and installing it failed an assertion.

import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryLog } from "../../../src/core/memory-log.js";
import { MessageType } from "../../../src/core/messages.js";
import type { Raft } from "../../../src/core/raft.js";
import { type LogIndex, type SnapshotMeta, nodeId } from "../../../src/core/types.js";
import { silentLogger } from "../../../src/logger.js";
import { SnapshotManager } from "../../../src/node/snapshots.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import type { Transport } from "../../../src/transport/transport.js";
import { CountingStateMachine } from "../../support/counting-state-machine.js";

const configuration = { voters: [nodeId(1), nodeId(2), nodeId(3)], votersOutgoing: [],
  learners: [] };

function meta(index: LogIndex, term: number): SnapshotMeta {
  return { index, term, configuration };
}

/** Snapshot data as CountingStateMachine writes it: the commands up to `index`. */
async function* dataUpTo(index: LogIndex): AsyncIterable<Uint8Array> {
  const commands = Array.from({ length: index }, (_, i) => `c${i + 1}`);
  yield Buffer.from(JSON.stringify({ commands, lastIndex: index }));
}

/** A follower's snapshot manager at applied index `applied`, over in-memory storage. */
function follower(storage: Storage, machine: CountingStateMachine, applied: LogIndex,
  retained: number) {
  const delivered: SnapshotMeta[] = [];
  const cache = new MemoryLog(configuration);
  const manager = new SnapshotManager({
    id: nodeId(2),
    storage,
    transport: {} as Transport, // a follower receiving sends nothing
    stateMachine: machine,
    logger: silentLogger,
    inLoop: <T>(action: (raft: Raft) => T): Promise<T> => Promise.resolve(action({} as Raft)),
    cache: () => cache,
    appliedIndex: () => applied,
    deliver: (message) => {
      if (message.type === MessageType.InstallSnapshot) delivered.push(message.meta);
    },
  }, { thresholdEntries: 0, trailingEntries: 0, retained }, null);
  return { manager, delivered, cache };
}

for (const retained of [1, 2]) {
  test(`an older snapshot received after a newer one stays until installed (keep ${retained})`,
    async () => {
      const storage = await openStorage({ kind: "memory" });
      const machine = new CountingStateMachine();
      const { manager, delivered, cache } = follower(storage, machine, 100, retained);
      const offer = (m: SnapshotMeta, term: number) =>
        ({ from: nodeId(1), to: nodeId(2), term, meta: m, chunks: dataUpTo(m.index) });
      // A stale leader's snapshot (the core turns it down), a newer one still, then the current
      // leader's, older than both: the one the core adopts.
      await manager.receive(offer(meta(300, 5), 5));
      await manager.receive(offer(meta(250, 5), 5));
      await manager.receive(offer(meta(200, 6), 6));
      assert.deepEqual(delivered.map((m) => m.index), [300, 250, 200]);
      assert.deepEqual(await storage.snapshots.indexes(), [300, 250, 200]);
      await manager.install(meta(200, 6));
      assert.equal(machine.lastIndex, 200);
      assert.equal(machine.commands.length, 200);
      assert.equal(cache.snapshot()?.index, 200);
      await storage.close();
    });
}

test("snapshots at or below the applied index are cut to the newest `retained`", async () => {
  const storage = await openStorage({ kind: "memory" });
  const machine = new CountingStateMachine();
  const { manager } = follower(storage, machine, 500, 1);
  for (const index of [100, 200, 300, 600]) {
    await manager.receive({ from: nodeId(1), to: nodeId(2), term: 3, meta: meta(index, 3),
      chunks: dataUpTo(index) });
  }
  // 600 is above the applied index (kept), and the newest one at or below it (300).
  assert.deepEqual(await storage.snapshots.indexes(), [600, 300]);
  await storage.close();
});
