// Prometheus metrics (prom-client: the standard exposition format and histogram buckets, rather
// than hand-written text). Gauges read the node's status when scraped; counters and histograms
// are fed by the service (proposals), the storage wrapper (fsyncs) and node events (snapshots).
// The two counters bumped on every request are plain numbers, handed to prom-client when
// scraped: its inc() hashes the labels on every call.

import client from "prom-client";
import type { NodeStatus } from "../node/status.js";

const roles = ["follower", "precandidate", "candidate", "leader"] as const;

export class ServerMetrics {
  readonly registry = new client.Registry();
  private readonly proposalSeconds: client.Histogram;
  private readonly fsyncSeconds: client.Histogram;
  private readonly snapshots: client.Counter<"kind">;
  private proposalCount = 0;
  private readonly requestCounts = { http: { ok: 0, error: 0 }, resp: { ok: 0, error: 0 } };
  /** The last free space read under each data directory (disk-guard.ts). */
  private readonly freeBytes = new Map<string, number>();

  constructor(private readonly status: () => NodeStatus | null) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: "raft_store_process_" });
    const self = this;
    new client.Counter({
      name: "raft_store_proposals_total",
      help: "Commands proposed by this node as leader",
      registers,
      collect() {
        this.reset();
        if (self.proposalCount > 0) this.inc(self.proposalCount);
      },
    });
    this.proposalSeconds = new client.Histogram({
      name: "raft_store_proposal_duration_seconds",
      help: "From propose to applied on the leader",
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.fsyncSeconds = new client.Histogram({
      name: "raft_store_log_fsync_duration_seconds",
      help: "Durable log appends (one fsync per batch)",
      buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1],
      registers,
    });
    this.snapshots = new client.Counter({
      name: "raft_store_snapshots_total",
      help: "Snapshots stored (taken here or received from the leader)",
      labelNames: ["kind"],
      registers,
    });
    new client.Counter({
      name: "raft_store_client_requests_total",
      help: "Client requests by API and outcome",
      labelNames: ["api", "outcome"],
      registers,
      collect() {
        this.reset();
        for (const api of ["http", "resp"] as const) {
          for (const outcome of ["ok", "error"] as const) {
            const count = self.requestCounts[api][outcome];
            if (count > 0) this.inc({ api, outcome }, count);
          }
        }
      },
    });
    new client.Gauge({
      name: "raft_store_disk_free_bytes",
      help: "Free space on the file system holding each data directory (checked each second)",
      labelNames: ["dir"],
      registers,
      collect() {
        for (const [dir, bytes] of self.freeBytes) this.set({ dir }, bytes);
      },
    });
    this.statusGauges(registers);
  }

  private statusGauges(registers: client.Registry[]): void {
    const self = this;
    const gauge = (name: string, help: string, read: (s: NodeStatus) => number): void => {
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          const s = self.status();
          if (s !== null) this.set(read(s));
        },
      });
    };
    gauge("raft_store_term", "Current term", (s) => s.term);
    gauge("raft_store_commit_index", "Highest index known committed", (s) => s.commitIndex);
    gauge(
      "raft_store_applied_index",
      "Highest index applied to the state machine",
      (s) => s.appliedIndex,
    );
    gauge("raft_store_last_index", "Last index in the log", (s) => s.lastIndex);
    gauge(
      "raft_store_first_index",
      "First index in the log (after compaction)",
      (s) => s.firstIndex,
    );
    gauge("raft_store_is_leader", "1 on the leader", (s) => (s.role === "leader" ? 1 : 0));
    new client.Gauge({
      name: "raft_store_role",
      help: "1 for the node's current role",
      labelNames: ["role"],
      registers,
      collect() {
        const s = self.status();
        for (const role of roles) this.set({ role }, s?.role === role ? 1 : 0);
      },
    });
    new client.Counter({
      name: "raft_store_leader_reads_total",
      help: "Reads this node granted as leader: under its lease, or after a quorum (read_index)",
      labelNames: ["path"],
      registers,
      collect() {
        const s = self.status();
        this.reset();
        this.inc({ path: "lease" }, s?.reads.lease ?? 0);
        this.inc({ path: "read_index" }, s?.reads.readIndex ?? 0);
      },
    });
    new client.Gauge({
      name: "raft_store_peer_lag_entries",
      help: "On the leader: entries each peer is behind",
      labelNames: ["peer"],
      registers,
      collect() {
        this.reset();
        const s = self.status();
        if (s === null || s.role !== "leader") return;
        for (const p of s.peers) {
          if (p.matchIndex !== null) this.set({ peer: String(p.id) }, s.lastIndex - p.matchIndex);
        }
      },
    });
  }

  observeProposal(seconds: number): void {
    this.proposalCount += 1;
    this.proposalSeconds.observe(seconds);
  }

  observeFsync(seconds: number): void {
    this.fsyncSeconds.observe(seconds);
  }

  snapshot(kind: "stored"): void {
    this.snapshots.inc({ kind });
  }

  diskFree(dir: string, bytes: number): void {
    this.freeBytes.set(dir, bytes);
  }

  request(api: "http" | "resp", outcome: "ok" | "error"): void {
    this.requestCounts[api][outcome] += 1;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
