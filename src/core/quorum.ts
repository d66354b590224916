// Quorum arithmetic for simple majorities and for joint configurations (paper section 6), where
// a decision needs a majority of the incoming and of the outgoing voters.

import type { LogIndex, NodeId } from "./types.js";

export const VoteResult = { Pending: 0, Lost: 1, Won: 2 } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

export function majoritySize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index held by a majority of `voters`, given each voter's match index (missing
 * counts as 0). An empty voter set places no constraint and returns Infinity, so that a joint
 * configuration with an empty outgoing half reduces to its incoming half.
 */
export function majorityIndex(
  voters: readonly NodeId[],
  matchOf: (id: NodeId) => LogIndex | undefined,
): LogIndex {
  if (voters.length === 0) return Infinity;
  const matches = voters.map((id) => matchOf(id) ?? 0).sort((a, b) => b - a);
  return matches[majoritySize(voters.length) - 1] ?? 0;
}

export function jointIndex(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  matchOf: (id: NodeId) => LogIndex | undefined,
): LogIndex {
  return Math.min(majorityIndex(incoming, matchOf), majorityIndex(outgoing, matchOf));
}

/** Won once a majority granted; Lost once a majority can no longer be reached. */
export function majorityVoteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) granted++;
  }
  const needed = majoritySize(voters.length);
  if (granted >= needed) return VoteResult.Won;
  if (granted + missing >= needed) return VoteResult.Pending;
  return VoteResult.Lost;
}

export function jointVoteResult(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVoteResult(incoming, votes);
  const b = majorityVoteResult(outgoing, votes);
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
  if (a === VoteResult.Won && b === VoteResult.Won) return VoteResult.Won;
  return VoteResult.Pending;
}

/** True when the members for which `active` holds form a quorum of the configuration. */
export function jointActive(
  incoming: readonly NodeId[],
  outgoing: readonly NodeId[],
  active: (id: NodeId) => boolean,
): boolean {
  const votes = new Map<NodeId, boolean>();
  for (const id of [...incoming, ...outgoing]) votes.set(id, active(id));
  return jointVoteResult(incoming, outgoing, votes) === VoteResult.Won;
}
