// The flame graph renderer: box widths are shares of the busy samples (idle left out), call
// paths nest callees above callers, tiny frames are dropped, and names are escaped for SVG.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type CpuProfile, renderFlameGraph } from "../../../bench/flamegraph.js";

function node(id: number, functionName: string, url: string, children: number[] = []):
  CpuProfile["nodes"][number] {
  return { id, callFrame: { functionName, url, lineNumber: 9 }, children };
}

// (root) -> (idle); (root) -> loop -> { apply, send<T> }; (root) -> (garbage collector)
const profile: CpuProfile = {
  nodes: [
    node(1, "(root)", "", [2, 3, 6, 7]),
    node(2, "(idle)", ""),
    node(3, "loop", "file:///app/dist/src/node/raft-node.js", [4, 5]),
    node(4, "apply", "file:///app/node_modules/lmdb/write.js"),
    node(5, "send<T> & co", "node:net"),
    node(6, "(garbage collector)", ""),
    node(7, "rare", "file:///app/dist/src/x.js"),
  ],
  // 2200 samples: 200 idle, 1500 apply, 450 send, 49 GC, 1 rare (under 0.1% of 2000 busy).
  samples: [
    ...Array<number>(200).fill(2), ...Array<number>(1500).fill(4), ...Array<number>(450).fill(5),
    ...Array<number>(49).fill(6), 7,
  ],
};

function box(svg: string, name: string): { width: number; y: number } {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`<title>${escaped}: [^<]*</title><rect x="[\\d.]+" y="(\\d+)" ` +
    `width="([\\d.]+)"`).exec(svg);
  assert.ok(match !== null, `no box for ${name}`);
  return { y: Number(match[1]), width: Number(match[2]) };
}

test("widths are shares of busy samples, callees sit above their callers", () => {
  const svg = renderFlameGraph(profile, "leader");
  assert.match(svg, /2200 samples, 9\.1% idle/);
  const all = box(svg, "all");
  const loop = box(svg, "loop raft-node.js:10");
  const apply = box(svg, "apply write.js:10");
  assert.equal(Math.round(all.width), 1200);
  // loop holds 1950 of the 2000 busy samples; apply 1500.
  assert.ok(Math.abs(loop.width - (1950 / 2000) * 1200) < 1, String(loop.width));
  assert.ok(Math.abs(apply.width - (1500 / 2000) * 1200) < 1, String(apply.width));
  assert.ok(apply.y < loop.y && loop.y < all.y, "callees are drawn above their callers");
  assert.match(svg, /<title>loop raft-node\.js:10: 97\.5% \(self 0\.0%\)<\/title>/);
  assert.doesNotMatch(svg, /\(idle\)/, "idle samples are left out");
  assert.doesNotMatch(svg, /rare x\.js/, "frames under 0.1% are dropped");
});

test("names are escaped, and frames are coloured by where their code lives", () => {
  const svg = renderFlameGraph(profile, "a <profile> & more");
  assert.match(svg, /a &lt;profile&gt; &amp; more/);
  assert.match(svg, /send&lt;T&gt; &amp; co/);
  assert.doesNotMatch(svg, /send<T>/);
  const fill = (name: string): string | undefined =>
    new RegExp(`<title>${name}[^<]*</title><rect [^>]*fill="(#[0-9a-f]+)"`).exec(svg)?.[1];
  assert.equal(fill("loop"), "#5dade2");
  assert.equal(fill("apply"), "#e67e22");
  assert.equal(fill("send&lt;T&gt;"), "#f1c40f");
  assert.equal(fill("\\(garbage collector\\)"), "#e74c3c");
});
