// Operating errors: conditions a caller must expect (not leader, limits hit, disk, peer gone).
// Each has a stable `code` that clients and the server's APIs can rely on.

import type { NodeId } from "./core/types.js";

export abstract class RaftStoreError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The proposal or read was sent to a node that is not the leader. Nothing was applied. */
export class NotLeaderError extends RaftStoreError {
  override readonly code = "NOT_LEADER";
  constructor(
    readonly leaderId: NodeId | null,
    readonly leaderAddress: string | null = null,
  ) {
    super(`not leader (leader: ${leaderId ?? "unknown"})`);
  }
}

/** The leader refused a proposal it could not take now (a limit, or a transfer in progress). */
export class ProposalDroppedError extends RaftStoreError {
  override readonly code = "PROPOSAL_DROPPED";
  constructor(readonly reason: string) {
    super(`proposal dropped: ${reason}`);
  }
}

/** A configuration value is out of range or inconsistent. */
export class ConfigError extends RaftStoreError {
  override readonly code = "BAD_CONFIG";
}

/** A leadership transfer could not be started (bad target, or this node is not the leader). */
export class TransferRejectedError extends RaftStoreError {
  override readonly code = "TRANSFER_REJECTED";
}

/** No answer in time. The operation may or may not have taken effect. */
export class TimeoutError extends RaftStoreError {
  override readonly code = "TIMEOUT";
}

/** The node was stopped (or failed) before the operation completed. */
export class StoppedError extends RaftStoreError {
  override readonly code = "STOPPED";
}

/** The data directory belongs to another cluster or another node id. */
export class ClusterMismatchError extends RaftStoreError {
  override readonly code = "CLUSTER_MISMATCH";
}

/**
 * The leader holds entries as committed and acknowledged by this node that its log does not
 * hold: the node lost entries it had made durable (its data directory emptied, cut or restored
 * from an old copy). Raft cannot go on safely with such a member: it stops.
 */
export class LostEntriesError extends RaftStoreError {
  override readonly code = "LOST_ENTRIES";
}
