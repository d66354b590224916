// The leader's side of membership changes: proposing one (thesis 4.1, paper section 6) and
// what it does once a configuration entry commits.

import { NotLeaderError, ProposalDroppedError } from "../errors.js";
import { type ConfChangeRequest, encodeConfState, isJoint, planConfChange } from "./conf-change.js";
import { MessageType } from "./messages.js";
import type { Proposed, Raft } from "./raft.js";
import { Role } from "./ready.js";
import { broadcastAppend } from "./replication.js";
import { EntryType } from "./types.js";

/**
 * Appends a configuration entry for `request`. Refused while another change is uncommitted,
 * and until this leader has committed an entry of its own term: the fix to single-server
 * changes from the thesis errata.
 */
export function proposeConfigurationChange(r: Raft, request: ConfChangeRequest): Proposed {
  if (r.role !== Role.Leader) throw new NotLeaderError(r.leaderId);
  if (r.transferTarget !== null) {
    throw new ProposalDroppedError(`leadership transfer to ${r.transferTarget} in progress`);
  }
  const unsafeEarly = r.config.plantedBugs?.confChangeBeforeOwnTermCommit === true;
  if (!r.committedInCurrentTerm() && !unsafeEarly) {
    throw new ProposalDroppedError("the leader has not committed an entry of its term yet");
  }
  if (r.confLog.lastIndex() > r.log.commitIndex) {
    throw new ProposalDroppedError(`configuration change at ${r.confLog.lastIndex()} not committed yet`);
  }
  const next = planConfChange(r.confLog.current(), request);
  const entry = { term: r.term, index: 0, type: EntryType.ConfChange, data: encodeConfState(next) };
  const lastIndex = r.appendEntries([entry]);
  broadcastAppend(r);
  return { firstIndex: lastIndex, lastIndex, term: r.term };
}

/**
 * Once the last configuration entry commits, the leader forgets removed servers (after telling
 * them the commit index, so that they learn their removal stands), leaves a joint
 * configuration that asked to be left automatically, and steps down if no longer a voter.
 */
export function afterConfigurationCommit(r: Raft): void {
  if (r.role !== Role.Leader || r.confLog.lastIndex() > r.log.commitIndex) return;
  for (const id of r.tracker.retiringIds()) {
    const commit = Math.min(r.tracker.get(id)?.match ?? 0, r.log.commitIndex);
    r.send({ type: MessageType.Heartbeat, from: r.id, to: id, term: r.term, commit, context: 0 });
  }
  r.tracker.dropRetiring();
  if (!r.tracker.isVoter(r.id)) {
    r.becomeFollower(r.term, null);
    return;
  }
  const conf = r.confLog.current();
  if (isJoint(conf) && conf.autoLeave && r.transferTarget === null) {
    const left = encodeConfState(planConfChange(conf, { changes: [], transition: "leave" }));
    r.appendEntries([{ term: r.term, index: 0, type: EntryType.ConfChange, data: left }]);
    broadcastAppend(r);
  }
}
