// A flame graph (SVG) of a V8 .cpuprofile (node --cpu-prof): one box per call path, as wide as
// the share of busy samples spent in it and its callees, callers below callees. Idle samples
// are left out (the title says how many there were); frames under 0.1% of the busy samples are
// dropped. Boxes are coloured by where the code lives: raft-store's own (src/, bench/),
// dependencies (node_modules), Node's internals, and V8's pseudo-frames (GC, program).
// `node dist/bench/flamegraph.js <file.cpuprofile> [out.svg]` (default: beside the profile),
// and the server benchmark's --profile writes one per member.

import { writeFileSync } from "node:fs";
import {
  type CpuProfile,
  frameName,
  readProfile,
  runProfileCli,
  sampledStacks,
} from "./cpu-profile.js";

export type { CpuProfile };

/** A call path with the samples spent in it (`total`) and in it alone (`self`). */
interface Frame {
  readonly name: string;
  readonly url: string;
  total: number;
  self: number;
  readonly children: Map<string, Frame>;
}

const idleNames = new Set(["(idle)", "(root)"]);
const width = 1200;
const rowHeight = 16;
const minShare = 0.001;

function frameOf(name: string, url: string): Frame {
  return { name, url, total: 0, self: 0, children: new Map() };
}

/** Merges the profile's nodes into a tree of call paths, without idle samples. */
function buildTree(profile: CpuProfile): { root: Frame; idle: number; total: number } {
  const root = frameOf("all", "");
  let idle = 0;
  for (const { stack, count } of sampledStacks(profile)) {
    const path = stack.filter((node) => !idleNames.has(node.callFrame.functionName));
    if (path.length === 0) {
      idle += count;
      continue;
    }
    root.total += count;
    let frame = root;
    for (let k = path.length - 1; k >= 0; k--) {
      const node = path[k] as (typeof path)[number];
      const name = frameName(node);
      let child = frame.children.get(name);
      if (child === undefined) {
        child = frameOf(name, node.callFrame.url);
        frame.children.set(name, child);
      }
      child.total += count;
      frame = child;
    }
    frame.self += count;
  }
  return { root, idle, total: profile.samples.length };
}

function colour(frame: Frame): string {
  const { url, name } = frame;
  if (url === "") return name.startsWith("(garbage") ? "#e74c3c" : "#bdc3c7";
  if (url.includes("node_modules")) return "#e67e22";
  if (url.startsWith("node:") || !url.includes("/")) return "#f1c40f";
  return "#5dade2";
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function depthOf(frame: Frame, busy: number): number {
  let deepest = 0;
  for (const child of frame.children.values()) {
    if (child.total / busy >= minShare) deepest = Math.max(deepest, depthOf(child, busy));
  }
  return deepest + 1;
}

/** The flame graph of `profile` as an SVG document; `title` heads it. */
export function renderFlameGraph(profile: CpuProfile, title: string): string {
  const { root, idle, total } = buildTree(profile);
  const busy = Math.max(1, root.total);
  const rows = depthOf(root, busy);
  const height = 40 + rows * rowHeight + 10;
  const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(1)}%`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `font-family="monospace" font-size="11">`,
    `<text x="5" y="16" font-size="13">${escapeXml(title)}</text>`,
    `<text x="5" y="32">${total} samples, ${pct(idle, Math.max(1, total))} idle (left out); ` +
      "widths are shares of the busy samples; blue raft-store, orange dependencies, yellow " +
      "Node, red GC</text>",
  ];
  const draw = (frame: Frame, x: number, depth: number): void => {
    const w = (frame.total / busy) * width;
    const y = height - 10 - (depth + 1) * rowHeight;
    const label = `${frame.name}: ${pct(frame.total, busy)} (self ${pct(frame.self, busy)})`;
    parts.push(
      `<g><title>${escapeXml(label)}</title><rect x="${x.toFixed(2)}" y="${y}" ` +
        `width="${Math.max(0, w - 0.5).toFixed(2)}" height="${rowHeight - 1}" ` +
        `fill="${colour(frame)}"/>`,
    );
    const fits = Math.floor((w - 4) / 6.6);
    if (fits >= 4) {
      const text = frame.name.length > fits ? `${frame.name.slice(0, fits - 2)}..` : frame.name;
      const at = `x="${(x + 2).toFixed(2)}" y="${y + rowHeight - 4}"`;
      parts.push(`<text ${at}>${escapeXml(text)}</text>`);
    }
    parts.push("</g>");
    let at = x;
    const children = [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const child of children) {
      if (child.total / busy >= minShare) draw(child, at, depth + 1);
      at += (child.total / busy) * width;
    }
  };
  draw(root, 0, 0);
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** Writes the flame graph of the profile at `path` to `out`. */
export function writeFlameGraph(path: string, out: string): void {
  writeFileSync(out, renderFlameGraph(readProfile(path), path.split("/").pop() ?? path));
}

runProfileCli(import.meta.url, "node dist/bench/flamegraph.js <file.cpuprofile> [out.svg]",
  (file, out) => {
    const target = out ?? file.replace(/\.cpuprofile$/, "") + ".svg";
    writeFlameGraph(file, target);
    process.stdout.write(`written: ${target}\n`);
  });
