// Log replication (paper section 5.3): the leader's Appends and heartbeats, the follower's
// consistency check, and the leader's handling of acknowledgements and rejections, with fast
// backtracking and per-follower flow control.

import { assert } from "../assert.js";
import { LostEntriesError } from "../errors.js";
import {
  type InstallSnapshot,
  type AppendRequest,
  type AppendResponse,
  type Heartbeat,
  type HeartbeatResponse,
  MessageType,
} from "./messages.js";
import { ProgressState } from "./progress.js";
import type { Raft } from "./raft.js";
import { type NodeId, entryBytes } from "./types.js";

/** Sends the next Append to `to` if flow control allows; returns whether one was sent. */
export function sendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.tracker.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === null || pr.next < r.log.firstIndex()) return sendSnapshot(r, to);
  const high = Math.min(r.log.lastIndex() + 1, pr.next + r.config.appendEntriesMax);
  const entries = r.log.entries(pr.next, high, r.config.appendBytesMax);
  if (entries.length === 0 && !sendIfEmpty) return false;
  const bytes = entries.reduce((sum, e) => sum + entryBytes(e), 0);
  pr.sentAppend(prevIndex + entries.length, bytes, entries.length);
  r.send({
    type: MessageType.Append,
    from: r.id,
    to,
    term: r.term,
    prevIndex,
    prevTerm,
    entries,
    commit: r.log.commitIndex,
  });
  return true;
}

/** The follower needs entries compacted away: offer it the latest snapshot instead. */
function sendSnapshot(r: Raft, to: NodeId): boolean {
  const pr = r.tracker.get(to);
  const meta = r.log.storage.snapshot();
  assert(pr !== undefined, `no progress for ${to}`);
  assert(meta !== null, `entries before ${r.log.firstIndex()} compacted but no snapshot holds them`);
  assert(meta.index >= r.log.firstIndex() - 1, `snapshot ${meta.index} leaves a gap before ${r.log.firstIndex()}`);
  pr.becomeSnapshot(meta.index);
  r.send({ type: MessageType.InstallSnapshot, from: r.id, to, term: r.term, meta });
  return true;
}

/**
 * Follower: the leader's snapshot has been received and stored by the driver. If our log
 * already holds its last entry, it only moves our commit index; otherwise it replaces the log.
 */
export function handleInstallSnapshot(r: Raft, m: InstallSnapshot): void {
  const meta = m.meta;
  const reply = (index: number): void =>
    r.send({
      type: MessageType.AppendResponse, from: r.id, to: m.from, term: r.term,
      success: true, index, hintIndex: 0, hintTerm: 0,
    });
  if (meta.index <= r.log.commitIndex) {
    reply(r.log.commitIndex);
    return;
  }
  if (r.log.matchTerm(meta.index, meta.term)) {
    r.log.commitTo(meta.index);
    reply(meta.index);
    return;
  }
  r.restoreSnapshot(meta);
  reply(meta.index);
}

/** Sends to every follower what it is missing (or an empty Append to spread the commit index). */
export function broadcastAppend(r: Raft): void {
  for (const id of r.tracker.members()) {
    if (id !== r.id) sendAppend(r, id, true);
  }
}

/** Sends a numbered heartbeat round to every follower; returns the round's number. */
export function broadcastHeartbeat(r: Raft): number {
  const context = r.reads.nextRound();
  for (const id of r.tracker.members()) {
    if (id === r.id) continue;
    const pr = r.tracker.get(id);
    assert(pr !== undefined, `no progress for member ${id}`);
    // Never tell a follower to commit past what it is known to hold.
    const commit = Math.min(pr.match, r.log.commitIndex);
    r.send({ type: MessageType.Heartbeat, from: r.id, to: id, term: r.term, commit, context });
  }
  r.confirmReads();
  return context;
}

/** Follower: the consistency check, then append and advance commit (figure 2, AppendEntries). */
export function handleAppend(r: Raft, m: AppendRequest): void {
  const reply = (success: boolean, index: number, hintIndex = 0, hintTerm = 0): void =>
    r.send({
      type: MessageType.AppendResponse,
      from: r.id,
      to: m.from,
      term: r.term,
      success,
      index,
      hintIndex,
      hintTerm,
    });
  if (m.prevIndex < r.log.commitIndex) {
    // Everything up to our commit index matches any current leader's log.
    reply(true, r.log.commitIndex);
    return;
  }
  if (!r.log.matchTerm(m.prevIndex, m.prevTerm)) {
    const hint = r.log.findConflictByTerm(Math.min(m.prevIndex, r.log.lastIndex()), m.prevTerm);
    reply(false, m.prevIndex, hint.index, hint.term);
    return;
  }
  const lastNew = m.prevIndex + m.entries.length;
  const conflict = r.log.findConflict(m.entries);
  if (conflict !== 0) {
    assert(conflict > r.log.commitIndex, `conflict at ${conflict} <= commit ${r.log.commitIndex}`);
    r.appendToLog(m.entries.slice(conflict - m.prevIndex - 1));
  }
  // Only entries this message verified may be committed: ours beyond lastNew may be stale.
  r.log.commitTo(Math.min(m.commit, lastNew));
  reply(true, lastNew);
}

export function handleHeartbeat(r: Raft, m: Heartbeat): void {
  // A leader never sends a commit index above what this node acknowledged (sendHeartbeats).
  if (m.commit > r.log.lastIndex()) {
    throw new LostEntriesError(`leader ${m.from} holds entries up to ${m.commit} as committed ` +
      `and acknowledged by this node, but its log ends at ${r.log.lastIndex()}: this node lost ` +
      "entries it had made durable (was its data directory emptied, cut or restored from an " +
      "old copy?)");
  }
  r.log.commitTo(m.commit);
  r.send({
    type: MessageType.HeartbeatResponse,
    from: r.id,
    to: m.from,
    term: r.term,
    context: m.context,
  });
}

/** Leader: an answer to an Append. */
export function handleAppendResponse(r: Raft, m: AppendResponse): void {
  const pr = r.tracker.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (!m.success) {
    // Skip every entry of a term the follower cannot match in one round trip.
    const probe =
      m.hintTerm > 0 ? r.log.findConflictByTerm(m.hintIndex, m.hintTerm).index : m.hintIndex;
    if (pr.maybeDecrTo(m.index, probe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from, true);
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (pr.state === ProgressState.Snapshot) {
    // The snapshot (or a log that already covered it) arrived: replicate from its end.
    if (pr.match < pr.pendingSnapshot) return;
    pr.becomeProbe();
  } else if (!updated) {
    return;
  }
  if (pr.state === ProgressState.Probe) pr.becomeReplicate();
  else pr.inflights.freeLE(m.index);
  const committed = r.maybeCommit();
  // Followers learn the new commit index at once, or with the next Append or heartbeat.
  if (committed && r.config.broadcastCommit) broadcastAppend(r);
  while (sendAppend(r, m.from, false));
  r.maybeSendTimeoutNow(m.from);
  if (committed) r.afterCommit();
}

export function handleHeartbeatResponse(r: Raft, m: HeartbeatResponse): void {
  const pr = r.tracker.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.probeSent = false;
  if (m.context > pr.heartbeatRound) {
    pr.heartbeatRound = m.context;
    r.confirmReads();
  }
  if (pr.match >= r.log.lastIndex()) return;
  // The follower lags. If every message in flight was lost, free one slot so that a probe goes
  // out: its rejection (or acceptance) tells us where the follower really is.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  sendAppend(r, m.from, true);
}
