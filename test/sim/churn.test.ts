// Proves safety and recovery under churn, driving the simulated cluster directly:
// figure-8-style leader crashes over an unreliable network, and repeated leader changes under
// continuous proposals. The checker watches every step; afterwards every node holds every
// committed entry.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Cluster } from "../../src/sim/cluster.js";
import { CrashPoint } from "../../src/sim/sim-node.js";
import type { NodeId } from "../../src/core/types.js";

function makeCluster(seed: number): Cluster {
  return new Cluster({
    nodes: 5,
    seed,
    raft: { electionTicks: 10, heartbeatTicks: 2, appendEntriesMax: 8, inflightMax: 4 },
  });
}

/** Heals everything, waits, and checks a leader commits a new entry everywhere. */
function healAndCheck(c: Cluster, seed: number): void {
  c.network.heal();
  c.network.faults = { ...c.network.faults, dropRate: 0, duplicateRate: 0, longDelayRate: 0 };
  for (const id of c.ids) c.restart(id);
  let index: number | null = null;
  for (let t = 0; t < 300 && index === null; t++) {
    c.tick();
    const leader = c.leader();
    if (leader !== null && t % 10 === 0) index = c.propose(leader.id, [`final-${seed}`]);
  }
  assert.notEqual(index, null, `seed ${seed}: no leader took the final proposal`);
  for (let t = 0; t < 200; t++) c.tick();
  const last = c.checker.committedIndex;
  assert.ok(last >= (index ?? 0), `seed ${seed}: final entry not committed`);
  for (const id of c.ids) {
    const raft = c.node(id).raft;
    assert.ok(raft !== null);
    assert.equal(raft.log.commitIndex, last, `seed ${seed}: node ${id} commit`);
    assert.equal(c.node(id).appliedIndex, last, `seed ${seed}: node ${id} applied`);
  }
}

test("figure-8-style churn over an unreliable network loses no committed entry", () => {
  for (let seed = 1; seed <= 12; seed++) {
    const c = makeCluster(seed);
    c.network.faults = {
      dropRate: 0.1, duplicateRate: 0.02, delayMin: 1, delayMax: 4, longDelayRate: 0.05, longDelayMax: 40,
    };
    for (let t = 0; t < 1500; t++) {
      if (c.prng.chance(0.3)) c.propose(c.ids[c.prng.nextInt(5)] as NodeId, [`s${seed}t${t}`]);
      // As in the paper's figure 8: leaders die soon after they start replicating.
      if (c.prng.chance(0.04)) {
        const leader = c.leader();
        if (leader !== null) c.crash(leader.id, c.prng.nextInt(3) as CrashPoint);
      }
      const down = c.ids.filter((id) => !c.node(id).up);
      if (down.length > 0 && c.prng.chance(0.1)) c.restart(down[c.prng.nextInt(down.length)] as NodeId);
      c.tick();
    }
    assert.ok(c.leaderChanges() > 10, `seed ${seed}: only ${c.leaderChanges()} leaders`);
    healAndCheck(c, seed);
  }
});

test("leader changes under continuous proposals lose no committed entry", () => {
  for (let seed = 1; seed <= 8; seed++) {
    const c = makeCluster(100 + seed);
    const accepted: number[] = [];
    for (let t = 0; t < 2000; t++) {
      const leader = c.leader();
      if (leader !== null) {
        const index = c.propose(leader.id, [`s${seed}t${t}`]);
        if (index !== null) accepted.push(index);
      }
      if (t % 150 === 75 && leader !== null) c.crash(leader.id);
      if (t % 150 === 120) for (const id of c.ids) c.restart(id);
      c.tick();
    }
    assert.ok(accepted.length > 1000, `seed ${seed}: only ${accepted.length} proposals accepted`);
    assert.ok(c.leaderChanges() >= 13, `seed ${seed}: only ${c.leaderChanges()} leaders`);
    healAndCheck(c, seed);
  }
});
