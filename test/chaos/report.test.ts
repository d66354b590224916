// Proves the report renders: one dot per op (info ops in their own strip), a shaded and
// escaped band per nemesis interval, a throughput line of ok ops per second, no NaN or infinite
// coordinates; and a markdown summary with counts, latency quantiles, nemesis time and verdict.

import assert from "node:assert/strict";
import { test } from "node:test";
import { read, write } from "./build-ops.js";
import { generateHistory } from "./generate.js";
import { pairOperations } from "./history.js";
import { checkLinearizable } from "./linearizability.js";
import { quantile, renderReport, renderSummary, throughput } from "./report.js";

const ops = pairOperations(generateHistory({ seed: 11, processes: 5, keys: 2, ops: 500 }));
const nemesis = [
  { kind: "partition <majority>", start: 100e6, end: 300e6 },
  { kind: "kill", start: 400e6, end: 450e6 },
];

test("the SVG has a dot per op, a band per nemesis interval and finite coordinates", () => {
  const svg = renderReport(ops, nemesis, 'run "a" & <b>');
  assert.ok(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  const legendDots = 3;
  assert.equal(svg.match(/<circle /g)?.length, ops.length + legendDots);
  assert.equal(svg.match(/fill-opacity="0.15"/g)?.length, nemesis.length);
  assert.match(svg, /<title>partition &#60;majority&#62;<\/title>/);
  assert.match(svg, /run &#34;a&#34; &#38; &#60;b&#62;/);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  assert.equal(svg.match(/<polyline /g)?.length, 1);
});

test("info ops are drawn in the strip above the latency axis", () => {
  const svg = renderReport([write(0, "1", 0, 1), write(1, "2", 5, 9, { type: "info" })], [], "t");
  assert.match(svg, /<circle cx="[\d.]+" cy="68.0" r="1.6" fill="#f4a261"/);
  assert.doesNotMatch(svg, /NaN|Infinity/);
});

test("an empty history still renders", () => {
  const svg = renderReport([], [], "empty");
  assert.doesNotMatch(svg, /NaN|Infinity/);
});

test("throughput counts ok ops per second by completion time", () => {
  const done = [write(0, "1", 0, 100), read(1, "1", 0, 1500), read(1, "1", 0, 1600),
    read(2, null, 0, 1700, { type: "fail" })];
  const { bucketS, rates } = throughput(done, 40);
  assert.equal(bucketS, 1);
  assert.deepEqual(rates.slice(0, 3), [1, 2, 0]);
});

test("quantiles take the nearest rank", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(quantile([1, 2, 3, 4], 1), 4);
  assert.equal(quantile([1, 2, 3, 4], 0), 1);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test("the markdown summary counts ops, nemesis time and states the verdict", () => {
  const summary = renderSummary(ops, nemesis, "run 11", checkLinearizable(ops));
  assert.match(summary, /^# run 11\n/);
  const all = ops.length;
  assert.match(summary, new RegExp(`\\| all \\| \\d+ \\| \\d+ \\| \\d+ \\| ${all} \\|`));
  assert.match(summary, /Ok latency \(ms\): p50 [\d.]+, p90 [\d.]+, p99 [\d.]+, max [\d.]+/);
  assert.match(summary, /\| kill \| 1 \| 0\.050 \|/);
  assert.match(summary, /\*\*Linearizable:\*\* yes/);
  const bad = [write(0, "1", 0, 1), read(1, null, 2, 3)];
  assert.match(renderSummary(bad, [], "bad", checkLinearizable(bad)), /\*\*Linearizable:\*\* no/);
});
