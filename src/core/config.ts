// The core's configuration, with defaults and validation. Time is counted in ticks: the driver
// decides how long a tick is (e.g. 100 ms), the core never reads a clock.

import { ConfigError } from "../errors.js";
import type { Prng } from "./prng.js";
import type { LogIndex, NodeId } from "./types.js";

/**
 * Deliberate bugs for proving that the simulator catches them. Never set outside tests: each
 * one breaks Raft's safety.
 */
export interface PlantedBugs {
  /** Commit an entry of an earlier term by counting replicas (the paper's figure 8 bug). */
  readonly commitPriorTermByCounting?: boolean;
  /** Grant a vote to every candidate in a term, not just the first one. */
  readonly voteTwiceInOneTerm?: boolean;
  /** Grant votes without the election restriction (section 5.4.1: the candidate's log is up to date). */
  readonly voteForStaleLog?: boolean;
  /** Propose a configuration change before committing an entry of the leader's term. */
  readonly confChangeBeforeOwnTermCommit?: boolean;
  /** Serve reads without confirming leadership with a quorum (the stale-read bug). */
  readonly readWithoutQuorum?: boolean;
  /** Send Append acknowledgements before the entries they acknowledge are durable. */
  readonly ackBeforePersist?: boolean;
}

export interface RaftConfig {
  readonly id: NodeId;
  /** T: the election timeout is drawn uniformly from [T, 2T) ticks. */
  readonly electionTicks: number;
  /** The leader sends heartbeats every heartbeatTicks; must be well below electionTicks. */
  readonly heartbeatTicks: number;
  /** Ask for pre-votes before starting an election (thesis 9.6). */
  readonly preVote: boolean;
  /** A leader that has not heard from a quorum for an election timeout steps down. */
  readonly checkQuorum: boolean;
  /** Most entries in one Append message. */
  readonly appendEntriesMax: number;
  /** Most payload bytes in one Append message (at least one entry is always sent). */
  readonly appendBytesMax: number;
  /** Most Append messages in flight to one follower while replicating. */
  readonly inflightMax: number;
  /** Most payload bytes in flight to one follower. */
  readonly inflightBytesMax: number;
  /** Proposals are refused once this many bytes of the leader's entries are uncommitted. */
  readonly uncommittedBytesMax: number;
  /** Most bytes of committed entries handed to the state machine in one Ready. */
  readonly applyBytesMax: number;
  /**
   * Tell followers of a new commit index at once (an empty Append to each), so that they apply
   * without waiting; off, they learn it with the next Append or heartbeat, which halves the
   * messages per proposal under a light load.
   */
  readonly broadcastCommit: boolean;
  /** On restart: the last index the state machine had applied (0 for a fresh one). */
  readonly applied: LogIndex;
  /** The source of election jitter. */
  readonly prng: Prng;
  readonly plantedBugs?: PlantedBugs;
}

export type RaftConfigInput = Pick<RaftConfig, "id" | "prng"> & Partial<RaftConfig>;

export function withDefaults(input: RaftConfigInput): RaftConfig {
  const config: RaftConfig = {
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    appendEntriesMax: 1024,
    appendBytesMax: 1024 * 1024,
    inflightMax: 256,
    inflightBytesMax: 32 * 1024 * 1024,
    uncommittedBytesMax: 64 * 1024 * 1024,
    applyBytesMax: 16 * 1024 * 1024,
    broadcastCommit: true,
    applied: 0,
    ...input,
  };
  validate(config);
  return config;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive integer, got ${value}`);
  }
}

function validate(c: RaftConfig): void {
  positiveInteger("electionTicks", c.electionTicks);
  positiveInteger("heartbeatTicks", c.heartbeatTicks);
  positiveInteger("appendEntriesMax", c.appendEntriesMax);
  positiveInteger("appendBytesMax", c.appendBytesMax);
  positiveInteger("inflightMax", c.inflightMax);
  positiveInteger("inflightBytesMax", c.inflightBytesMax);
  positiveInteger("uncommittedBytesMax", c.uncommittedBytesMax);
  positiveInteger("applyBytesMax", c.applyBytesMax);
  if (c.heartbeatTicks >= c.electionTicks) {
    throw new ConfigError(
      `heartbeatTicks (${c.heartbeatTicks}) must be less than electionTicks (${c.electionTicks})`,
    );
  }
  if (!Number.isSafeInteger(c.applied) || c.applied < 0) {
    throw new ConfigError(`applied must be a non-negative integer, got ${c.applied}`);
  }
}
