// Per-role message handling, for messages whose term equals the server's own (raft.ts deals
// with newer and older terms first). Each role's function is swapped in by becomeX().

import { assertNever } from "../assert.js";
import { CampaignKind, campaign, handleVoteRequest, handleVoteResponse } from "./election.js";
import { type Message, MessageType } from "./messages.js";
import type { Raft } from "./raft.js";
import {
  handleInstallSnapshot,
  handleAppend,
  handleAppendResponse,
  handleHeartbeat,
  handleHeartbeatResponse,
} from "./replication.js";

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      handleVoteRequest(r, m);
      return;
    case MessageType.Append:
      heardFromLeader(r, m.from);
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      heardFromLeader(r, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.TimeoutNow:
      // Our leader hands over to us: campaign now, skipping PreVote and voters' leases.
      campaign(r, CampaignKind.Transfer);
      return;
    case MessageType.InstallSnapshot:
      heardFromLeader(r, m.from);
      handleInstallSnapshot(r, m);
      return;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
    case MessageType.AppendResponse:
    case MessageType.HeartbeatResponse:
      return; // answers to a role we no longer have
    default:
      assertNever(m, "message");
  }
}

/** Pre-candidates and candidates. */
export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      handleVoteRequest(r, m);
      return;
    case MessageType.Append:
      // Someone won this term: follow it.
      r.becomeFollower(r.term, m.from);
      handleAppend(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(r.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.InstallSnapshot:
      r.becomeFollower(r.term, m.from);
      handleInstallSnapshot(r, m);
      return;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
      handleVoteResponse(r, m);
      return;
    case MessageType.AppendResponse:
    case MessageType.HeartbeatResponse:
    case MessageType.TimeoutNow:
      return;
    default:
      assertNever(m, "message");
  }
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      handleVoteRequest(r, m);
      return;
    case MessageType.AppendResponse:
      handleAppendResponse(r, m);
      return;
    case MessageType.HeartbeatResponse:
      handleHeartbeatResponse(r, m);
      return;
    case MessageType.Append:
    case MessageType.Heartbeat:
    case MessageType.InstallSnapshot:
      // Another leader in our own term would break Election Safety; it cannot come from a
      // correct peer, so it is dropped rather than obeyed.
      return;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
    case MessageType.TimeoutNow:
      return;
    default:
      assertNever(m, "message");
  }
}

function heardFromLeader(r: Raft, leaderId: Raft["id"]): void {
  r.electionElapsed = 0;
  r.leaderId = leaderId;
}
