// Summarizes a V8 .cpuprofile (node --cpu-prof): the share of samples idle, and the functions
// with the largest inclusive ("total") and self time, as a flame graph's widest frames would
// show them. `node dist/bench/profile-summary.js <file.cpuprofile> [rows]`, or from the server
// benchmark's --profile.

import { frameName, readProfile, runProfileCli, sampledStacks } from "./cpu-profile.js";

export function summarizeProfile(path: string, rows = 30): string {
  const profile = readProfile(path);
  const total = profile.samples.length;
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  for (const { stack, count } of sampledStacks(profile)) {
    const leaf = frameName(stack[0] as (typeof stack)[number]);
    self.set(leaf, (self.get(leaf) ?? 0) + count);
    const seen = new Set<string>();
    for (const node of stack) {
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

runProfileCli(import.meta.url, "node dist/bench/profile-summary.js <file.cpuprofile> [rows]",
  (file, rows) => process.stdout.write(`${summarizeProfile(file, Number(rows ?? 30))}\n`));
