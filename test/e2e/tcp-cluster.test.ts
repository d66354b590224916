// Proves the whole stack end to end: RaftNodes over real TCP on 127.0.0.1 with real files.
// 3 and 5 nodes elect a leader, replicate 10,000 proposals, lose the leader, elect again,
// restart it from disk, and it catches up: every state machine ends equal. On the WAL, and on
// the LMDB and LevelDB log stores, whose group commit 256 concurrent proposers engage.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { StorageKind } from "../../src/storage/types.js";
import { TcpCluster, proposeMany } from "../support/tcp-cluster.js";

async function scenario(size: number, proposals: number, kind: StorageKind = "wal"):
  Promise<void> {
  const cluster = new TcpCluster(size, kind);
  try {
    await cluster.start();
    const first = await cluster.waitFor("a leader", () => cluster.leader());
    await proposeMany(cluster, "a", proposals);
    await cluster.stop(first.id);
    const second = await cluster.waitFor("a new leader", () => cluster.leader());
    assert.notEqual(second.id, first.id);
    await proposeMany(cluster, "b", 500);
    await cluster.restart(first.id);
    const total = proposals + 500;
    await cluster.waitFor("every node to apply everything", () =>
      [...cluster.nodes.values()].every((m) => m.machine.commands.length === total),
    );
    const reference = second.machine.commands;
    assert.equal(reference.length, total);
    assert.equal(new Set(reference).size, total, "every proposal applied exactly once");
    for (const m of cluster.nodes.values()) {
      assert.deepEqual(m.machine.commands, reference, `node ${m.id} differs`);
    }
  } finally {
    await cluster.close();
  }
}

test("3 nodes over TCP replicate 10,000 proposals, survive losing the leader, and converge", async () => {
  await scenario(3, 10_000);
});

test("5 nodes over TCP replicate 10,000 proposals, survive losing the leader, and converge", async () => {
  await scenario(5, 10_000);
});

for (const kind of ["lmdb", "level"] as const) {
  test(`3 nodes on the ${kind} log store replicate 5,000 proposals, lose the leader, converge`,
    async () => {
      await scenario(3, 5_000, kind);
    });
}
