// RaftNode's options, their defaults and validation.

import type { RaftConfig } from "../core/config.js";
import { type Configuration, type NodeId, nodeId } from "../core/types.js";
import { ConfigError } from "../errors.js";
import { type Logger, silentLogger } from "../logger.js";
import type { Storage } from "../storage/types.js";
import type { Transport } from "../transport/transport.js";
import { type Clock, type StateMachine, systemClock } from "./ports.js";
import type { SnapshotPolicy } from "./snapshots.js";

/** Core settings a node may override (flow-control limits and timing in ticks). */
export type RaftTuning = Partial<
  Pick<
    RaftConfig,
    | "electionTicks"
    | "heartbeatTicks"
    | "preVote"
    | "checkQuorum"
    | "appendEntriesMax"
    | "appendBytesMax"
    | "inflightMax"
    | "inflightBytesMax"
    | "uncommittedBytesMax"
    | "applyBytesMax"
    | "broadcastCommit"
  >
>;

export interface RaftNodeOptions<Result> {
  /** This node's id: a positive integer, unique in the cluster. */
  readonly id: number;
  /** A name for the cluster; a data directory of another cluster is refused. */
  readonly clusterId: string;
  /**
   * Peers' ids and transport addresses, this node included. For a founding member (the
   * default) they are also the cluster's initial voters, written once into a new data directory.
   */
  readonly members: ReadonlyMap<number, string> | Readonly<Record<string, string>>;
  /** This node joins an existing cluster: it starts empty and learns the log from the leader. */
  readonly join?: boolean;
  readonly storage: Storage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<Result>;
  /** Milliseconds per tick (default 100: elections after 1-2 s, heartbeats every 100 ms). */
  readonly tickMs?: number;
  readonly raft?: RaftTuning;
  /** How long propose() waits for its entry to be applied (default 10 s). */
  readonly proposalTimeoutMs?: number;
  /** How long a linearizable read waits (default 5 s). */
  readonly readTimeoutMs?: number;
  /** Proposals waiting to be handed to the core; past it propose() fails at once. */
  readonly pendingProposalsMax?: number;
  /** Peer messages waiting for the next turn; past it they are dropped (Raft retransmits). */
  readonly inboxMessagesMax?: number;
  /**
   * Opt-in lease reads: the leader serves reads without a quorum round trip while its lease
   * holds. The lease lasts an election timeout less `clockDriftBound` of it (0.1 = clocks may
   * run 10% apart). Needs CheckQuorum. `unsafeLeaseMs` is a planted bug for tests only: the
   * lease lasts that long instead, even past the election timeout, which lets a leader that
   * was paused answer lease reads after another leader has taken writes.
   */
  readonly lease?: { readonly clockDriftBound: number; readonly unsafeLeaseMs?: number };
  /** How often a commit-index-only change of the hard state is saved (default 1000 ms). */
  readonly commitSaveIntervalMs?: number;
  /**
   * A follower applies committed commands in batches: at most this long after they reach it
   * (default 5 ms; 0: at once, turn by turn), or once `followerApplyEntriesMax` (default 512)
   * wait. One state-machine transaction then covers many entries, and the apply stays out of
   * the way of the acknowledgements the leader is waiting for. A leader applies at once.
   */
  readonly followerApplyDelayMs?: number;
  readonly followerApplyEntriesMax?: number;
  /**
   * The leader goes on to its next turn while its own log write runs (default true): it keeps
   * proposing, replicating and applying what a quorum of followers made durable, and counts
   * itself toward commit once its write is durable (thesis 10.2.1). False: every turn waits
   * for its write, as a follower's does.
   */
  readonly pipelineLeaderWrites?: boolean;
  /**
   * Log compaction: snapshot the state machine after `thresholdEntries` applied entries (default
   * 100,000, etcd 3.4's snapshot count; 0: only when snapshot() is called), keep
   * `trailingEntries` (default 1024) in the log behind it, and keep the newest `retained`
   * snapshots on disk (default 2) at or below the applied index, and every one above it (received
   * from a leader, not installed yet).
   */
  readonly snapshots?: Partial<SnapshotPolicy>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Seed of the election-jitter PRNG (default: random). */
  readonly seed?: number;
}

