// Proves the driver on in-memory storage and transport in virtual time: election, replication
// and apply in order, typed errors, linearizable/lease/stale reads, restart from disk without
// applying anything twice, identity checks, leadership transfer, and failing stop on a storage
// error.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ClusterMismatchError, NotLeaderError, StoppedError } from "../../../src/errors.js";
import { RaftNode } from "../../../src/node/raft-node.js";
import { MemoryStorage } from "../../../src/storage/memory/memory-storage.js";
import { MemoryNetwork } from "../../../src/transport/memory-transport.js";
import { nodeId } from "../../../src/core/types.js";
import { BatchingStateMachine, CountingStateMachine } from "../../support/counting-state-machine.js";
import { ManualClock, settle } from "../../support/manual-clock.js";
import { MemoryCluster } from "../../support/memory-cluster.js";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
let cluster: MemoryCluster | null = null;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

async function proposeAll(c: MemoryCluster, leaderId: number, commands: string[]): Promise<number[]> {
  const node = c.handle(leaderId).node;
  const results = commands.map((cmd) => node.propose(encode(cmd)));
  let settled = false;
  const all = Promise.all(results).finally(() => {
    settled = true;
  });
  await c.clock.until(() => settled, 5000, "proposals to be applied");
  return all;
}

test("a 3-node cluster elects one leader and applies proposals in order everywhere", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  const commands = Array.from({ length: 200 }, (_, i) => `cmd-${i}`);
  const results = await proposeAll(cluster, leader.id, commands);
  assert.deepEqual(results, commands.map((_, i) => i + 1), "each result is the state machine's");
  await cluster.clock.until(
    () => [...cluster!.handles.values()].every((h) => h.machine.commands.length === 200),
    2000,
    "followers to apply",
  );
  for (const h of cluster.handles.values()) assert.deepEqual(h.machine.commands, commands);
});

test("a state machine with applyBatch gets runs of commands, with the same results in order", async () => {
  const machines: BatchingStateMachine[] = [];
  cluster = new MemoryCluster(3, {}, () => {
    const machine = new BatchingStateMachine();
    machines.push(machine);
    return machine;
  });
  await cluster.start();
  const leader = await cluster.waitForLeader();
  const commands = Array.from({ length: 300 }, (_, i) => `cmd-${i}`);
  const results = await proposeAll(cluster, leader.id, commands);
  assert.deepEqual(results, commands.map((_, i) => i + 1));
  await cluster.clock.until(() => machines.every((m) => m.commands.length === 300), 2000, "followers to apply");
  for (const m of machines) {
    assert.deepEqual(m.commands, commands);
    assert.equal(m.batches.reduce((a, b) => a + b, 0), 300);
    assert.ok(m.batches.some((size) => size > 1), `batches ${m.batches.join(",")}`);
  }
});

test("a proposal to a follower is refused with the leader's id and address", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await cluster.clock.advance(100);
  const follower = [...cluster.handles.values()].find((h) => h.id !== leader.id)!;
  await assert.rejects(follower.node.propose(encode("x")), (e: unknown) => {
    return e instanceof NotLeaderError && e.leaderId === leader.id && e.leaderAddress === `memory:${leader.id}`;
  });
});

test("a proposal that is not a Uint8Array is refused with a TypeError, and nothing is proposed", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  const node = leader.node as unknown as { propose(command: unknown): Promise<unknown> };
  for (const bad of ["text", new Uint16Array(4), new DataView(new ArrayBuffer(4)), null]) {
    await assert.rejects(node.propose(bad), (e: unknown) =>
      e instanceof TypeError && /propose\(\) takes a Uint8Array/.test(e.message));
  }
  const [index] = await proposeAll(cluster, leader.id, ["after"]);
  assert.equal(leader.machine.commands.length, 1);
  assert.deepEqual(leader.machine.commands, ["after"]);
  assert.ok(index !== undefined && index > 0);
});

test("reads: linearizable and lease on the leader see every acknowledged write; stale reads anywhere", async () => {
  cluster = new MemoryCluster(3, { lease: { clockDriftBound: 0.1 } });
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await proposeAll(cluster, leader.id, ["a", "b"]);
  const written = leader.machine.lastIndex;
  let index = -1;
  void leader.node.readBarrier("linearizable").then((i) => (index = i));
  await cluster.clock.until(() => index >= 0, 1000, "a linearizable read");
  assert.ok(index >= written, `read index ${index} < last write ${written}`);
  let leaseIndex = -1;
  void leader.node.readBarrier("lease").then((i) => (leaseIndex = i));
  await settle();
  assert.ok(leaseIndex >= written, "a lease read is served without waiting for a tick");
  const follower = [...cluster.handles.values()].find((h) => h.id !== leader.id)!;
  await assert.rejects(follower.node.readBarrier("linearizable"), NotLeaderError);
  assert.equal(typeof (await follower.node.readBarrier("stale")), "number");
});

test("a new leader takes over when the leader stops, and the old one catches up on restart", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const first = await cluster.waitForLeader();
  await proposeAll(cluster, first.id, ["a", "b", "c"]);
  await cluster.stop(first.id);
  await cluster.clock.until(() => cluster!.leader() !== null, 5000, "a new leader");
  const second = cluster.leader()!;
  assert.notEqual(second.id, first.id);
  await proposeAll(cluster, second.id, ["d"]);
  await cluster.restart(first.id);
  const restarted = cluster.handle(first.id);
  await cluster.clock.until(() => restarted.machine.commands.length === 4, 3000, "the old leader to catch up");
  assert.deepEqual(restarted.machine.commands, ["a", "b", "c", "d"]);
  assert.equal(restarted.node.status().role, "follower");
});

