// Proves, on real `serve` processes whose peer links cross the fault proxy, that raft-store keeps
// its promises under faults: a register workload (ReadIndex and lease reads) under kill, pause,
// partitions and torn WAL writes stays linearizable; a set workload under crashes (of one
// member, or of all at once) and partitions loses no acknowledged add; and a member whose WAL
// rots (a flipped byte mid-log) refuses to start and is replaced. And that the harness would
// notice if it did not: with the planted --unsafe-local-reads bug, a scripted isolated-leader
// read is stale and the checker says so, every time; the same script without the bug stays
// linearizable, with ReadIndex and with lease reads. A leader paused past its lease refuses the
// lease read it wakes to, and with a planted over-long lease answers it stale, which the checker
// reports. The set workload also runs with the Raft log on LMDB and on LevelDB.
// Seeds are fixed (SEED=n replays another schedule); results go to temp dirs removed after.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { after, test } from "node:test";
import { parseHistory } from "./history.js";
import {
  type ChaosOptions,
  type ChaosResult,
  defaultChaosOptions,
  outputDir,
  runChaos,
} from "./runner.js";
import { type StaleReadOptions, runStaleRead } from "./stale-read.js";

const seed = Number(process.env.SEED ?? 19);
const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Ran {
  readonly result: ChaosResult;
  readonly log: string[];
}

async function run(options: Partial<ChaosOptions>): Promise<Ran> {
  const log: string[] = [];
  const out = await outputDir(null);
  dirs.push(out);
  const result = await runChaos({ ...defaultChaosOptions, out, ...options }, (l) => log.push(l));
  return { result, log };
}

function explain(result: ChaosResult, log: readonly string[]): string {
  const summary = JSON.stringify(result.summary);
  return `seed ${seed}: ${summary}\n${result.verdict.explanation}\n${log.join("\n")}`;
}

// Half the reads are lease reads (answered by the leader under its lease), half ReadIndex.
test("registers under kills, pauses, partitions and torn writes stay linearizable", async () => {
  const { result, log } = await run({
    seed, seconds: 25, nemesis: ["kill", "pause", "partition", "torn-write"], workload: "register",
    reads: "mixed",
  });
  const { summary } = result;
  assert.equal(summary.linearizable, true, explain(result, log));
  assert.equal(summary.lost, 0, explain(result, log));
  assert.ok(summary.nemesisEvents >= 3, explain(result, log));
  assert.ok(summary.ok >= 500, `too little progress: ${explain(result, log)}`);
  assert.equal(summary.ops, summary.ok + summary.fail + summary.info);
  const events = parseHistory(readFileSync(summary.history, "utf8"));
  assert.equal(events.filter((e) => e.type === "invoke").length, summary.ops);
  assert.ok(existsSync(summary.report) && existsSync(result.artifacts.svg));
  const kinds = new Set(result.nemesisEvents.map((e) => e.kind.split(":")[0]));
  if (seed === 19) {
    assert.deepEqual([...kinds].sort(), ["kill", "partition", "pause", "torn-write"]);
  }
});

// The members keep their key-value state in memory here (the test above uses LMDB, the
// default): a killed member rebuilds it from its snapshot and log.
test("a set workload under kills and partitions, state in memory, loses no add", async () => {
  const { result, log } = await run({
    seed: seed + 1, seconds: 10, nemesis: ["kill", "partition"], workload: "set", state: "memory",
  });
  assert.equal(result.summary.lost, 0, explain(result, log));
  assert.equal(result.summary.linearizable, true, explain(result, log));
  assert.ok((result.verdict.set?.ok ?? 0) >= 100, explain(result, log));
});

// The whole cluster killed at once (SIGKILL to every member), more than once, with the state in
// memory: every member rebuilds it from its snapshot and log, and no acknowledged add is lost.
test("a set workload under whole-cluster kills, state in memory, loses no add", async () => {
  const { result, log } = await run({
    seed: seed + 5, seconds: 16, nemesis: ["kill-all"], workload: "set", state: "memory",
  });
  assert.equal(result.summary.lost, 0, explain(result, log));
  assert.equal(result.summary.linearizable, true, explain(result, log));
  const crashes = result.nemesisEvents.filter((e) => e.kind === "kill-all");
  assert.ok(crashes.length >= 2, explain(result, log));
  for (const crash of crashes) {
    assert.equal(crash.target.split(",").length, 3, explain(result, log));
    assert.equal(crash.detail, "all restarted", explain(result, log));
  }
  assert.ok((result.verdict.set?.ok ?? 0) >= 100, explain(result, log));
});

