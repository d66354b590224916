// Proves the whole stack end to end: RaftNodes over real TCP on 127.0.0.1 with real files.
// 3 and 5 nodes elect a leader, replicate 10,000 proposals, lose the leader, elect again,
// restart it from disk, and it catches up: every state machine ends equal.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TcpCluster, proposeMany } from "../support/tcp-cluster.js";

async function scenario(size: number, proposals: number): Promise<void> {
  const cluster = new TcpCluster(size);
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
