// The benchmarks' machine meter: shares of the machine's CPU time (busy, idle, iowait, steal)
// over a run, read from /proc/stat, that add up to 1.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { MachineMeter, machineCpu } from "../../../bench/process-cpu.js";

const linux = existsSync("/proc/stat");

test("machine shares are null before start()", () => {
  assert.equal(new MachineMeter().shares(), null);
});

test("machine shares over a busy spell add up to 1 and show the work", { skip: !linux }, () => {
  const before = machineCpu();
  assert.ok(before !== null, "/proc/stat is readable");
  const meter = new MachineMeter();
  meter.start();
  const until = performance.now() + 150;
  let spins = 0;
  while (performance.now() < until) spins += 1;
  const shares = meter.shares();
  assert.ok(shares !== null && spins > 0);
  const values = [shares.busy, shares.idle, shares.iowait, shares.steal];
  for (const value of values) assert.ok(value >= 0 && value <= 1, `share ${value}`);
  const sum = values.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) <= 0.004, `shares add up to ${sum}`);
  assert.ok(shares.busy > 0, "a 150 ms busy loop shows as busy time");
});
