// Random membership changes for the simulator's fault schedule: add learners, promote them,
// remove servers, replace a voter (a joint change), and explicit joint configurations.

import { type ConfChangeRequest, type ConfState, isJoint, membersOf } from "../core/conf-change.js";
import type { Sfc32 } from "../core/prng.js";
import type { NodeId } from "../core/types.js";

export function pickFrom<T>(prng: Sfc32, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[prng.nextInt(items.length)];
}

/** A change that makes sense from `conf`, keeping at least `votersMin` voters; null if none. */
export function randomConfChange(
  prng: Sfc32,
  conf: ConfState,
  ids: readonly NodeId[],
  votersMin: number,
): ConfChangeRequest | null {
  if (isJoint(conf)) return conf.autoLeave ? null : { changes: [], transition: "leave" };
  const members = new Set(membersOf(conf));
  const outsider = pickFrom(prng, ids.filter((id) => !members.has(id)));
  const learner = pickFrom(prng, conf.learners);
  const voter = pickFrom(prng, conf.voters);
  const canShrink = conf.voters.length > votersMin;
  switch (prng.nextInt(6)) {
    case 0:
      return outsider === undefined ? null : { changes: [{ type: "add-learner", id: outsider }] };
    case 1:
      return learner === undefined ? null : { changes: [{ type: "add-voter", id: learner }] };
    case 2:
      if (learner !== undefined) return { changes: [{ type: "remove", id: learner }] };
      return voter === undefined || !canShrink ? null : { changes: [{ type: "remove", id: voter }] };
    case 3:
      // Replace a voter: two voters change, so this goes through a joint configuration.
      if (voter === undefined || (learner ?? outsider) === undefined) return null;
      return {
        changes: [
          { type: "remove", id: voter },
          { type: "add-voter", id: (learner ?? outsider) as NodeId },
        ],
      };
    case 4:
      return outsider === undefined ? null : { changes: [{ type: "add-voter", id: outsider }] };
    default:
      if (learner === undefined) return null;
      return { changes: [{ type: "add-voter", id: learner }], transition: "joint" };
  }
}
