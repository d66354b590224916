// Proves the nemesis schedule is a function of its seed: the same seed gives the same faults,
// targets and durations, another seed another schedule; faults come one at a time with quiet
// time between them, only of the kinds asked for, inside the run; partitions cut the links
// their shape promises.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type LinkChange,
  type PlanOptions,
  nemesisKinds,
  partitionLinks,
  planNemesis,
} from "./nemesis-plan.js";

const seed = Number(process.env.SEED ?? 12345);
const base: PlanOptions = { seed, kinds: [...nemesisKinds], seconds: 120, nodes: 5 };

test("the same seed gives the same schedule and another seed another one", () => {
  const plan = planNemesis(base);
  assert.deepEqual(planNemesis(base), plan, `seed ${seed}`);
  assert.notDeepEqual(planNemesis({ ...base, seed: seed + 1 }), plan, `seed ${seed}`);
  assert.ok(plan.length >= 10, `only ${plan.length} faults in 120 s (seed ${seed})`);
});

test("faults are of the kinds asked, one at a time, with quiet time, inside the run", () => {
  for (let s = 0; s < 50; s += 1) {
    const options: PlanOptions = { ...base, seed: s, kinds: ["pause", "partition"], seconds: 40 };
    const plan = planNemesis(options);
    let previousEnd = 0;
    for (const fault of plan) {
      assert.ok(fault.kind === "pause" || fault.kind === "partition", `seed ${s}: ${fault.kind}`);
      assert.ok(fault.atMs >= previousEnd + 1500 || previousEnd === 0, `seed ${s}: overlap`);
      assert.ok(fault.atMs >= 2000, `seed ${s}: a fault during warm-up`);
      assert.ok(fault.atMs + fault.durationMs <= 40_000 - 1500, `seed ${s}: past the tail`);
      assert.ok(fault.durationMs >= 2000 && fault.durationMs <= 4500, `seed ${s}`);
      assert.equal(fault.shape === null, fault.kind !== "partition", `seed ${s}`);
      assert.deepEqual([...fault.order].sort(), [1, 2, 3, 4, 5], `seed ${s}: order`);
      previousEnd = fault.atMs + fault.durationMs;
    }
  }
  assert.deepEqual(planNemesis({ ...base, kinds: [] }), []);
});

test("membership faults name a member, never 'the leader' (the nemesis avoids it)", () => {
  const plan = planNemesis({ ...base, kinds: ["membership"] });
  assert.ok(plan.length > 0);
  for (const fault of plan) assert.equal(typeof fault.target, "number");
});

function blocked(changes: readonly LinkChange[]): string[] {
  return changes.filter((c) => c.fault.blocked === true).map((c) => `${c.from}>${c.to}`).sort();
}

test("each partition shape cuts the links it promises", () => {
  const order = [3, 1, 2];
  assert.deepEqual(blocked(partitionLinks("split", order, null)), ["1>3", "2>3", "3>1", "3>2"]);
  assert.deepEqual(blocked(partitionLinks("isolate-leader", order, 2)),
    ["1>2", "2>1", "2>3", "3>2"]);
  // 3 bridges: 1 and 2 cannot talk, both talk to 3.
  assert.deepEqual(blocked(partitionLinks("bridge", order, null)), ["1>2", "2>1"]);
  assert.deepEqual(blocked(partitionLinks("one-way", order, 1)), ["1>2", "1>3"]);
  const lossy = partitionLinks("lossy", order, null);
  assert.deepEqual(blocked(lossy), []);
  assert.deepEqual(lossy.map((c) => `${c.from}>${c.to}`).sort(), ["1>3", "2>3", "3>1", "3>2"]);
  assert.ok(lossy.every((c) => (c.fault.lossRate ?? 0) > 0));
  const five = partitionLinks("split", [5, 4, 3, 2, 1], null);
  assert.equal(blocked(five).length, 2 * 2 * 3, "2 against 3, both ways");
});
