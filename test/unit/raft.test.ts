// Proves the core's contract with its driver: what goes in a Ready and when, typed errors for
// proposals it cannot take, the leader counting itself only for durable entries, and the
// randomized election timeout.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  LostEntriesError,
  NotLeaderError,
  ProposalDroppedError,
  TransferRejectedError,
} from "../../src/errors.js";
import { MessageType } from "../../src/core/messages.js";
import { MemoryLog } from "../../src/core/memory-log.js";
import { Sfc32 } from "../../src/core/prng.js";
import { Raft } from "../../src/core/raft.js";
import { Role } from "../../src/core/ready.js";
import { type NodeId, nodeId } from "../../src/core/types.js";

const n1 = nodeId(1);
const n2 = nodeId(2);
const n3 = nodeId(3);

function makeRaft(voters: NodeId[], options: Partial<Parameters<typeof withId>[1]> = {}): {
  raft: Raft;
  storage: MemoryLog;
} {
  const storage = new MemoryLog({ voters, votersOutgoing: [], learners: [] });
  return { raft: withId(storage, options), storage };
}

function withId(storage: MemoryLog, options: { seed?: number; uncommittedBytesMax?: number }): Raft {
  const extra = options.uncommittedBytesMax === undefined ? {} : { uncommittedBytesMax: options.uncommittedBytesMax };
  return new Raft({ id: n1, prng: new Sfc32(options.seed ?? 1), ...extra }, storage);
}

/** Persists and advances one Ready, the way a driver does. */
function persist(raft: Raft, storage: MemoryLog): ReturnType<Raft["ready"]> {
  const ready = raft.ready();
  storage.append(ready.entries);
  if (ready.hardState !== null) storage.setHardState(ready.hardState);
  raft.advance(ready);
  return ready;
}

test("a proposal to a follower is refused with the leader it knows of", () => {
  const { raft } = makeRaft([n1, n2, n3]);
  raft.step({ type: MessageType.Heartbeat, from: n2, to: n1, term: 3, commit: 0, context: 0 });
  assert.throws(
    () => raft.propose([new Uint8Array([1])]),
    (e: unknown) => e instanceof NotLeaderError && e.leaderId === n2 && e.code === "NOT_LEADER",
  );
});

test("a single-node leader commits its entries only once they are durable", () => {
  const { raft, storage } = makeRaft([n1]);
  raft.startElection();
  assert.equal(raft.role, Role.Leader);
  const first = persist(raft, storage);
  assert.equal(first.mustSync, true, "term and vote changed");
  assert.deepEqual(first.committed, [], "the no-op was not durable when the Ready was made");
  assert.equal(raft.log.commitIndex, 1, "advance() counted the now durable no-op");
  const proposed = raft.propose([new Uint8Array([7])]);
  assert.equal(proposed.lastIndex, 2);
  assert.equal(raft.log.commitIndex, 1);
  const second = persist(raft, storage);
  assert.deepEqual(second.committed.map((e) => e.index), [1]);
  assert.equal(raft.log.commitIndex, 2);
  const third = persist(raft, storage);
  assert.deepEqual(third.committed.map((e) => e.index), [2]);
  assert.equal(third.mustSync, false, "only the commit index changed");
});

test("a proposal of anything but Uint8Arrays is refused with a TypeError and appends nothing", () => {
  const { raft, storage } = makeRaft([n1]);
  raft.startElection();
  persist(raft, storage);
  const last = raft.log.lastIndex();
  const bad = [new Uint8Array([1]), new Uint16Array(2)] as unknown as Uint8Array[];
  assert.throws(() => raft.propose(bad), TypeError);
  assert.equal(raft.log.lastIndex(), last);
  assert.equal(raft.propose([new Uint8Array([2])]).lastIndex, last + 1);
});

