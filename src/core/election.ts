// Elections: pre-vote and vote campaigns, answering vote requests, and counting the answers
// (paper section 5.2, thesis 9.6 for PreVote and 4.2.3 for ignoring disruptive servers).

import { assertNever } from "../assert.js";
import { MessageType, type VoteRequest, type VoteResponse } from "./messages.js";
import { VoteResult } from "./quorum.js";
import type { Raft } from "./raft.js";
import { Role } from "./ready.js";

export const CampaignKind = {
  /** Ask for pre-votes first: the term only rises once a majority would vote for us. */
  PreElection: 0,
  /** A real election: raise the term and ask for votes. */
  Election: 1,
  /** An election started by a leadership transfer: voters ignore their leader lease. */
  Transfer: 2,
} as const;
export type CampaignKind = (typeof CampaignKind)[keyof typeof CampaignKind];

export function campaign(r: Raft, kind: CampaignKind): void {
  if (!r.promotable()) return;
  const pre = kind === CampaignKind.PreElection;
  if (pre) r.becomePreCandidate();
  else r.becomeCandidate();
  r.tracker.recordVote(r.id, true);
  if (tally(r)) return;
  const voteTerm = pre ? r.term + 1 : r.term;
  const lastLogIndex = r.log.lastIndex();
  const lastLogTerm = r.log.lastTerm();
  for (const to of r.voters()) {
    if (to === r.id) continue;
    r.send({
      type: pre ? MessageType.PreVote : MessageType.Vote,
      from: r.id,
      to,
      term: voteTerm,
      lastLogIndex,
      lastLogTerm,
      transfer: kind === CampaignKind.Transfer,
    });
  }
}

/**
 * Answers a vote or pre-vote request whose term is not below ours. We grant when we are free to
 * (we voted for this candidate already, or have neither voted nor seen a leader this term, or it
 * is a pre-vote for a later term) and the candidate's log is at least as up to date as ours.
 */
export function handleVoteRequest(r: Raft, m: VoteRequest): void {
  const pre = m.type === MessageType.PreVote;
  const free =
    r.vote === m.from ||
    (r.vote === null && r.leaderId === null) ||
    (pre && m.term > r.term) ||
    (!pre && r.role === Role.Follower && r.config.plantedBugs?.voteTwiceInOneTerm === true);
  const responseType = pre ? MessageType.PreVoteResponse : MessageType.VoteResponse;
  const upToDate =
    r.log.isUpToDate(m.lastLogIndex, m.lastLogTerm) || r.config.plantedBugs?.voteForStaleLog === true;
  if (free && upToDate) {
    // A granted pre-vote carries the requested term, so the pre-candidate can tell it is current.
    r.send({ type: responseType, from: r.id, to: m.from, term: m.term, granted: true });
    if (!pre) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
    return;
  }
  r.send({ type: responseType, from: r.id, to: m.from, term: r.term, granted: false });
}

/** Counts an answer to our campaign (the caller checked the role). */
export function handleVoteResponse(r: Raft, m: VoteResponse): void {
  const wanted = r.role === Role.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
  if (m.type !== wanted) return;
  // A grant from an earlier pre-vote round carries an older requested term: ignore it.
  if (m.type === MessageType.PreVoteResponse && m.granted && m.term !== r.term + 1) return;
  r.tracker.recordVote(m.from, m.granted);
  tally(r);
}

/** Acts on the votes so far; returns true if the campaign is over. */
function tally(r: Raft): boolean {
  const result = r.tracker.voteResult();
  switch (result) {
    case VoteResult.Won:
      if (r.role === Role.PreCandidate) campaign(r, CampaignKind.Election);
      else r.becomeLeader();
      return true;
    case VoteResult.Lost:
      r.becomeFollower(r.term, null);
      return true;
    case VoteResult.Pending:
      return false;
    default:
      return assertNever(result, "vote result");
  }
}
