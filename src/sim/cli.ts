// `npm run sim -- --seeds N --steps M [--nodes K] [--seed S] [--from F] [--workers W]`
// Runs N seeded simulations (seeds F..F+N-1, F = 1 by default, or the one seed S) across worker
// threads and prints one JSON summary line. On a violation it prints the seed, the violation and
// a trace of the run's last events, and exits 1. The same seed always replays the same run.

import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { type SimOptions, type SimResult, simulate } from "./simulation.js";

interface Args {
  readonly seeds: number;
  readonly steps: number;
  readonly nodes: number;
  readonly seed: number | null;
  readonly from: number;
  readonly workers: number;
}

function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? "";
    const value = argv[i + 1];
    if (!flag.startsWith("--") || value === undefined) throw new Error(`bad argument: ${flag}`);
    values.set(flag.slice(2), value);
    i++;
  }
  const int = (name: string, fallback: number | null): number | null => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
    return n;
  };
  for (const key of values.keys()) {
    if (!["seeds", "steps", "nodes", "seed", "from", "workers"].includes(key)) throw new Error(`unknown flag --${key}`);
  }
  return {
    seeds: int("seeds", 100) ?? 100,
    steps: int("steps", 3000) ?? 3000,
    nodes: int("nodes", 5) ?? 5,
    seed: int("seed", null),
    from: int("from", 1) ?? 1,
    workers: int("workers", availableParallelism()) ?? 1,
  };
}

function runSeeds(seeds: readonly number[], steps: number, nodes: number): SimResult[] {
  return seeds.map((seed) => simulate({ seed, steps, nodes }));
}

async function runParallel(args: Args): Promise<SimResult[]> {
  const seeds = args.seed === null
    ? Array.from({ length: args.seeds }, (_, i) => args.from + i)
    : [args.seed];
  const workers = Math.max(1, Math.min(args.workers, seeds.length));
  const shares = Array.from({ length: workers }, (_, w) => seeds.filter((_, i) => i % workers === w));
  const file = fileURLToPath(import.meta.url);
  const results = await Promise.all(
    shares.map(
      (share) =>
        new Promise<SimResult[]>((resolve, reject) => {
          const worker = new Worker(file, { workerData: { seeds: share, steps: args.steps, nodes: args.nodes } });
          worker.once("message", (r: SimResult[]) => resolve(r));
          worker.once("error", reject);
        }),
    ),
  );
  return results.flat().sort((a, b) => a.seed - b.seed);
}

function report(args: Args, results: readonly SimResult[], wallMs: number): number {
  const failed = results.filter((r) => r.violations.length > 0);
  for (const r of failed.slice(0, 5)) {
    // Replay the failing seed with tracing on: the run is identical, event for event.
    const replay = simulate({ seed: r.seed, steps: args.steps, nodes: args.nodes, trace: true });
    console.log(`VIOLATION seed=${r.seed}: ${r.violations.join("; ")}`);
    console.log(`replay: npm run sim -- --seed ${r.seed} --steps ${args.steps} --nodes ${args.nodes}`);
    console.log(replay.trace.map((line) => `  ${line}`).join("\n"));
  }
  const sum = (f: (r: SimResult) => number): number => results.reduce((s, r) => s + f(r), 0);
  const summary = {
    seeds: results.length,
    steps: args.steps,
    nodes: args.nodes,
    violations: sum((r) => r.violations.length),
    leaderChanges: sum((r) => r.leaderChanges),
    committed: sum((r) => r.committed),
    crashes: sum((r) => r.crashes),
    partitions: sum((r) => r.partitions),
    confChanges: sum((r) => r.confChanges),
    snapshots: sum((r) => r.snapshots),
    reads: sum((r) => r.reads),
    pauses: sum((r) => r.pauses),
    snapshotInstalls: sum((r) => r.snapshotInstalls),
    writesHandedOff: sum((r) => r.writesHandedOff),
    disksLost: sum((r) => r.disksLost),
    swizzles: sum((r) => r.swizzles),
    wallMs,
  };
  console.log(JSON.stringify(summary));
  return summary.violations === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const results = await runParallel(args);
  process.exitCode = report(args, results, Date.now() - started);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  });
} else {
  const data = workerData as Pick<SimOptions, "steps" | "nodes"> & { seeds: number[] };
  parentPort?.postMessage(runSeeds(data.seeds, data.steps, data.nodes));
}
