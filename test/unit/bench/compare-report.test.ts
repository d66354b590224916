// The compare-etcd report: medians over rounds, ratios from the same round, and a second table
// for raft-store with its state in memory only when such rows were measured.

import assert from "node:assert/strict";
import { test } from "node:test";
import { renderChart, renderTable, type Row } from "../../../bench/compare-report.js";
import type { LoadResult } from "../../../src/cli/load.js";

function result(opsPerSec: number, p99Ms = 10): LoadResult {
  return { ops: opsPerSec * 10, errors: 0, seconds: 10, opsPerSec, p50Ms: 1, p99Ms, maxMs: 50,
    firstError: null };
}

function rounds(system: Row["system"], ops: readonly number[]): Row[] {
  return ops.map((o, i) => ({ round: i + 1, op: "put", clients: 256, system, result: result(o) }));
}

const etcd = rounds("etcd", [7_000, 8_000, 6_000]);
const http = rounds("raft-store-http", [14_700, 12_000, 13_200]);
const resp = rounds("raft-store-resp", [14_000, 16_000, 12_000]);

test("the ratio is the median of per-round ratios, not a ratio of medians", () => {
  const table = renderTable([...etcd, ...http, ...resp]);
  // Per round 2.10, 1.50, 2.20: median 2.10 (medians alone would give 13,200 / 7,000 = 1.89).
  assert.match(table, /\| put \| 256 \| 7,000 \| .* \| 13,200 \| .* \| \*\*2\.10\*\* \|/);
  assert.doesNotMatch(table, /in memory/, "no memory rows measured, no memory table");
});

test("rows measured with the state in memory get their own table and chart bars", () => {
  const memory = [
    ...rounds("raft-store-http-memory", [17_500, 16_000, 15_000]),
    ...rounds("raft-store-resp-memory", [21_000, 20_000, 18_000]),
  ];
  const table = renderTable([...etcd, ...http, ...resp, ...memory]);
  const [, second] = table.split("state in memory");
  assert.ok(second !== undefined, table);
  // HTTP per round 2.50, 2.00, 2.50: median 2.50; RESP 3.00, 2.50, 3.00: 3.00.
  const row = "| put | 256 | 7,000 | 16,000 | 1.00 | 10.00 | **2.50** | 20,000 | 10.00 | 3.00 |";
  assert.ok(second.includes(row), second);
  const chart = renderChart([...etcd, ...http, ...memory]);
  assert.match(chart, /raft-store-http-memory put 256: 16,000/);
  assert.doesNotMatch(chart, /raft-store-resp put/, "a system not measured has no bars");
});
