// Followers apply committed commands in batches (RaftNode option followerApplyDelayMs): held
// back at most the delay, or until followerApplyEntriesMax wait; configuration changes at once;
// everything held back before the node leads, and on a clean stop. In virtual time.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { ConfigError } from "../../../src/errors.js";
import { RaftNode } from "../../../src/node/raft-node.js";
import { MemoryStorage } from "../../../src/storage/memory/memory-storage.js";
import { MemoryNetwork } from "../../../src/transport/memory-transport.js";
import { nodeId } from "../../../src/core/types.js";
import { BatchingStateMachine } from "../../support/counting-state-machine.js";
import { type MemberHandle, MemoryCluster } from "../../support/memory-cluster.js";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
let cluster: MemoryCluster | null = null;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

async function batchingCluster(options: {
  followerApplyDelayMs?: number;
  followerApplyEntriesMax?: number;
}): Promise<{ c: MemoryCluster; leader: MemberHandle; followers: MemberHandle[] }> {
  const c = new MemoryCluster(3, options, () => new BatchingStateMachine());
  cluster = c;
  await c.start();
  const leader = await c.waitForLeader();
  // The leader's no-op is applied everywhere at once (it is not a command).
  await c.clock.until(() => [...c.handles.values()].every((h) => h.node.status().appliedIndex >= 1),
    2000, "the no-op to be applied");
  const followers = [...c.handles.values()].filter((h) => h.id !== leader.id);
  return { c, leader, followers };
}

async function proposeAll(c: MemoryCluster, leader: MemberHandle, commands: string[]):
  Promise<number> {
  let settled = false;
  const all = Promise.all(commands.map((cmd) => leader.node.propose(encode(cmd)))).finally(() => {
    settled = true;
  });
  await c.clock.until(() => settled, 5000, "proposals to be applied on the leader");
  await all;
  return leader.node.status().commitIndex;
}

/** Advances until every follower knows `index` is committed (they learn it with a heartbeat). */
async function untilCommitted(c: MemoryCluster, followers: MemberHandle[], index: number):
  Promise<void> {
  await c.clock.until(() => followers.every((h) => h.node.status().commitIndex >= index), 2000,
    `followers to learn commit ${index}`);
}

const commandsOf = (h: MemberHandle): readonly string[] => h.machine.commands;
const batchesOf = (h: MemberHandle): readonly number[] =>
  (h.machine as BatchingStateMachine).batches;

test("a follower holds commands back for the delay, then applies them in one batch", async () => {
  const { c, leader, followers } = await batchingCluster({ followerApplyDelayMs: 1000 });
  const commands = Array.from({ length: 30 }, (_, i) => `cmd-${i}`);
  const last = await proposeAll(c, leader, commands);
  await untilCommitted(c, followers, last);
  assert.deepEqual(commandsOf(leader), commands, "the leader applies at once");
  for (const f of followers) {
    assert.deepEqual(commandsOf(f), [], `follower ${f.id} still holds them back`);
  }
  await c.clock.advance(1000);
  for (const f of followers) {
    assert.deepEqual(commandsOf(f), commands, `follower ${f.id} applied after the delay`);
    assert.deepEqual(batchesOf(f), [30], `follower ${f.id}: one batch`);
    assert.equal(f.node.status().appliedIndex, last);
  }
});

test("with a delay of 0 a follower applies in the turn that learns the commit", async () => {
  const { c, leader, followers } = await batchingCluster({ followerApplyDelayMs: 0 });
  const commands = Array.from({ length: 10 }, (_, i) => `cmd-${i}`);
  const last = await proposeAll(c, leader, commands);
  await untilCommitted(c, followers, last);
  for (const f of followers) assert.deepEqual(commandsOf(f), commands, `follower ${f.id}`);
});

test("followerApplyEntriesMax waiting commands are applied before the delay", async () => {
  const { c, leader, followers } = await batchingCluster({
    followerApplyDelayMs: 60_000,
    followerApplyEntriesMax: 8,
  });
  const commands = Array.from({ length: 20 }, (_, i) => `cmd-${i}`);
  const last = await proposeAll(c, leader, commands);
  await untilCommitted(c, followers, last);
  for (const f of followers) {
    // The backlog is applied whole once 8 wait: what is left waits for the delay.
    const applied = commandsOf(f).length;
    assert.ok(applied >= 13, `follower ${f.id} applied ${applied} of 20 without waiting`);
    assert.deepEqual(commandsOf(f), commands.slice(0, applied));
    assert.ok(batchesOf(f).every((size) => size >= 8), `batches ${batchesOf(f).join(",")}`);
  }
  await c.clock.advance(60_000);
  for (const f of followers) assert.deepEqual(commandsOf(f), commands, `follower ${f.id}`);
});

test("a configuration change applies at once, after the commands held back", async () => {
  const { c, leader, followers } = await batchingCluster({ followerApplyDelayMs: 60_000 });
  const commands = ["a", "b", "c"];
  await proposeAll(c, leader, commands);
  let changed = false;
  const change = leader.node.addLearner(9, "memory:9").finally(() => {
    changed = true;
  });
  await c.clock.until(() => changed, 5000, "the learner to be added");
  await change;
  const confIndex = leader.node.status().appliedIndex;
  await untilCommitted(c, followers, confIndex);
  for (const f of followers) {
    assert.equal(f.node.status().appliedIndex, confIndex, `follower ${f.id} applied the change`);
    assert.deepEqual(commandsOf(f), commands, `follower ${f.id} applied the commands first`);
    assert.ok(f.node.configuration().learners.includes(nodeId(9)));
  }
});

test("a follower that becomes leader applies what it held back before anything else", async () => {
  const { c, leader, followers } = await batchingCluster({ followerApplyDelayMs: 60_000 });
  const commands = Array.from({ length: 12 }, (_, i) => `cmd-${i}`);
  const last = await proposeAll(c, leader, commands);
  await untilCommitted(c, followers, last);
  for (const f of followers) assert.deepEqual(commandsOf(f), []);
  await c.stop(leader.id);
  c.handles.delete(leader.id);
  const next = await c.waitForLeader();
  assert.notEqual(next.id, leader.id);
  await proposeAll(c, next, ["after"]);
  assert.deepEqual(commandsOf(next), [...commands, "after"], "held-back commands first, in order");
});

test("a clean stop applies what the follower held back", async () => {
  const { c, leader, followers } = await batchingCluster({ followerApplyDelayMs: 60_000 });
  const commands = ["x", "y", "z"];
  const last = await proposeAll(c, leader, commands);
  await untilCommitted(c, followers, last);
  const follower = followers[0] as MemberHandle;
  assert.deepEqual(commandsOf(follower), []);
  await follower.node.stop();
  assert.deepEqual(commandsOf(follower), commands);
  assert.equal(follower.node.status().appliedIndex, last);
});

test("a negative followerApplyDelayMs or a zero followerApplyEntriesMax is refused", () => {
  const base = {
    id: 1,
    clusterId: "test",
    members: { 1: "memory:1" },
    storage: new MemoryStorage(),
    transport: new MemoryNetwork().createTransport(nodeId(1)),
    stateMachine: new BatchingStateMachine(),
  };
  assert.throws(() => new RaftNode({ ...base, followerApplyDelayMs: -1 }), ConfigError);
  assert.throws(() => new RaftNode({ ...base, followerApplyEntriesMax: 0 }), ConfigError);
});
