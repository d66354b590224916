// The leader lease for lease reads. Followers refuse votes for an election timeout after they
// last heard from their leader (CheckQuorum), so once a quorum has acknowledged a heartbeat
// round sent at time t, no other leader can exist before t + election timeout on their clocks.
// The lease is that, less the configured bound on clock drift, measured on a monotonic clock
// (a paused process sees time pass, unlike a tick count).

import { type Message, MessageType } from "../core/messages.js";
import type { Raft } from "../core/raft.js";

/** Heartbeat rounds whose send time is remembered. */
const roundsKept = 512;

export class Lease {
  private readonly roundSentAt = new Map<number, number>();
  private lastTimeoutNowAt = -Infinity;

  /** `leaseMs`: null when lease reads are off; `electionMs`: the election timeout. */
  constructor(
    private readonly leaseMs: number | null,
    private readonly electionMs: number,
  ) {}

  /** Notes when heartbeat rounds and leadership transfers left this leader. */
  note(messages: readonly Message[], now: number): void {
    for (const m of messages) {
      if (m.type === MessageType.Heartbeat && !this.roundSentAt.has(m.context)) {
        this.roundSentAt.set(m.context, now);
        this.roundSentAt.delete(m.context - roundsKept);
      } else if (m.type === MessageType.TimeoutNow) {
        this.lastTimeoutNowAt = now;
      }
    }
  }

  valid(raft: Raft, now: number): boolean {
    const leaseMs = this.leaseMs;
    if (leaseMs === null || !raft.committedInCurrentTerm() || raft.transferTarget !== null) return false;
    // A transfer's campaign ignores voters' leases, so ours is void for a while after one.
    if (now - this.lastTimeoutNowAt < 2 * this.electionMs) return false;
    const sentAt = this.roundSentAt.get(raft.confirmedHeartbeatRound());
    return sentAt !== undefined && now - sentAt < leaseMs;
  }
}
