// A scripted stale-read scenario, to show the checker catches the planted bug every time rather
// than when a random schedule happens to line up:
//   1. write x = a through the leader L (acknowledged, so applied on L);
//   2. cut L off from every other member;
//   3. write x = b through the majority (retried until a new leader acknowledges it);
//   4. read x from L, after 3 completed.
// With --unsafe-local-reads, L answers from its own state: "a", after "b" was acknowledged, which
// no linearization allows. Without the bug, L must confirm its leadership first (ReadIndex),
// cannot, and the read fails or times out; the history stays linearizable.
// With `isolation: "pause"` L is also paused from the cut until the read of step 4 is sent.
// With `reads: "lease"` every read at L asks for a lease read, and from the cut until b is
// acknowledged a reader also reads x from L every 50 ms: L answers those at once while its lease
// holds (with "a", which is then still the value), and must stop before the majority can elect
// a leader and acknowledge b, since the voters refuse votes for an election timeout after they
// last heard from L and the lease is shorter.

import { ChaosCluster } from "./chaos-cluster.js";
import { HttpPool, classify } from "./http-call.js";
import type { CompletedOp } from "./history.js";
import { pairOperations } from "./history.js";
import type { NemesisEvent } from "./nemesis.js";
import {
  type ChaosSummary,
  type Log,
  type PlantedBug,
  monotonicClock,
  outputDir,
  plantedFlags,
} from "./runner.js";
import { type Verdict, countOps, judge, writeArtifacts } from "./verdict.js";
import { HistoryRecorder, keyPath } from "./workload.js";

export interface StaleReadOptions {
  readonly seed: number;
  readonly plantedBug: PlantedBug | null;
  readonly out: string | null;
  /** The consistency the reads at L ask for (default linearizable). */
  readonly reads?: "linearizable" | "lease";
  /**
   * How L is cut off in step 2: its links cut (default), or its links cut and the process
   * paused (SIGSTOP) until step 4's read has been sent to it. A paused leader cannot step down
   * (CheckQuorum), so when it wakes, only its lease's expiry keeps it from answering that read
   * with "a" (unless the first tick it wakes to ends an election timeout, about one wake in
   * electionTicks: then CheckQuorum steps it down first).
   */
  readonly isolation?: "partition" | "pause";
}

export interface StaleReadResult {
  readonly verdict: Verdict;
  readonly ops: readonly CompletedOp[];
  /** What the isolated leader answered (null: absent, or no answer). */
  readonly staleValue: string | null;
  /** Lease mode: the reads at L between the cut and b's acknowledgement, and those answered. */
  readonly leaseReads: { readonly sent: number; readonly answered: number };
  readonly summary: ChaosSummary;
}

const key = "x";
const timeoutMs = 1500;

/** One process's writes of `value`, retried (a new process after an info) until one is ok. */
async function writeUntilOk(
  history: HistoryRecorder,
  pool: HttpPool,
  endpoints: readonly string[],
  firstProcess: number,
  value: string,
): Promise<void> {
  let process = firstProcess;
  const end = Date.now() + 30_000;
  for (let attempt = 1; Date.now() < end; attempt += 1) {
    const endpoint = endpoints[attempt % endpoints.length] as string;
    const attemptValue = `${value}-${attempt}`;
    history.invoke(process, "write", key, attemptValue);
    const answer = await pool.call(endpoint, "PUT", keyPath(key), attemptValue, timeoutMs);
    const outcome = classify(answer);
    const type = outcome.kind === "ok" && outcome.status !== 200 ? "fail" : outcome.kind;
    history.complete(process, type, "write", key, attemptValue);
    if (type === "ok") return;
    if (type === "info") process += 100;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no write of ${value} was acknowledged within 30 s`);
}

export async function runStaleRead(o: StaleReadOptions, log: Log): Promise<StaleReadResult> {
  const dir = await outputDir(o.out);
  const env = await ChaosCluster.start({
    nodes: 3, seed: o.seed, root: `${dir}/data`, flags: plantedFlags(o.plantedBug),
  });
  const now = monotonicClock();
  const history = new HistoryRecorder(now);
  const nemesis: NemesisEvent[] = [];
  const pool = new HttpPool();
  let staleValue: string | null = null;
  const leaseReads = { sent: 0, answered: 0 };
  try {
    const leader = await env.cluster.waitLeader(30_000);
    const others = env.ids.filter((id) => id !== leader);
    log(`stale-read: leader ${leader}; writing through it, then isolating it`);
    await writeUntilOk(history, pool, [env.cluster.http(leader)], 0, "a");
    const start = now();
    const paused = o.isolation === "pause";
    env.proxy.partition([[leader], others]);
    if (paused) env.cluster.pause(leader);
    const path = o.reads === "lease" ? `${keyPath(key)}?consistency=lease` : keyPath(key);
    const readAtLeader = async (process: number): Promise<string | null | undefined> => {
      history.invoke(process, "read", key, null);
      const outcome = classify(
        await pool.call(env.cluster.http(leader), "GET", path, null, timeoutMs));
      const value = outcome.kind !== "ok" ? undefined : outcome.status === 404 ? null : outcome.body;
      history.complete(process, value === undefined ? "fail" : "ok", "read", key, value ?? null);
      return value;
    };
    let reading = o.reads === "lease" && !paused;
    const reader = (async () => {
      for (let process = 10; reading; process += 1) {
        leaseReads.sent += 1;
        if ((await readAtLeader(process)) !== undefined) leaseReads.answered += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    try {
      await writeUntilOk(history, pool, others.map((id) => env.cluster.http(id)), 1, "b");
    } finally {
      reading = false;
      await reader;
    }
    const read = readAtLeader(2);
    if (paused) {
      // The read waits in L's socket; L wakes to it, to its lease and to the new term at once.
      await new Promise((resolve) => setTimeout(resolve, 100));
      env.cluster.resume(leader);
    }
    const outcome = await read;
    if (outcome !== undefined) staleValue = outcome;
    log(`stale-read: the isolated leader answered ${outcome === undefined ? "fail" : "ok"} ` +
      `${JSON.stringify(staleValue)}`);
    if (o.reads === "lease") {
      log(`stale-read: lease reads at the isolated leader until b: ${leaseReads.answered} ` +
        `answered of ${leaseReads.sent}`);
    }
    env.proxy.healAll();
    const target = paused ? String(leader) : `${leader} | ${others.join(",")}`;
    const kind = paused ? "pause" : "partition:isolate-leader";
    const detail = paused ? "its links cut too" : "";
    nemesis.push({ kind, target, start, end: now(), detail });
  } finally {
    pool.close();
    await env.stop();
  }
  const ops = pairOperations(history.events);
  const verdict = judge(ops, "register");
  const title = `raft-store stale-read scenario${o.plantedBug === null ? "" : " (planted bug)"}`;
  const artifacts = await writeArtifacts(dir, history.events, nemesis, verdict, title);
  log(`stale-read: linearizable ${verdict.checker}\n${verdict.explanation}`.trim());
  const summary: ChaosSummary = {
    ...countOps(ops), linearizable: verdict.linearizable, lost: verdict.lost,
    nemesisEvents: nemesis.length, history: artifacts.history, report: artifacts.report,
  };
  return { verdict, ops, staleValue, leaseReads, summary };
}
