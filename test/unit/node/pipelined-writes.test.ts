// A leader's turns go on while its own log write runs (RaftNode option pipelineLeaderWrites):
// with the leader's disk held up, its followers alone commit a proposal and the leader applies
// it; without the option the proposal waits for the leader's disk. In virtual time.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { Entry } from "../../../src/core/types.js";
import type { AppendOptions } from "../../../src/storage/types.js";
import { type MemberHandle, MemoryCluster } from "../../support/memory-cluster.js";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
let cluster: MemoryCluster | null = null;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

interface HeldDisk {
  /** Lets the held appends (and all later ones) through. */
  release(): void;
  /** Fails the held appends (and all later ones), as a dying disk would. */
  fail(error: Error): void;
  held(): number;
}

/** Holds every log append of `member` until release() or fail() is called. */
function holdAppends(member: MemberHandle): HeldDisk {
  const log = member.storage.log;
  const append = log.append.bind(log);
  let open: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const gate = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  gate.catch(() => undefined);
  let held = 0;
  log.append = (entries: readonly Entry[], options: AppendOptions): Promise<void> => {
    held++;
    return gate.then(() => append(entries, options));
  };
  return { release: () => open(), fail: (error) => fail(error), held: () => held };
}

async function started(pipelineLeaderWrites: boolean):
  Promise<{ c: MemoryCluster; leader: MemberHandle }> {
  const c = new MemoryCluster(3, { pipelineLeaderWrites });
  cluster = c;
  await c.start();
  const leader = await c.waitForLeader();
  await c.clock.until(() => leader.node.status().appliedIndex >= 1, 2000,
    "the no-op to be applied");
  return { c, leader };
}

test("followers commit a proposal while the leader's own write is held up", async () => {
  const { c, leader } = await started(true);
  const before = leader.storage.log.lastIndex();
  const disk = holdAppends(leader);
  try {
    const done = new Set<string>();
    const propose = (command: string): Promise<void> =>
      leader.node.propose(encode(command)).then(() => {
        done.add(command);
      });
    const a = propose("a");
    await c.clock.until(() => done.has("a"), 2000, "the proposal to be applied on the leader");
    assert.equal(disk.held(), 1, "the leader's write is still under way");
    assert.deepEqual(leader.machine.commands, ["a"]);
    assert.equal(leader.storage.log.lastIndex(), before, "not on the leader's disk yet");
    // A second proposal's write queues behind the held one; it commits the same way.
    const b = propose("b");
    await c.clock.until(() => done.has("b"), 2000, "the second proposal to be applied");
    assert.equal(disk.held(), 1, "one write at a time");
    await Promise.all([a, b]);
  } finally {
    disk.release();
  }
  await c.clock.until(() => leader.storage.log.lastIndex() === before + 2, 2000,
    "the leader's writes to reach its disk");
  assert.deepEqual(leader.machine.commands, ["a", "b"]);
});

test("without pipelined writes a proposal waits for the leader's own write", async () => {
  const { c, leader } = await started(false);
  const disk = holdAppends(leader);
  let applied = false;
  const proposed = leader.node.propose(encode("a")).then(() => {
    applied = true;
  });
  try {
    await c.clock.advance(500);
    assert.equal(applied, false, "the turn waits for the held write");
    assert.equal(disk.held(), 1);
  } finally {
    disk.release();
  }
  await c.clock.until(() => applied, 2000, "the proposal to be applied");
  await proposed;
  assert.deepEqual(leader.machine.commands, ["a"]);
});

test("a write acknowledged by followers survives the leader's disk failing under it", async () => {
  const { c, leader } = await started(true);
  const disk = holdAppends(leader);
  let fatal: Error | null = null;
  leader.node.on("fatal", (error) => {
    fatal = error;
  });
  let acknowledged = false;
  const proposed = leader.node.propose(encode("a")).then(() => {
    acknowledged = true;
  });
  await c.clock.until(() => acknowledged, 2000, "the followers to commit the proposal");
  await proposed;
  disk.fail(new Error("EIO: simulated write failure"));
  await c.clock.until(() => fatal !== null, 1000, "the leader to stop on its failed write");
  assert.equal(leader.node.status().state, "failed");
  await c.clock.until(() => {
    const next = c.leader();
    return next !== null && next.id !== leader.id;
  }, 5000, "another leader");
  const next = c.leader() as MemberHandle;
  await c.clock.until(() => next.machine.commands.includes("a"), 2000,
    "the new leader to apply the acknowledged write");
  let again = false;
  const more = next.node.propose(encode("b")).then(() => {
    again = true;
  });
  await c.clock.until(() => again, 2000, "a proposal to the new leader");
  await more;
  assert.deepEqual(next.machine.commands, ["a", "b"]);
});

test("a leader serving one request at a time writes inline; a burst overlaps", async () => {
  const { c, leader } = await started(true);
  // The overlap hint of every leader append that holds a command (not the no-op).
  const hints: boolean[] = [];
  const log = leader.storage.log;
  const append = log.append.bind(log);
  log.append = (entries: readonly Entry[], options: AppendOptions): Promise<void> => {
    if (entries.some((e) => e.data.length > 0)) hints.push(options.overlap === true);
    return append(entries, options);
  };
  for (const command of ["a", "b", "c"]) {
    let done = false;
    const proposed = leader.node.propose(encode(command)).then(() => {
      done = true;
    });
    await c.clock.until(() => done, 2000, `proposal ${command} to be applied`);
    await proposed;
  }
  assert.deepEqual(hints, [false, false, false], "one proposal at a time: nothing to overlap");
  hints.length = 0;
  const burst = ["d", "e", "f", "g"].map((command) => leader.node.propose(encode(command)));
  let settled = false;
  const all = Promise.all(burst).then(() => {
    settled = true;
  });
  await c.clock.until(() => settled, 2000, "the burst to be applied");
  await all;
  assert.ok(hints.length > 0 && hints.every((h) => h), `burst hints ${hints.join(",")}`);
  assert.deepEqual(leader.machine.commands, ["a", "b", "c", "d", "e", "f", "g"]);
});
