// `npm run bench -- server [--api http|resp|both] [--clients 1,16,64,256] [--seconds 10]
//   [--warmup 20] [--warmup-ops 10000] [--cases put,get] [--target leader|all] [--storage wal]
//   [--state lmdb] [--profile DIR] [--member-flags "--wal-preallocate off ..."]
//   [--node-args "--log-function-events --logfile=/tmp/v8-{id}.log"]
//   [--ab "<member flags A>|<member flags B>" [--pairs 4]]`:
// raft-store as users run it: a 3-process cluster on loopback (fsync on), driven through its
// HTTP or RESP API by concurrent clients each with one request outstanding, 256-byte puts and
// linearizable gets, each case after a warm-up of the same load that is not counted (at least
// `warmup` seconds and `warmup-ops` operations, within 30 s: a fresh cluster is slower at
// first, see defaultWarmupSeconds in report.ts). One JSON line per case (CONTRACTS.md), with
// `warmupSeconds` and `cpuUsPerOp`: the CPU µs per operation of the leader, each follower and
// the load generator over the counted run (from /proc), and
// `machine`: the shares of the machine's CPU time that were busy, idle, in iowait and stolen by
// the hypervisor over that run (from /proc/stat). With --profile, every member runs under
// node --cpu-prof (profiles in DIR/n<id>/, each with a flame graph beside it, flamegraph.ts) and
// a summary of the leader's is printed on stderr at the end. With --ab, the whole run is
// repeated on fresh clusters with the member flags A and B (each after --member-flags) in turn,
// in the order A B B A for each of --pairs pairs (a slow or fast spell of this shared machine
// then hits both alike); every line says which flags it ran with (memberFlags).

import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type LoadApi, type LoadOp, loadOps, runLoad } from "../src/cli/load.js";
import { storageKinds } from "../src/storage/types.js";
import { ProcessCluster } from "../test/support/process-cluster.js";
import { profilesIn } from "./cpu-profile.js";
import { writeFlameGraph } from "./flamegraph.js";
import { summarizeProfile } from "./profile-summary.js";
import { MachineMeter, ownCpuUs, processCpuUs } from "./process-cpu.js";
import {
  BenchOptionError,
  choice,
  choiceList,
  defaultWarmupSeconds,
  integerList,
  numberOption,
  parseOptions,
  positiveInteger,
  printLine,
  round,
} from "./report.js";

/**
 * CPU µs per operation of the leader, each follower and the load generator (this process) over
 * the counted run: they share the cores, so the sum bounds the throughput. Null where /proc is
 * missing.
 */
class CpuMeter {
  private readonly pids: (number | null)[];
  private before: (number | null)[] = [];
  private ownBefore = 0;

  constructor(cluster: ProcessCluster, private readonly leader: number) {
    this.pids = [1, 2, 3].map((id) => cluster.member(id).process?.pid ?? null);
  }

  start(): void {
    this.before = this.pids.map((pid) => (pid === null ? null : processCpuUs(pid)));
    this.ownBefore = ownCpuUs();
  }

  perOp(ops: number): { leader: number | null; followers: (number | null)[]; loadgen: number }
    | null {
    if (ops === 0) return null;
    const used = this.pids.map((pid, i) => {
      const start = this.before[i];
      const end = pid === null ? null : processCpuUs(pid);
      return start === null || start === undefined || end === null
        ? null
        : round((end - start) / ops, 1);
    });
    return {
      leader: used[this.leader - 1] ?? null,
      followers: used.filter((_, i) => i !== this.leader - 1),
      loadgen: round((ownCpuUs() - this.ownBefore) / ops, 1),
    };
  }
}

