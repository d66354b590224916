// Proves how a node's transport peers follow the configurations in its log: a member is
// forgotten when a committed configuration removes it, and never merely because an old
// configuration predates it. A node catching up replays old configurations; when it dropped
// every member added since (the leader among them), it could no longer hear the log that adds
// them back, and stayed cut off (found by the e2e membership test once appends got faster).

import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConfState } from "../../../src/core/conf-change.js";
import type { NodeId } from "../../../src/core/types.js";
import { type ConfigView, PeerDirectory } from "../../../src/node/membership.js";

const address = (id: number): string => `127.0.0.1:${7000 + id}`;
const id = (n: number): NodeId => n as NodeId;

function conf(voters: readonly number[], learners: readonly number[] = []): ConfState {
  const members = [...voters, ...learners];
  const addresses = Object.fromEntries(members.map((n) => [String(n), address(n)]));
  return {
    voters: voters.map(id), votersOutgoing: [], learners: learners.map(id), autoLeave: false,
    addresses,
  };
}

/** A core whose configuration in force is set by each step, committed or not. */
class FakeCore implements ConfigView {
  private state: { index: number; conf: ConfState } = { index: 0, conf: conf([]) };
  readonly log = { commitIndex: 0 };
  readonly confLog = {
    lastIndex: (): number => this.state.index,
    current: (): ConfState => this.state.conf,
  };

  set(index: number, next: ConfState, commitIndex: number): void {
    this.state = { index, conf: next };
    this.log.commitIndex = commitIndex;
  }
}

class RecordingTransport {
  readonly peers = new Map<NodeId, string>();
  readonly removed: NodeId[] = [];

  setPeer(peer: NodeId, at: string): void {
    this.peers.set(peer, at);
  }

  removePeer(peer: NodeId): void {
    this.peers.delete(peer);
    this.removed.push(peer);
  }
}

test("a joiner replaying old configurations keeps the members added since", () => {
  // Node 9 joins a cluster that went 1,2,3 → 1..5 → 4,5,6,7,8 (+9 as a learner); it knows
  // every current address from its join, and catches up from the start of the log.
  const initial = new Map([4, 5, 6, 7, 8].map((n) => [id(n), address(n)]));
  const transport = new RecordingTransport();
  for (const [peer, at] of initial) transport.setPeer(peer, at);
  const directory = new PeerDirectory(id(9), transport, initial);
  const core = new FakeCore();
  core.set(1, conf([1, 2, 3]), 1);
  assert.deepEqual(directory.follow(core), { changed: true, removed: false });
  core.set(40, conf([1, 2, 3, 4, 5]), 40);
  directory.follow(core);
  core.set(90, conf([3, 4, 5]), 95);
  directory.follow(core);
  // Peers of configurations long gone were removed, never the current members.
  assert.deepEqual(transport.removed, [id(1), id(2)]);
  for (const n of [4, 5, 6, 7, 8]) assert.ok(transport.peers.has(id(n)), `peer ${n} kept`);
  core.set(300, conf([4, 5, 6, 7, 8], [9]), 300);
  assert.deepEqual(directory.follow(core), { changed: true, removed: false });
  assert.deepEqual(transport.removed, [id(1), id(2), id(3)]);
  assert.deepEqual([...transport.peers.keys()].sort(), [4, 5, 6, 7, 8].map(id));
});

test("a removal is acted on once committed, and removing this node reports it", () => {
  const initial = new Map([2, 3].map((n) => [id(n), address(n)]));
  const transport = new RecordingTransport();
  const directory = new PeerDirectory(id(1), transport, initial);
  const core = new FakeCore();
  core.set(1, conf([1, 2, 3]), 1);
  directory.follow(core);
  core.set(10, conf([1, 2, 3, 4]), 9);
  assert.deepEqual(directory.follow(core), { changed: true, removed: false });
  assert.equal(transport.peers.get(id(4)), address(4), "a new member is dialled at once");
  core.set(20, conf([1, 2, 4]), 19);
  directory.follow(core);
  assert.deepEqual(transport.removed, [], "not before the removal commits");
  core.set(20, conf([1, 2, 4]), 20);
  directory.follow(core);
  assert.deepEqual(transport.removed, [id(3)]);
  core.set(30, conf([2, 4]), 30);
  assert.deepEqual(directory.follow(core), { changed: true, removed: true });
});

test("a removal is acted on when the node never saw the configuration before it committed", () => {
  // A restarted node whose saved commit index lags: it first sees {1..5} uncommitted, then the
  // commit index jumps past the entry removing 2.
  const initial = new Map([2, 3, 4, 5].map((n) => [id(n), address(n)]));
  const transport = new RecordingTransport();
  const directory = new PeerDirectory(id(1), transport, initial);
  const core = new FakeCore();
  core.set(50, conf([1, 2, 3, 4, 5]), 10);
  directory.follow(core);
  core.set(60, conf([1, 3, 4, 5]), 70);
  directory.follow(core);
  assert.deepEqual(transport.removed, [id(2)]);
  // Re-added later (the same id, a new address), then removed again.
  core.set(80, { ...conf([1, 3, 4, 5], [2]), addresses: { ...conf([1, 3, 4, 5]).addresses,
    2: "127.0.0.1:9999" } }, 80);
  directory.follow(core);
  assert.equal(transport.peers.get(id(2)), "127.0.0.1:9999");
  core.set(90, conf([1, 3, 4, 5]), 90);
  directory.follow(core);
  assert.deepEqual(transport.removed, [id(2), id(2)]);
});
