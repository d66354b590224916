// A real cluster for chaos runs: `serve` child processes (ProcessCluster) whose peer links all
// run through one ChaosProxy. Each member advertises its proxy listener as its peer address, so
// every connection a member dials to a peer crosses the proxy, where faults are injected.

import type { DiskStorageKind } from "../../src/storage/types.js";
import { ProcessCluster } from "../support/process-cluster.js";
import { ChaosProxy } from "./proxy.js";

export interface ChaosClusterOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Where the members' data directories go (kept after stop()). */
  readonly root: string;
  readonly flags?: readonly string[];
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /** The members' key-value state (`--state`): on disk in LMDB (the default) or in memory. */
  readonly state?: "lmdb" | "memory";
  /** The members' Raft log backend (`--storage`, default the WAL; not memory: no disk). */
  readonly storage?: DiskStorageKind;
}

const stopGraceMs = 10_000;

export class ChaosCluster {
  /** Clusters started and not yet stopped, for killAllNow(). */
  private static readonly live = new Set<ChaosCluster>();

  private constructor(readonly cluster: ProcessCluster, readonly proxy: ChaosProxy) {}

  /**
   * SIGKILLs every member of every live cluster at once (an interrupted run: a member that is
   * paused with SIGSTOP would otherwise stay stopped forever). Synchronous, for signal handlers.
   */
  static killAllNow(): void {
    for (const chaos of ChaosCluster.live) {
      for (const member of chaos.cluster.members.values()) member.process?.kill("SIGKILL");
    }
  }

  static async start(o: ChaosClusterOptions): Promise<ChaosCluster> {
    const ids = Array.from({ length: o.nodes }, (_, k) => k + 1);
    const proxy = new ChaosProxy({ seed: o.seed });
    await proxy.listen(ids);
    const cluster = new ProcessCluster({
      size: o.nodes,
      root: o.root,
      tickMs: o.tickMs ?? 50,
      electionTicks: o.electionTicks ?? 10,
      storage: o.storage ?? "wal",
      state: o.state ?? "lmdb",
      // Snapshots far more often than the server's default (100,000 entries), so that a run
      // of a few minutes takes, streams and installs them under faults.
      flags: ["--snapshot-threshold", "5000", ...(o.flags ?? [])],
      peerAddress: (id, peerPort) => proxy.route(id, peerPort),
    });
    const chaos = new ChaosCluster(cluster, proxy);
    ChaosCluster.live.add(chaos);
    try {
      await cluster.start();
    } catch (error) {
      await chaos.stop();
      throw error;
    }
    return chaos;
  }

  get ids(): number[] {
    return [...this.cluster.members.keys()];
  }

  /** Every member's HTTP address, up or not (clients do not know who is down). */
  endpoints(): string[] {
    return this.ids.map((id) => this.cluster.http(id));
  }

  /** Stops every member (SIGTERM, then SIGKILL after a grace period) and closes the proxy. */
  async stop(): Promise<void> {
    const cluster = this.cluster;
    for (const id of this.ids) cluster.resume(id);
    let timer: NodeJS.Timeout | null = null;
    const grace = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), stopGraceMs);
    });
    const stopped = await Promise.race([cluster.stop().then(() => "stopped" as const), grace]);
    if (timer !== null) clearTimeout(timer);
    if (stopped === "late") {
      await Promise.all(this.ids.map((id) => cluster.kill(id, "SIGKILL")));
    }
    await this.proxy.close();
    ChaosCluster.live.delete(this);
  }
}
