// `npm start` (until the server lands): a 3-node in-process cluster on the simulated network,
// in virtual time. It elects a leader, commits entries, loses the leader, elects another and
// brings the old leader back up to date, printing what happens.

import { roleName } from "./core/ready.js";
import type { NodeId } from "./core/types.js";
import { Cluster } from "./sim/cluster.js";

const cluster = new Cluster({ nodes: 3, seed: 2026, raft: { electionTicks: 10, heartbeatTicks: 2 } });

function say(line: string): void {
  console.log(`[tick ${String(cluster.now).padStart(3)}] ${line}`);
}

function state(): string {
  return cluster.ids
    .map((id) => {
      const raft = cluster.node(id).raft;
      if (raft === null) return `${id}:down`;
      return `${id}:${roleName(raft.role)} t${raft.term} commit=${raft.log.commitIndex}`;
    })
    .join("  ");
}

function runUntilLeader(ticksMax: number): NodeId {
  for (let t = 0; t < ticksMax; t++) {
    cluster.tick();
    const leader = cluster.leader();
    if (leader !== null) return leader.id;
  }
  throw new Error(`no leader within ${ticksMax} ticks`);
}

function proposeAndCommit(leader: NodeId, commands: string[]): void {
  const index = cluster.propose(leader, commands);
  say(`node ${leader} accepted ${commands.join(", ")} (last index ${index})`);
  for (let t = 0; t < 5; t++) cluster.tick();
  say(`replicated and committed: ${state()}`);
}

console.log("raft-store core demo: 3 nodes, election timeout 10-20 ticks, heartbeat every 2 ticks\n");
say(state());
const first = runUntilLeader(100);
say(`node ${first} won the election (PreVote, then Vote): ${state()}`);
proposeAndCommit(first, ["set x=1", "set y=2"]);

cluster.crash(first);
say(`node ${first} crashed`);
const second = runUntilLeader(100);
say(`node ${second} took over: ${state()}`);
proposeAndCommit(second, ["set x=3"]);

cluster.restart(first);
say(`node ${first} restarted from its durable log`);
for (let t = 0; t < 10; t++) cluster.tick();
say(`node ${first} caught up as a follower: ${state()}`);

const violations = cluster.checker.violations.length;
console.log(`\nsafety checker: ${violations} violations, ${cluster.leaderChanges()} leaders elected`);
console.log("The replicated server (HTTP and Redis protocol) is not built yet; see README.md.");