export interface ResolvedOptions<Result> {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly members: ReadonlyMap<NodeId, string>;
  readonly join: boolean;
  /** The founding configuration: every member a voter. */
  readonly configuration: Configuration;
  readonly storage: Storage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<Result>;
  readonly tickMs: number;
  readonly raft: RaftTuning & { electionTicks: number; checkQuorum: boolean };
  readonly proposalTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly pendingProposalsMax: number;
  readonly inboxMessagesMax: number;
  readonly leaseMs: number | null;
  readonly commitSaveIntervalMs: number;
  readonly followerApplyDelayMs: number;
  readonly followerApplyEntriesMax: number;
  readonly pipelineLeaderWrites: boolean;
  readonly snapshotPolicy: SnapshotPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly seed: number;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be positive, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be non-negative, got ${value}`);
  }
  return value;
}

function parseMembers(members: RaftNodeOptions<unknown>["members"]): Map<NodeId, string> {
  const entries = members instanceof Map ? [...members] : Object.entries(members);
  const out = new Map<NodeId, string>();
  for (const [key, address] of entries) {
    const id = Number(key);
    if (!Number.isSafeInteger(id) || id <= 0) throw new ConfigError(`member id "${key}" is not a positive integer`);
    if (typeof address !== "string" || address === "") throw new ConfigError(`member ${id} has no address`);
    out.set(nodeId(id), address);
  }
  return out;
}

function snapshotPolicy(p: Partial<SnapshotPolicy>): SnapshotPolicy {
  const policy = { thresholdEntries: 100_000, trailingEntries: 1024, retained: 2, ...p };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ConfigError(`snapshots.${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (policy.retained < 1) throw new ConfigError("snapshots.retained must be at least 1");
  return policy;
}

export function resolveOptions<Result>(o: RaftNodeOptions<Result>): ResolvedOptions<Result> {
  if (!Number.isSafeInteger(o.id) || o.id <= 0) throw new ConfigError(`id must be a positive integer, got ${o.id}`);
  if (o.clusterId === "") throw new ConfigError("clusterId must not be empty");
  const members = parseMembers(o.members);
  const id = nodeId(o.id);
  const join = o.join === true;
  if (!join && !members.has(id)) throw new ConfigError(`members do not include this node (${id})`);
  // Followers learn new commit indexes with the next Append or heartbeat: half the messages per
  // proposal, for a lag of at most a heartbeat in what followers have applied.
  const raft = { electionTicks: 10, checkQuorum: true, broadcastCommit: false, ...o.raft };
  const tickMs = positive("tickMs", o.tickMs ?? 100);
  let leaseMs: number | null = null;
  if (o.lease !== undefined) {
    const drift = o.lease.clockDriftBound;
    if (!(drift >= 0 && drift < 1)) throw new ConfigError(`lease.clockDriftBound must be in [0, 1), got ${drift}`);
    if (!raft.checkQuorum) throw new ConfigError("lease reads need checkQuorum");
    leaseMs = raft.electionTicks * tickMs * (1 - drift);
    const unsafe = o.lease.unsafeLeaseMs;
    if (unsafe !== undefined) leaseMs = positive("lease.unsafeLeaseMs", unsafe);
  }
  return {
    id,
    clusterId: o.clusterId,
    members,
    join,
    configuration: { voters: [...members.keys()], votersOutgoing: [], learners: [] },
    storage: o.storage,
    transport: o.transport,
    stateMachine: o.stateMachine,
    tickMs,
    raft,
    proposalTimeoutMs: positive("proposalTimeoutMs", o.proposalTimeoutMs ?? 10_000),
    readTimeoutMs: positive("readTimeoutMs", o.readTimeoutMs ?? 5_000),
    pendingProposalsMax: positive("pendingProposalsMax", o.pendingProposalsMax ?? 65_536),
    inboxMessagesMax: positive("inboxMessagesMax", o.inboxMessagesMax ?? 65_536),
    leaseMs,
    commitSaveIntervalMs: positive("commitSaveIntervalMs", o.commitSaveIntervalMs ?? 1000),
    followerApplyDelayMs: nonNegative("followerApplyDelayMs", o.followerApplyDelayMs ?? 5),
    followerApplyEntriesMax: positive("followerApplyEntriesMax", o.followerApplyEntriesMax ?? 512),
    pipelineLeaderWrites: o.pipelineLeaderWrites ?? true,
    snapshotPolicy: snapshotPolicy(o.snapshots ?? {}),
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 48),
  };
}
