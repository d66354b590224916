// `npm run bench -- compare-etcd [--rounds 3] [--seconds 10] [--warmup 20] [--warmup-ops 10000]
//   [--clients 1,16,64,256] [--cases put,get,mixed] [--memory-cases put] [--target leader|all]
//   [--out DIR]`:
// etcd 3.4 and raft-store side by side on this machine, one after the other (never at the
// same time), each a fresh 3-member cluster on loopback with fsync on, driven by the same
// client code (HTTP/JSON with keep-alive: etcd's /v3/kv/put and /v3/kv/range gateway, our
// /v1/kv routes; raft-store's RESP API as an extra row). Per case: 256-byte puts, linearizable
// gets, or 90% gets / 10% puts, for `seconds`, the systems alternating which goes first.
// Every measurement follows a warm-up of the same workload on the same endpoints, not counted:
// at least `warmup` seconds and `warmup-ops` operations (within 30 s). A fresh process is slower
// for its first thousands of requests (JIT, connections, first file growth): a fresh raft-store
// cluster at 1 client took about 10 s (8,000 puts) to reach its steady rate, and under 256
// clients V8 went on compiling hot functions in the background for about 25 s (the default
// warm-up, 20 s, is explained at defaultWarmupSeconds in report.ts); without the warm-up
// whichever API ran first on a cluster paid for it. etcd gets the same warm-up.
// Prints one JSON line per case and system, then a markdown table of the median ratios, and
// writes it with an SVG chart:
// - raft-store lines carry the ratio to etcd in the same round, and `state`, the key-value state
//   machine: LMDB (the server's default) or, for the cases named by --memory-cases (default put;
//   "none" for none), also in memory (`--state memory`, a fresh cluster right after the LMDB one);
// - every line carries `machine`, the shares of the machine's CPU time that were busy, idle, in
//   iowait and stolen by the hypervisor while it was measured.