export async function run(args: readonly string[]): Promise<void> {
  const o = parseOptions(args, [
    "api",
    "clients",
    "seconds",
    "warmup",
    "warmup-ops",
    "cases",
    "target",
    "storage",
    "state",
    "tick-ms",
    "profile",
    "member-flags",
    "node-args",
    "ab",
    "pairs",
  ]);
  const apis = choiceList(o, "api", "http", ["http", "resp", "both"] as const)
    .flatMap((a): LoadApi[] => (a === "both" ? ["http", "resp"] : [a]));
  const clients = integerList(o, "clients", "1,16,64,256");
  const seconds = numberOption(o, "seconds", 10, "a number > 0");
  const warmup = numberOption(o, "warmup", defaultWarmupSeconds, "a number >= 0");
  const warmupOps = numberOption(o, "warmup-ops", 10_000, "an integer >= 0");
  const cases = choiceList<LoadOp>(o, "cases", "put,get", loadOps);
  const target = choice(o, "target", "leader", ["leader", "all"] as const);
  const tickMs = numberOption(o, "tick-ms", 100, "an integer >= 1");
  const storage = choice(o, "storage", "wal", storageKinds);
  const state = choice(o, "state", "lmdb", ["lmdb", "memory"] as const);
  const profileOption = o.get("profile");
  const profile = profileOption === undefined ? undefined : resolve(profileOption);
  const ab = o.get("ab");
  const common = o.get("member-flags") ?? "";
  if (ab === undefined) {
    await runOnce(common);
    return;
  }
  const sides = ab.split("|");
  const pairs = positiveInteger(o, "pairs", 4);
  if (sides.length !== 2) throw new BenchOptionError('--ab takes "<flags A>|<flags B>"');
  const [a, b] = sides as [string, string];
  for (let pair = 0; pair < pairs; pair++) {
    for (const flags of [a, b, b, a]) await runOnce(`${common} ${flags}`.trim());
  }

  async function runOnce(memberFlags: string): Promise<void> {
    const cluster = new ProcessCluster({
      size: 3,
      tickMs,
      storage,
      state,
      // Extra `serve` flags for every member, for A/B runs of a setting.
      flags: ["--log-level", "warn", ...memberFlags.split(" ").filter(Boolean)],
      nodeArgs: (id: number) => [
        ...(profile === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", join(profile, `n${id}`)]),
        // Node.js flags for every member; "{id}" becomes the member's id (e.g. in a log path).
        ...(o.get("node-args") ?? "").replace(/\{id\}/g, String(id)).split(" ").filter(Boolean),
      ],
    });
    await cluster.start();
    let leader = 0;
    try {
      for (const api of apis) {
        for (const op of cases) {
          for (const n of clients) {
            leader = await cluster.waitLeader();
            const ids = target === "all" ? [1, 2, 3] : [leader];
            const endpoints = ids.map((id) =>
              (api === "http" ? cluster.http(id) : cluster.resp(id)));
            const cpu = new CpuMeter(cluster, leader);
            const machine = new MachineMeter();
            const result = await runLoad({ api, endpoints, clients: n, op, valueBytes: 256,
              keys: 10_000, seconds, warmupSeconds: warmup, warmupOps,
              onMeasureStart: () => {
                cpu.start();
                machine.start();
              } });
            const cpuUsPerOp = cpu.perOp(result.ops);
            const shares = machine.shares();
            printLine({
              suite: "server",
              case: op,
              system: "raft-store",
              backend: cluster.o.storage ?? "wal",
              batch: null,
              clients: n,
              opsPerSec: round(result.opsPerSec, 1),
              mbPerSec: op === "put" ? round((result.opsPerSec * 256) / 1e6, 2) : null,
              p50Ms: round(result.p50Ms),
              p99Ms: round(result.p99Ms),
              maxMs: round(result.maxMs),
              errors: result.errors,
              seconds: round(result.seconds, 2),
              ratio: null,
              ratioTo: null,
              api,
              target,
              firstError: result.firstError,
              state: cluster.o.state ?? "lmdb",
              cpuUsPerOp,
              machine: shares,
              memberFlags: memberFlags === "" ? null : memberFlags,
              warmupSeconds: warmup,
            });
          }
        }
      }
    } finally {
      await cluster.stop();
    }
    if (profile !== undefined) {
      for (const member of readdirSync(profile).filter((d) => /^n\d+$/.test(d))) {
        for (const file of profilesIn(join(profile, member))) {
          const svg = file.replace(/\.cpuprofile$/, ".svg");
          writeFlameGraph(file, svg);
          process.stderr.write(`flame graph: ${svg}\n`);
        }
      }
      if (leader !== 0) {
        for (const file of profilesIn(join(profile, `n${leader}`))) {
          const summary = summarizeProfile(file, 40);
          process.stderr.write(`leader (member ${leader}) profile:\n${summary}\n`);
        }
      }
    }
  }
}