test("a data directory of another cluster or another node id is refused", async () => {
  const storage = new MemoryStorage();
  await storage.stable.set({ clusterId: "other", nodeId: nodeId(1) });
  const network = new MemoryNetwork();
  const options = {
    members: { 1: "memory:1" },
    storage,
    transport: network.createTransport(nodeId(1)),
    stateMachine: new CountingStateMachine(),
    clock: new ManualClock(),
  };
  await assert.rejects(new RaftNode({ ...options, id: 1, clusterId: "test" }).start(), ClusterMismatchError);
  await storage.stable.set({ clusterId: "test" });
  const two = { ...options, members: { 2: "memory:2" }, transport: network.createTransport(nodeId(2)) };
  await assert.rejects(new RaftNode({ ...two, id: 2, clusterId: "test" }).start(), /belongs to node 1/);
});

test("leadership moves to the chosen voter on request", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await proposeAll(cluster, leader.id, ["a"]);
  const target = leader.id === 1 ? 2 : 1;
  let moved: number | null = null;
  void leader.node.transferLeadership(target).then((id) => (moved = id));
  await cluster.clock.until(() => moved !== null, 2000, "the transfer");
  assert.equal(moved, target);
  await cluster.clock.until(() => cluster!.leader()?.id === target, 1000, "the target to lead");
});

test("a failing disk stops the node and fails what it had pending, acknowledging nothing", async () => {
  cluster = new MemoryCluster(1);
  await cluster.start();
  const only = await cluster.waitForLeader();
  await proposeAll(cluster, only.id, ["ok"]);
  const log = only.storage.log;
  log.append = () => Promise.reject(new Error("EIO: simulated fsync failure"));
  let fatal: Error | null = null;
  only.node.on("fatal", (e) => (fatal = e));
  const pending = only.node.propose(encode("lost"));
  const outcome = pending.then(() => "applied", (e: unknown) => e);
  await cluster.clock.advance(100);
  assert.ok(fatal !== null, "the node reported a fatal error");
  const error = await outcome;
  assert.ok(error instanceof StoppedError, `expected StoppedError, got ${String(error)}`);
  assert.deepEqual(only.machine.commands, ["ok"]);
  await assert.rejects(only.node.propose(encode("after")), StoppedError);
});

test("halt() stops a running node as a failed write does, and the cluster goes on", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await proposeAll(cluster, leader.id, ["a"]);
  const reason = new Error("disk nearly full");
  let fatal: Error | null = null;
  leader.node.on("fatal", (e) => (fatal = e));
  const pending = leader.node.propose(encode("maybe")).then(() => "applied", (e: unknown) => e);
  leader.node.halt(reason);
  assert.equal(fatal, reason, "fatal carries the host's error");
  const outcome = await pending;
  assert.ok(outcome instanceof StoppedError, `expected StoppedError, got ${String(outcome)}`);
  await assert.rejects(leader.node.propose(encode("after")), StoppedError);
  leader.node.halt(new Error("again"));
  assert.equal(fatal, reason, "a halted node ignores a second halt");
  // The other two elect a leader and take writes.
  await cluster.clock.until(() => (cluster!.leader()?.id ?? leader.id) !== leader.id, 5000,
    "a new leader");
  const next = cluster.leader()!;
  await proposeAll(cluster, next.id, ["b"]);
});

test("a state machine that keeps its state resumes after its applied index, applying nothing twice", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await proposeAll(cluster, leader.id, ["a", "b", "c"]);
  const follower = [...cluster.handles.values()].find((h) => h.id !== leader.id)!;
  await cluster.clock.until(() => follower.machine.commands.length === 3, 1000, "the follower to apply");
  const kept = follower.machine;
  kept.appliedIndex = () => kept.lastIndex;
  await cluster.stop(follower.id);
  await cluster.restart(follower.id);
  // restart() gave it a fresh machine; swap the persistent one back in by restarting again.
  await cluster.stop(follower.id);
  follower.machine = kept;
  follower.storage = new MemoryStorage({ disk: follower.disk });
  follower.node = new RaftNode<number>({
    id: follower.id, clusterId: "test", members: cluster.members, storage: follower.storage,
    transport: cluster.network.createTransport(nodeId(follower.id)), stateMachine: kept,
    clock: cluster.clock, tickMs: 10, seed: 99,
  });
  await follower.node.start();
  await proposeAll(cluster, cluster.leader()!.id, ["d"]);
  await cluster.clock.until(() => kept.commands.length === 4, 2000, "the restarted follower to apply d");
  assert.deepEqual(kept.commands, ["a", "b", "c", "d"]);
  assert.equal(follower.node.status().state, "running", "no index was applied twice");
});

test("membership: a voter added through the API catches up as a learner, and a removed node reports it", async () => {
  cluster = new MemoryCluster(3);
  await cluster.start();
  const leader = await cluster.waitForLeader();
  await proposeAll(cluster, leader.id, ["a", "b"]);
  const victim = [...cluster.handles.values()].find((h) => h.id !== leader.id)!;
  let removed = false;
  victim.node.on("removed", () => (removed = true));
  let done = false;
  void leader.node.removeServer(victim.id).then(() => (done = true));
  await cluster.clock.until(() => done, 2000, "the removal to commit");
  assert.deepEqual(leader.node.configuration().voters.includes(victim.node.id), false);
  await cluster.clock.until(() => removed, 2000, "the removed node to learn it");
  await cluster.clock.advance(500);
  assert.equal(victim.node.status().role, "follower", "a removed node does not campaign");
  assert.equal(leader.node.status().role, "leader");
});
