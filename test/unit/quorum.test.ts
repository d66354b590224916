// Proves the quorum arithmetic against naive oracles with seeded properties: the commit index
// of a majority and of a joint configuration, and election results.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  VoteResult,
  jointIndex,
  jointVoteResult,
  majorityIndex,
  majoritySize,
  majorityVoteResult,
} from "../../src/core/quorum.js";
import { type NodeId, nodeId } from "../../src/core/types.js";

const seed = Number(process.env["SEED"] ?? 20261126);
const arbMatches = fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 9 });

function ids(n: number, offset = 0): NodeId[] {
  return Array.from({ length: n }, (_, i) => nodeId(i + 1 + offset));
}

/** The largest index that at least a majority holds, by trying every candidate. */
function naiveMajorityIndex(matches: readonly number[]): number {
  const need = Math.floor(matches.length / 2) + 1;
  let best = 0;
  for (const candidate of matches) {
    if (matches.filter((m) => m >= candidate).length >= need) best = Math.max(best, candidate);
  }
  return best;
}

test("majorityIndex is the largest index a majority holds", () => {
  fc.assert(
    fc.property(arbMatches, (matches) => {
      const voters = ids(matches.length);
      const got = majorityIndex(voters, (id) => matches[id - 1]);
      return got === naiveMajorityIndex(matches);
    }),
    { seed, numRuns: 500 },
  );
});

test("jointIndex is the smaller of the two majorities' indexes", () => {
  fc.assert(
    fc.property(arbMatches, arbMatches, (a, b) => {
      const incoming = ids(a.length);
      const outgoing = ids(b.length, 100);
      const match = (id: NodeId): number | undefined => (id > 100 ? b[id - 101] : a[id - 1]);
      const got = jointIndex(incoming, outgoing, match);
      return got === Math.min(naiveMajorityIndex(a), naiveMajorityIndex(b));
    }),
    { seed, numRuns: 500 },
  );
});

test("an empty outgoing half leaves a joint configuration equal to its incoming half", () => {
  const voters = ids(3);
  assert.equal(jointIndex(voters, [], (id) => [5, 7, 2][id - 1]), 5);
  assert.equal(majorityIndex([], () => 3), Infinity);
});

const arbVotes = fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), {
  minLength: 1,
  maxLength: 9,
});

function naiveVoteResult(votes: readonly (boolean | undefined)[]): VoteResult {
  const need = majoritySize(votes.length);
  const yes = votes.filter((v) => v === true).length;
  const no = votes.filter((v) => v === false).length;
  if (yes >= need) return VoteResult.Won;
  if (votes.length - no < need) return VoteResult.Lost;
  return VoteResult.Pending;
}

function voteMap(votes: readonly (boolean | undefined)[], offset = 0): Map<NodeId, boolean> {
  const map = new Map<NodeId, boolean>();
  votes.forEach((v, i) => v !== undefined && map.set(nodeId(i + 1 + offset), v));
  return map;
}

test("majorityVoteResult is won, lost or pending exactly as counting says", () => {
  fc.assert(
    fc.property(arbVotes, (votes) => {
      return majorityVoteResult(ids(votes.length), voteMap(votes)) === naiveVoteResult(votes);
    }),
    { seed, numRuns: 500 },
  );
});

test("a joint election is won only with both majorities and lost with either lost", () => {
  fc.assert(
    fc.property(arbVotes, arbVotes, (a, b) => {
      const all = new Map([...voteMap(a), ...voteMap(b, 100)]);
      const got = jointVoteResult(ids(a.length), ids(b.length, 100), all);
      const ra = naiveVoteResult(a);
      const rb = naiveVoteResult(b);
      if (ra === VoteResult.Won && rb === VoteResult.Won) return got === VoteResult.Won;
      if (ra === VoteResult.Lost || rb === VoteResult.Lost) return got === VoteResult.Lost;
      return got === VoteResult.Pending;
    }),
    { seed, numRuns: 500 },
  );
});
