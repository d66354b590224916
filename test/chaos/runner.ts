// A chaos run: a real cluster behind the fault proxy, the workload's clients and the nemesis
// for T seconds; then everything healed, a leader awaited and final reads made; then the
// processes stopped, the history checked and the history, nemesis events and report written.

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNever } from "../../src/assert.js";
import type { DiskStorageKind } from "../../src/storage/types.js";
import { describeViews, leaderReads } from "./admin.js";
import { ChaosCluster } from "./chaos-cluster.js";
import { pairOperations } from "./history.js";
import { Nemesis, type NemesisEvent } from "./nemesis.js";
import { type NemesisKind, planNemesis } from "./nemesis-plan.js";
import type { TearMode } from "./torn-write.js";
import { type Artifacts, type Verdict, countOps, judge, writeArtifacts } from "./verdict.js";
import { type ReadMode, Workload, type WorkloadKind } from "./workload.js";

/**
 * Bugs the members can be started with, to show the checker catches them: "stale-reads"
 * (`--unsafe-local-reads`: reads answered from the local state without ReadIndex) and
 * "long-lease" (`--unsafe-lease-ms 10000`: a lease of twenty election timeouts of a chaos
 * cluster, so a leader paused past its real lease still answers lease reads when it wakes).
 */
export const plantedBugs = ["stale-reads", "long-lease"] as const;
export type PlantedBug = (typeof plantedBugs)[number];

export interface ChaosOptions {
  readonly nodes: number;
  readonly seconds: number;
  readonly nemesis: readonly NemesisKind[];
  readonly seed: number;
  /** Where to write the results (default a new directory under the OS temp dir). */
  readonly out: string | null;
  readonly workload: WorkloadKind;
  /** The consistency of the register workload's reads. */
  readonly reads: ReadMode;
  readonly plantedBug: PlantedBug | null;
  readonly clients: number;
  readonly tornMode: TearMode;
  /** The members' key-value state: in LMDB (the server's default) or in memory. */
  readonly state: "lmdb" | "memory";
  /** The members' Raft log backend (`serve --storage`): the WAL (the default), LMDB or LevelDB. */
  readonly storage: DiskStorageKind;
  /** Keep the members' data directories even when the run passes. */
  readonly keepData: boolean;
  /** Wall-clock limit of the linearizability search (default 60 s). */
  readonly checkTimeLimitMs?: number;
}

export const defaultChaosOptions: ChaosOptions = {
  nodes: 3, seconds: 30, nemesis: ["kill", "pause", "partition"], seed: 1, out: null,
  workload: "register", reads: "linearizable", plantedBug: null, clients: 10, tornMode: "append",
  state: "lmdb", storage: "wal", keepData: false,
};

/** The last line a run prints (CONTRACTS.md "Chaos"). */
export interface ChaosSummary {
  readonly ops: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  readonly linearizable: boolean;
  readonly lost: number;
  readonly nemesisEvents: number;
  readonly history: string;
  readonly report: string;
}

export interface ChaosResult {
  readonly summary: ChaosSummary;
  readonly verdict: Verdict;
  readonly artifacts: Artifacts;
  readonly nemesisEvents: readonly NemesisEvent[];
  /** Members that started on a log the bitflip nemesis had damaged: each one fails the run. */
  readonly undetected: number;
}

export type Log = (line: string) => void;

export async function outputDir(out: string | null): Promise<string> {
  if (out === null) return mkdtemp(join(tmpdir(), "raft-store-chaos-"));
  await mkdir(out, { recursive: true });
  return out;
}

export function plantedFlags(bug: PlantedBug | null): string[] {
  switch (bug) {
    case null:
      return [];
    case "stale-reads":
      return ["--unsafe-local-reads"];
    case "long-lease":
      return ["--unsafe-lease-ms", "10000"];
    default:
      return assertNever(bug, "planted bug");
  }
}

export function monotonicClock(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start);
}