test("a follower's acknowledgement waits for persistence; a leader's Append does not", () => {
  const { raft, storage } = makeRaft([n1, n2, n3]);
  raft.step({
    type: MessageType.Append, from: n2, to: n1, term: 1, prevIndex: 0, prevTerm: 0, commit: 0,
    entries: [{ term: 1, index: 1, type: 0, data: new Uint8Array() }],
  });
  const ready = persist(raft, storage);
  assert.equal(ready.messages.length, 0);
  assert.deepEqual(ready.persistedMessages.map((m) => m.type), [MessageType.AppendResponse]);
  assert.equal(ready.mustSync, true);

  const leader = makeRaft([n1, n2, n3]);
  leader.raft.startElection();
  const votes = persist(leader.raft, leader.storage);
  assert.deepEqual(votes.persistedMessages.map((m) => m.type), [MessageType.PreVote, MessageType.PreVote]);
});

test("a vote is granted once per term and sent only after it is persisted", () => {
  const { raft, storage } = makeRaft([n1, n2, n3]);
  const request = { type: MessageType.Vote, to: n1, term: 2, lastLogIndex: 0, lastLogTerm: 0, transfer: false } as const;
  raft.step({ ...request, from: n2 });
  raft.step({ ...request, from: n3 });
  const ready = persist(raft, storage);
  assert.equal(ready.mustSync, true);
  assert.deepEqual(ready.hardState, { term: 2, vote: n2, commit: 0 });
  const answers = ready.persistedMessages.map((m) => (m.type === MessageType.VoteResponse ? [m.to, m.granted] : []));
  assert.deepEqual(answers, [[n2, true], [n3, false]]);
});

test("proposals are refused once the uncommitted limit is reached", () => {
  const { raft, storage } = makeRaft([n1, n2, n3], { uncommittedBytesMax: 200 });
  raft.startElection();
  raft.step({ type: MessageType.PreVoteResponse, from: n2, to: n1, term: 1, granted: true });
  raft.step({ type: MessageType.VoteResponse, from: n2, to: n1, term: 1, granted: true });
  assert.equal(raft.role, Role.Leader);
  persist(raft, storage);
  raft.propose([new Uint8Array(100)]);
  assert.throws(() => raft.propose([new Uint8Array(100)]), ProposalDroppedError);
});

test("leadership can only be handed to a voter", () => {
  const { raft } = makeRaft([n1]);
  raft.startElection();
  assert.throws(() => raft.transferLeadership(nodeId(9)), TransferRejectedError);
});

test("election timeouts are drawn from [T, 2T) and vary with the seed", () => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 200; seed++) {
    const { raft } = makeRaft([n1, n2, n3], { seed });
    assert.ok(raft.randomizedElectionTimeout >= 10 && raft.randomizedElectionTimeout < 20);
    seen.add(raft.randomizedElectionTimeout);
  }
  assert.equal(seen.size, 10, "every value in [10, 20) occurs");
});

test("a heartbeat committing past the log's end means this node lost acknowledged entries", () => {
  // A leader sends a commit index no higher than what the follower acknowledged, so a follower
  // whose log ends before it lost entries it had made durable (an emptied data directory).
  const { raft } = makeRaft([n1, n2, n3]);
  raft.step({ type: MessageType.Heartbeat, from: n2, to: n1, term: 3, commit: 0, context: 0 });
  const lost = { type: MessageType.Heartbeat, from: n2, to: n1, term: 3, commit: 7, context: 0 };
  assert.throws(() => raft.step(lost), (e: unknown) =>
    e instanceof LostEntriesError && e.code === "LOST_ENTRIES" &&
    /leader 2 holds entries up to 7 as committed and acknowledged by this node, but its log ends/
      .test(e.message) && /its log ends at 0: this node lost entries/.test(e.message));
});

test("a stale leader is told the newer term and steps down", () => {
  const { raft } = makeRaft([n1, n2, n3]);
  raft.step({ type: MessageType.Heartbeat, from: n2, to: n1, term: 5, commit: 0, context: 0 });
  raft.step({ type: MessageType.Heartbeat, from: n3, to: n1, term: 4, commit: 0, context: 0 });
  const ready = raft.ready();
  const reply = ready.persistedMessages.find((m) => m.to === n3);
  assert.equal(reply?.type, MessageType.AppendResponse);
  assert.equal(reply?.term, 5);
});
