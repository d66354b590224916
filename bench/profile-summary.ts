// Summarizes a V8 .cpuprofile (node --cpu-prof): the share of samples idle, and the functions
// with the largest inclusive ("total") and self time, as a flame graph's widest frames would
// show them. `node dist/bench/profile-summary.js <file.cpuprofile> [rows]`, or from the server
// benchmark's --profile.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName === "" ? "(anonymous)" : functionName} ${url.split("/").pop() ?? ""}:${lineNumber + 1}`;
}

export function summarizeProfile(path: string, rows = 30): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  for (const [id, count] of counts) {
    const leaf = byId.get(id);
    if (leaf === undefined) continue;
    self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + count);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node === undefined) break;
      const name = frameName(node);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + count);
    }
  }
  const pct = (n: number): string => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  const idle = self.get("(idle) :0") ?? 0;
  const lines = [`${path}: ${total} samples, idle ${pct(idle).trim()}`, " total   self  function"];
  const top = [...inclusive].filter(([name]) => !/^\((root|idle|program)\)/.test(name))
    .sort((a, b) => b[1] - a[1]).slice(0, rows);
  for (const [name, count] of top) lines.push(`${pct(count)} ${pct(self.get(name) ?? 0)}  ${name}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [file, rows] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write("usage: node dist/bench/profile-summary.js <file.cpuprofile> [rows]\n");
    process.exitCode = 2;
  } else {
    process.stdout.write(`${summarizeProfile(file, Number(rows ?? 30))}\n`);
  }
}
