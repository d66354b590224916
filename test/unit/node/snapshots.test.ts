// Proves log compaction in the driver, in virtual time on in-memory storage and transport:
// snapshots are taken by policy and the log is compacted behind them; a follower that falls
// behind the compaction point catches up through a streamed snapshot; a restart rebuilds the
// state machine from the latest snapshot and the log after it.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { MemoryCluster } from "../../support/memory-cluster.js";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
let cluster: MemoryCluster | null = null;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

async function proposeAll(c: MemoryCluster, leaderId: number, commands: string[]): Promise<void> {
  const node = c.handle(leaderId).node;
  let settled = false;
  const all = Promise.all(commands.map((cmd) => node.propose(encode(cmd)))).finally(() => {
    settled = true;
  });
  await c.clock.until(() => settled, 10_000, "proposals to be applied");
  await all;
}

const policy = { snapshots: { thresholdEntries: 50, trailingEntries: 10, retained: 2 } };

test("the log is compacted behind snapshots, and a follower behind it catches up by snapshot", async () => {
  cluster = new MemoryCluster(3, policy);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  const lagging = [...cluster.handles.values()].find((h) => h.id !== leader.id)!;
  await cluster.stop(lagging.id);
  const commands = Array.from({ length: 400 }, (_, i) => `c${i}`);
  await proposeAll(cluster, leader.id, commands);
  await cluster.clock.advance(200);
  const status = leader.node.status();
  assert.ok(status.firstIndex > 300, `the leader's log starts at ${status.firstIndex}`);
  assert.ok((await leader.storage.snapshots.list()).length <= 2, "old snapshots are deleted");
  await cluster.restart(lagging.id);
  const restarted = cluster.handle(lagging.id);
  await cluster.clock.until(() => restarted.machine.commands.length === 400, 10_000, "the catch-up");
  assert.deepEqual(restarted.machine.commands, commands);
  assert.ok(restarted.node.status().firstIndex > 300, "its log starts after the snapshot");
});

test("a restarted node rebuilds its state machine from its latest snapshot and the log", async () => {
  cluster = new MemoryCluster(1, policy);
  await cluster.start();
  const only = await cluster.waitForLeader();
  const commands = Array.from({ length: 130 }, (_, i) => `c${i}`);
  await proposeAll(cluster, only.id, commands);
  const taken = await only.node.snapshot();
  assert.ok(taken.index >= 100);
  await cluster.stop(only.id);
  await cluster.restart(only.id);
  const again = cluster.handle(only.id);
  await cluster.clock.until(() => again.machine.commands.length === 130, 3000, "the replay");
  assert.deepEqual(again.machine.commands, commands);
});