// The same set workload with the members' Raft log on LMDB, then on LevelDB (the tests above
// use the WAL, the default): killed members reopen those stores and catch up.
for (const [offset, storage] of (["lmdb", "level"] as const).entries()) {
  test(`a set workload under kills and partitions, log on ${storage}, loses no add`, async () => {
    const { result, log } = await run({
      seed: seed + 2 + offset, seconds: 10, nemesis: ["kill", "partition"], workload: "set",
      storage,
    });
    assert.ok(log.some((line) => line.includes(`log ${storage}`)), log.join("\n"));
    assert.equal(result.summary.lost, 0, explain(result, log));
    assert.equal(result.summary.linearizable, true, explain(result, log));
    assert.ok((result.verdict.set?.ok ?? 0) >= 100, explain(result, log));
  });
}

// Bit rot: a byte flipped in a synced WAL record that intact records follow, on one member at a
// time. That member must refuse to start on it (a member that starts counts as undetected), and
// is replaced (removed, wiped, re-joined) while the others serve.
test("a member whose WAL rots refuses to start and is replaced; registers stay linearizable",
  async () => {
    const { result, log } = await run({
      seed: seed + 4, seconds: 20, nemesis: ["bitflip"], workload: "register",
    });
    assert.equal(result.summary.linearizable, true, explain(result, log));
    assert.equal(result.summary.lost, 0, explain(result, log));
    assert.equal(result.undetected, 0, explain(result, log));
    const replaced = result.nemesisEvents.filter((e) => e.kind === "bitflip" &&
      /: refused to start; removed, wiped, re-joined$/.test(e.detail));
    assert.ok(replaced.length >= 1, explain(result, log));
    assert.ok(result.summary.ok >= 300, `too little progress: ${explain(result, log)}`);
  });

/** One run of the scripted stale-read scenario, with its log for failure messages. */
async function staleRead(o: Omit<StaleReadOptions, "out">) {
  const out = await outputDir(null);
  dirs.push(out);
  const log: string[] = [];
  const result = await runStaleRead({ ...o, out }, (l) => log.push(l));
  return { result, why: `${result.verdict.explanation}\n${log.join("\n")}` };
}

test("with the planted stale-read bug, the isolated leader's read fails the check", async () => {
  const { result, why } = await staleRead({ seed, plantedBug: "stale-reads" });
  assert.equal(result.verdict.linearizable, false, why);
  assert.match(result.staleValue ?? "", /^a-\d+$/, why);
  assert.match(result.verdict.explanation, /not linearizable/);
});

test("without the bug, the same isolated-leader script stays linearizable", async () => {
  const { result, why } = await staleRead({ seed, plantedBug: null });
  assert.equal(result.verdict.linearizable, true, why);
  assert.equal(result.staleValue === null || /^b-\d+$/.test(result.staleValue), true);
});

// Lease reads at the isolated leader: answered at once while its lease holds, then refused
// before the majority can acknowledge b (the checker fails any "a" read after that).
test("lease reads at an isolated leader stop before a new leader can take writes", async () => {
  const { result, why } = await staleRead({ seed, plantedBug: null, reads: "lease" });
  assert.equal(result.verdict.linearizable, true, why);
  assert.equal(result.staleValue === null || /^b-\d+$/.test(result.staleValue), true, why);
  assert.ok(result.leaseReads.sent > 0, why);
});

// A leader cut off and paused (SIGSTOP) cannot step down, so when it wakes only its lease's
// expiry stops it answering a lease read that waited for it, sent after another leader took
// writes: with the lease right, the read is refused. With the planted long-lease bug (a lease of
// twenty election timeouts) it answers the old value and the checker says so, unless the first
// tick it wakes to ends an election timeout (CheckQuorum then steps it down first, about one
// wake in ten): up to five attempts, each with its own seed.
test("a leader paused past its lease refuses the lease read it wakes to", async () => {
  const { result, why } =
    await staleRead({ seed, plantedBug: null, reads: "lease", isolation: "pause" });
  assert.equal(result.verdict.linearizable, true, why);
  assert.equal(result.staleValue === null || /^b-\d+$/.test(result.staleValue), true, why);
});

test("with the planted long-lease bug, the paused leader's lease read fails the check", async () => {
  const whys: string[] = [];
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const { result, why } = await staleRead(
      { seed: seed + attempt, plantedBug: "long-lease", reads: "lease", isolation: "pause" });
    if (!result.verdict.linearizable) {
      assert.match(result.staleValue ?? "", /^a-\d+$/, why);
      assert.match(result.verdict.explanation, /not linearizable/);
      return;
    }
    whys.push(why);
  }
  assert.fail(`five attempts and no stale lease read:\n${whys.join("\n")}`);
});
