// Reading a V8 .cpuprofile (node --cpu-prof), shared by the profile summary and the flame graph:
// the profile's shape, a frame's display name, the sampled call stacks, the profiles a directory
// holds, and the command line both tools share.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string;
    readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
}

/** "function file:line", as both reports name a frame ("(anonymous)" for no name). */
export function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName === "" ? "(anonymous)" : functionName} ` +
    `${url.split("/").pop() ?? ""}:${lineNumber + 1}`;
}

/** Each distinct sampled stack, leaf first down to the root, with how many samples hit it. */
export function sampledStacks(profile: CpuProfile): { stack: ProfileNode[]; count: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const stacks: { stack: ProfileNode[]; count: number }[] = [];
  for (const [id, count] of counts) {
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node === undefined) break;
      stack.push(node);
    }
    if (stack.length > 0) stacks.push({ stack, count });
  }
  return stacks;
}

/** The .cpuprofile files in `dir`, as paths. */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(dir, f));
}

/**
 * When the module at `moduleUrl` is the script node was started with: runs `main` with the
 * profile file and the optional second argument, or prints `usage` and exits with 2.
 */
export function runProfileCli(moduleUrl: string, usage: string,
  main: (file: string, extra: string | undefined) => void): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? "").href) return;
  const [file, extra] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exitCode = 2;
    return;
  }
  main(file, extra);
}
