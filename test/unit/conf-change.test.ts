// Proves membership-change planning and the configuration log: which changes apply directly,
// which go through a joint configuration, which are refused, and that a truncated
// configuration entry is undone.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConfChangeError,
  type ConfChangeRequest,
  type ConfState,
  ConfigurationLog,
  bootstrapConfState,
  bootstrapEntries,
  emptyConfState,
  encodeConfState,
  planConfChange,
} from "../../src/core/conf-change.js";
import { type Entry, EntryType, nodeId } from "../../src/core/types.js";

const ids = (...n: number[]) => n.map(nodeId);
const three: ConfState = bootstrapConfState(ids(1, 2, 3));

test("one voter added or removed applies directly; two or more go through a joint configuration", () => {
  const cases: [ConfChangeRequest, Partial<ConfState>][] = [
    [{ changes: [{ type: "add-voter", id: nodeId(4) }] }, { voters: ids(1, 2, 3, 4), votersOutgoing: [] }],
    [{ changes: [{ type: "remove", id: nodeId(3) }] }, { voters: ids(1, 2), votersOutgoing: [] }],
    [{ changes: [{ type: "add-learner", id: nodeId(4) }] }, { voters: ids(1, 2, 3), learners: ids(4) }],
    [
      { changes: [{ type: "remove", id: nodeId(3) }, { type: "add-voter", id: nodeId(4) }] },
      { voters: ids(1, 2, 4), votersOutgoing: ids(1, 2, 3), autoLeave: true },
    ],
    [
      { changes: [{ type: "add-voter", id: nodeId(4) }], transition: "joint" },
      { voters: ids(1, 2, 3, 4), votersOutgoing: ids(1, 2, 3), autoLeave: false },
    ],
  ];
  for (const [request, want] of cases) {
    const got = planConfChange(three, request);
    for (const [key, value] of Object.entries(want)) {
      assert.deepEqual(got[key as keyof ConfState], value, `${JSON.stringify(request)}: ${key}`);
    }
  }
});

test("impossible changes are refused with ConfChangeError", () => {
  const joint = planConfChange(three, { changes: [{ type: "add-voter", id: nodeId(4) }], transition: "joint" });
  const refused: [ConfState, ConfChangeRequest][] = [
    [three, { changes: [] }],
    [three, { changes: [{ type: "remove", id: nodeId(9) }] }],
    [three, { changes: [{ type: "add-learner", id: nodeId(2) }] }],
    [three, { changes: [{ type: "add-voter", id: nodeId(4) }, { type: "remove", id: nodeId(4) }] }],
    [bootstrapConfState(ids(1)), { changes: [{ type: "remove", id: nodeId(1) }] }],
    [three, { changes: [], transition: "leave" }],
    [joint, { changes: [{ type: "add-voter", id: nodeId(5) }] }],
  ];
  for (const [from, request] of refused) {
    assert.throws(() => planConfChange(from, request), ConfChangeError, JSON.stringify(request));
  }
  assert.deepEqual(planConfChange(joint, { changes: [], transition: "leave" }).votersOutgoing, []);
});

function confEntry(index: number, state: ConfState): Entry {
  return { term: 1, index, type: EntryType.ConfChange, data: encodeConfState(state) };
}

test("the configuration in force is the last entry's, and a truncated entry is undone", () => {
  const boot = bootstrapEntries(ids(1, 2, 3)).entries;
  const log = new ConfigurationLog(emptyConfState, boot);
  assert.deepEqual(log.current().voters, ids(1, 2, 3));
  const four = planConfChange(log.current(), { changes: [{ type: "add-voter", id: nodeId(4) }] });
  const normal: Entry = { term: 1, index: 2, type: EntryType.Normal, data: new Uint8Array(3) };
  assert.equal(log.onAppend(2, [normal, confEntry(3, four)]), true);
  assert.deepEqual(log.current().voters, ids(1, 2, 3, 4));
  assert.equal(log.lastIndex(), 3);
  // A new leader's log replaces index 3 with an ordinary entry: the change is undone.
  assert.equal(log.onAppend(3, [{ ...normal, index: 3, term: 2 }]), true);
  assert.deepEqual(log.current().voters, ids(1, 2, 3));
  assert.equal(log.lastIndex(), 1);
  assert.equal(log.onAppend(4, [{ ...normal, index: 4 }]), false);
});
