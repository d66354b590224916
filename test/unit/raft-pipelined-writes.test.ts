// A leader's turn may finish before its log write is durable (Raft.mayPersistLater, advance with
// persisted: false, then persisted()): the entries are not asked for again, the leader counts
// itself toward commit only once persisted() says so, and followers alone can commit meanwhile.

import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../src/assert.js";
import { MessageType } from "../../src/core/messages.js";
import { MemoryLog } from "../../src/core/memory-log.js";
import { Sfc32 } from "../../src/core/prng.js";
import { Raft } from "../../src/core/raft.js";
import { Role } from "../../src/core/ready.js";
import { type LogIndex, type NodeId, nodeId } from "../../src/core/types.js";

const n1 = nodeId(1);
const n2 = nodeId(2);
const n3 = nodeId(3);

/** n1, leader of term 2 over n1..n3, its no-op (index 1) durable and committed by n2. */
function leader(): { raft: Raft; storage: MemoryLog } {
  const storage = new MemoryLog({ voters: [n1, n2, n3], votersOutgoing: [], learners: [] });
  const raft = new Raft({ id: n1, prng: new Sfc32(1) }, storage);
  raft.startElection();
  raft.step({ type: MessageType.PreVoteResponse, from: n2, to: n1, term: 1, granted: true });
  raft.step({ type: MessageType.VoteResponse, from: n2, to: n1, term: 1, granted: true });
  assert.equal(raft.role, Role.Leader);
  const first = raft.ready();
  assert.equal(raft.mayPersistLater(first), false, "the term and vote must be durable first");
  storage.append(first.entries);
  if (first.hardState !== null) storage.setHardState(first.hardState);
  raft.advance(first);
  ack(raft, n2, 1);
  assert.equal(raft.log.commitIndex, 1);
  return { raft, storage };
}

function ack(raft: Raft, from: NodeId, index: LogIndex): void {
  raft.step({
    type: MessageType.AppendResponse, from, to: n1, term: raft.term, success: true, index,
    hintIndex: 0, hintTerm: 0,
  });
}

/** Proposes one command and hands its Ready's write off; returns the entry's index. */
function proposeHandedOff(raft: Raft): LogIndex {
  const { lastIndex } = raft.propose([new Uint8Array([7])]);
  const ready = raft.ready();
  assert.equal(raft.mayPersistLater(ready), true);
  assert.deepEqual(ready.entries.map((e) => e.index), [lastIndex]);
  raft.advance(ready, { persisted: false });
  return lastIndex;
}

test("a handed-off write is not asked for again; the leader counts itself once durable", () => {
  const { raft, storage } = leader();
  const index = proposeHandedOff(raft);
  if (raft.hasReady()) assert.deepEqual(raft.ready().entries, [], "the entry is being written");
  else assert.equal(raft.log.entriesToPersist().length, 0);
  ack(raft, n2, index);
  assert.equal(raft.log.commitIndex, 1, "one follower is not a quorum without the leader's write");
  storage.append(raft.log.entries(index, index + 1, Infinity));
  raft.persisted(index, raft.term);
  assert.equal(raft.log.commitIndex, index, "the leader's durable write completes the quorum");
  assert.equal(raft.log.lastDurableIndex(), index);
});

test("two followers commit an entry whose write on the leader is still under way", () => {
  const { raft } = leader();
  const index = proposeHandedOff(raft);
  ack(raft, n2, index);
  ack(raft, n3, index);
  assert.equal(raft.log.commitIndex, index);
  assert.equal(raft.log.lastDurableIndex(), index - 1, "not durable here yet");
  const ready = raft.ready();
  assert.deepEqual(ready.committed.map((e) => e.index), [index], "applied from memory");
});

test("a follower's Ready must wait for its write", () => {
  const storage = new MemoryLog({ voters: [n1, n2, n3], votersOutgoing: [], learners: [] });
  const raft = new Raft({ id: n1, prng: new Sfc32(1) }, storage);
  raft.step({
    type: MessageType.Append, from: n2, to: n1, term: 1, prevIndex: 0, prevTerm: 0, commit: 0,
    entries: [{ term: 1, index: 1, type: 0, data: new Uint8Array() }],
  });
  const ready = raft.ready();
  assert.equal(raft.mayPersistLater(ready), false);
  assert.throws(() => raft.advance(ready, { persisted: false }), AssertionError);
});

test("replacing entries being written, or a persisted() for no such write, is refused", () => {
  const { raft } = leader();
  const index = proposeHandedOff(raft);
  assert.throws(() => raft.persisted(index + 1, raft.term), AssertionError);
  assert.throws(() => raft.persisted(index, raft.term + 1), AssertionError);
  // A new leader's conflicting Append: the driver lets the write finish before stepping it.
  const conflicting = {
    type: MessageType.Append, from: n2, to: n1, term: raft.term + 1, prevIndex: index - 1,
    prevTerm: raft.term, commit: 0,
    entries: [{ term: raft.term + 1, index, type: 0, data: new Uint8Array() }],
  } as const;
  assert.throws(() => raft.step(conflicting), /would replace entries being written/);
});