/** Runs one chaos test; never leaves a process behind. */
export async function runChaos(o: ChaosOptions, log: Log): Promise<ChaosResult> {
  const dir = await outputDir(o.out);
  const dataRoot = join(dir, "data");
  log(`chaos: ${o.nodes} nodes, ${o.seconds} s, nemesis ${o.nemesis.join(",") || "none"}, ` +
    `seed ${o.seed}, ${o.workload} workload, ${o.clients} clients, ` +
    `${o.workload === "register" ? `${o.reads} reads, ` : ""}state ${o.state}, ` +
    `log ${o.storage}` +
    `${o.plantedBug === null ? "" : `, planted bug ${o.plantedBug}`}; results in ${dir}`);
  const env = await ChaosCluster.start({
    nodes: o.nodes, seed: o.seed, root: dataRoot, flags: plantedFlags(o.plantedBug),
    state: o.state, storage: o.storage,
  });
  let played: { workload: Workload; nemesis: Nemesis };
  try {
    const leader = await env.cluster.waitLeader(30_000);
    log(`chaos: cluster up, leader ${leader}`);
    played = await play(env, o, log);
  } finally {
    await env.stop();
  }
  const events = played.workload.history.events;
  const ops = pairOperations(events);
  const started = Date.now();
  const verdict = judge(ops, o.workload, { timeLimitMs: o.checkTimeLimitMs ?? 60_000 });
  log(`chaos: checked in ${Date.now() - started} ms: linearizable ${verdict.checker}` +
    `${verdict.explanation === "" ? "" : `\n${verdict.explanation}`}`);
  const title = `raft-store chaos: ${o.nodes} nodes, ${o.nemesis.join(",") || "no faults"}, ` +
    `seed ${o.seed}${o.plantedBug === null ? "" : `, planted ${o.plantedBug}`}`;
  const artifacts = await writeArtifacts(dir, events, played.nemesis.events, verdict, title);
  const undetected = played.nemesis.undetected;
  if (undetected > 0) log(`chaos: ${undetected} member(s) started on a corrupt log (bitflip)`);
  const passed = verdict.linearizable && verdict.lost === 0 && undetected === 0;
  if (passed && !o.keepData) await rm(dataRoot, { recursive: true, force: true });
  else log(`chaos: member data and server logs kept in ${dataRoot}`);
  const summary: ChaosSummary = {
    ...countOps(ops),
    linearizable: verdict.linearizable,
    lost: verdict.lost,
    nemesisEvents: played.nemesis.events.length,
    history: artifacts.history,
    report: artifacts.report,
  };
  return { summary, verdict, artifacts, nemesisEvents: played.nemesis.events, undetected };
}

/** Load and faults for o.seconds, then heal, await a leader, and read everything once more. */
async function play(
  env: ChaosCluster,
  o: ChaosOptions,
  log: Log,
): Promise<{ workload: Workload; nemesis: Nemesis }> {
  const now = monotonicClock();
  const workload = new Workload({
    kind: o.workload, clients: o.clients, seed: o.seed, endpoints: () => env.endpoints(), now,
    reads: o.reads,
  });
  const plan = planNemesis({ seed: o.seed, kinds: o.nemesis, seconds: o.seconds, nodes: o.nodes });
  const nemesis = new Nemesis({
    cluster: env.cluster, proxy: env.proxy, ids: env.ids, tornMode: o.tornMode, now, log,
  }, plan);
  const progress = setInterval(() => {
    const c = workload.history.counts;
    log(`chaos: ${(now() / 1e9).toFixed(0)} s: ${c.invoke} ops, ${c.ok} ok, ${c.fail} fail, ` +
      `${c.info} info; ${nemesis.events.length} faults done`);
  }, 5_000);
  try {
    const deadline = o.seconds * 1e9;
    await Promise.all([workload.run(() => now() >= deadline), nemesis.run()]);
    log("chaos: load over; healing");
    await nemesis.heal();
    try {
      log(`chaos: healed, leader ${await env.cluster.waitLeader(30_000)}; final reads`);
    } catch (error) {
      const running = env.ids.filter((id) => env.cluster.running(id))
        .map((id) => ({ id, http: env.cluster.http(id) }));
      log(`chaos: no leader after healing (${(error as Error).message}); members see: ` +
        `${await describeViews(running)}; reading anyway`);
    }
    await workload.finalReads();
    const reads = await Promise.all(env.ids.filter((id) => env.cluster.running(id))
      .map(async (id) => `${id}: ${JSON.stringify(await leaderReads(env.cluster.http(id)))}`));
    log(`chaos: reads granted as leader since each member's last start: ${reads.join(", ")}`);
  } finally {
    clearInterval(progress);
    nemesis.stop();
    workload.close();
  }
  return { workload, nemesis };
}