import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type LoadApi,
  type LoadOp,
  type LoadResult,
  loadOps,
  runLoad,
} from "../src/cli/load.js";
import { ProcessCluster } from "../test/support/process-cluster.js";
import { renderChart, renderTable, type Row } from "./compare-report.js";
import { EtcdCluster, ensureEtcd } from "./etcd-cluster.js";
import { MachineMeter, type MachineShares } from "./process-cpu.js";
import {
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

type System = Row["system"];
type State = "lmdb" | "memory";

interface Setup {
  readonly seconds: number;
  readonly warmup: number;
  readonly warmupOps: number;
  readonly target: string;
  readonly etcd: string;
  readonly root: string;
}

/** A load's result with where the machine's CPU time went meanwhile (MachineMeter). */
type Measured = LoadResult & { readonly machine: MachineShares | null };

/** The same workload for every system: 256-byte values over 10,000 keys, after a warm-up. */
async function load(
  s: Setup,
  api: LoadApi,
  endpoints: string[],
  op: LoadOp,
  clients: number,
): Promise<Measured> {
  const machine = new MachineMeter();
  const result = await runLoad({ api, endpoints, clients, op, valueBytes: 256, keys: 10_000,
    seconds: s.seconds, warmupSeconds: s.warmup, warmupOps: s.warmupOps,
    onMeasureStart: () => machine.start() });
  return { ...result, machine: machine.shares() };
}

async function measureEtcd(s: Setup, op: LoadOp, clients: number): Promise<Measured> {
  const dir = await mkdtemp(join(s.root, "etcd-"));
  const cluster = new EtcdCluster(s.etcd, dir);
  await cluster.start();
  try {
    const leader = await cluster.leader();
    const endpoints =
      s.target === "all" ? [0, 1, 2].map((i) => cluster.endpoint(i)) : [cluster.endpoint(leader)];
    return await load(s, "etcd", endpoints, op, clients);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureRaftStore(
  s: Setup,
  op: LoadOp,
  clients: number,
  state: State,
): Promise<Map<System, Measured>> {
  const cluster = new ProcessCluster({
    size: 3,
    tickMs: 100,
    root: await mkdtemp(join(s.root, "raft-store-")),
    state,
    flags: ["--log-level", "warn"],
  });
  await cluster.start();
  const out = new Map<System, Measured>();
  try {
    for (const api of ["http", "resp"] as LoadApi[]) {
      const leader = await cluster.waitLeader();
      const ids = s.target === "all" ? [1, 2, 3] : [leader];
      const endpoints = ids.map((id) => (api === "http" ? cluster.http(id) : cluster.resp(id)));
      const system: System = `raft-store-${api}${state === "memory" ? "-memory" : ""}` as System;
      out.set(system, await load(s, api, endpoints, op, clients));
    }
  } finally {
    await cluster.stop();
    await rm(cluster.root, { recursive: true, force: true });
  }
  return out;
}

function line(
  op: LoadOp,
  clients: number,
  system: System,
  r: Measured,
  etcd: LoadResult | null,
  round_: number,
  etcdFirst: boolean,
  warmupSeconds: number,
): void {
  printLine({
    suite: "compare-etcd",
    case: op,
    system: system === "etcd" ? "etcd" : "raft-store",
    backend: system === "etcd" ? "bbolt" : "wal",
    batch: null,
    clients,
    opsPerSec: round(r.opsPerSec, 1),
    mbPerSec: null,
    p50Ms: round(r.p50Ms),
    p99Ms: round(r.p99Ms),
    maxMs: round(r.maxMs),
    errors: r.errors,
    seconds: round(r.seconds, 2),
    ratio: etcd === null ? null : round(r.opsPerSec / etcd.opsPerSec, 2),
    ratioTo: etcd === null ? null : "etcd",
    api: system.startsWith("raft-store-resp") ? "resp" : "http",
    state: system === "etcd" ? null : system.endsWith("-memory") ? "memory" : "lmdb",
    round: round_,
    first: etcdFirst ? "etcd" : "raft-store",
    machine: r.machine,
    warmupSeconds,
  });
}

export async function run(args: readonly string[]): Promise<void> {
  const o = parseOptions(args,
    ["rounds", "seconds", "warmup", "warmup-ops", "clients", "cases", "memory-cases", "target",
      "out"]);
  const rounds = positiveInteger(o, "rounds", 3);
  const clientsList = integerList(o, "clients", "1,16,64,256");
  const cases = choiceList<LoadOp>(o, "cases", "put,get,mixed", loadOps);
  // By default only the puts (when measured), which keeps the run's length down.
  const memoryCases = o.get("memory-cases")?.split(",") ?? cases.filter((c) => c === "put");
  for (const c of memoryCases) {
    if (c !== "none" && !cases.includes(c as LoadOp)) {
      throw new Error(`--memory-cases "${c}": name cases of --cases (${cases.join(",")}) or none`);
    }
  }
  const log = (text: string): void => {
    process.stderr.write(`${text}\n`);
  };
  const root = await mkdtemp(join(tmpdir(), "raft-store-compare-"));
  const setup: Setup = {
    seconds: numberOption(o, "seconds", 10, "a number > 0"),
    warmup: numberOption(o, "warmup", defaultWarmupSeconds, "a number >= 0"),
    warmupOps: numberOption(o, "warmup-ops", 10_000, "an integer >= 0"),
    target: choice(o, "target", "leader", ["leader", "all"] as const),
    etcd: ensureEtcd(log),
    root,
  };
  const rows: Row[] = [];
  try {
    for (let r = 1; r <= rounds; r++) {
      // Which system goes first alternates from case to case and, for each case, from round to
      // round (a count of cases alone would give a case the same order in every round whenever
      // a round has an even number of cases).
      let position = r;
      for (const op of cases) {
        for (const clients of clientsList) {
          log(`round ${r}: ${op} with ${clients} clients`);
          const etcdFirst = position++ % 2 === 0;
          let etcd: Measured | null = null;
          let ours: Map<System, Measured> | null = null;
          if (etcdFirst) etcd = await measureEtcd(setup, op, clients);
          ours = await measureRaftStore(setup, op, clients, "lmdb");
          if (memoryCases.includes(op)) {
            for (const [system, result] of await measureRaftStore(setup, op, clients, "memory")) {
              ours.set(system, result);
            }
          }
          if (!etcdFirst) etcd = await measureEtcd(setup, op, clients);
          if (etcd === null) throw new Error("unreachable: etcd not measured");
          line(op, clients, "etcd", etcd, null, r, etcdFirst, setup.warmup);
          rows.push({ round: r, op, clients, system: "etcd", result: etcd });
          for (const [system, result] of ours) {
            line(op, clients, system, result, etcd, r, etcdFirst, setup.warmup);
            rows.push({ round: r, op, clients, system, result });
          }
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const outDir = resolve(
    o.get("out") ??
      join("bench-results", `compare-etcd-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  mkdirSync(outDir, { recursive: true });
  const table = renderTable(rows);
  writeFileSync(join(outDir, "table.md"), `${table}\n`);
  writeFileSync(join(outDir, "chart.svg"), renderChart(rows));
  writeFileSync(
    join(outDir, "results.json"),
    `${JSON.stringify(
      rows.map((x) => ({ ...x })),
      null,
      1,
    )}\n`,
  );
  process.stdout.write(
    `\n${table}\n\nwritten: ${join(outDir, "table.md")}, ${join(outDir, "chart.svg")}\n`,
  );
}
