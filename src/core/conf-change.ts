// Membership changes. A configuration entry in the log carries the whole new configuration
// (not a delta), so a server rebuilds its configuration from the last such entry in its log
// (or from its snapshot's metadata). A configuration takes effect on a server as soon as the
// entry is in its log, not when it is committed (thesis 4.1); a truncated entry is undone.
// Changes of one voter at a time are applied directly; larger ones go through a joint
// configuration (paper section 6) in which decisions need both the old and the new majority.

import { assert } from "../assert.js";
import { RaftStoreError } from "../errors.js";
import {
  type Configuration,
  type Entry,
  EntryType,
  type HardState,
  type LogIndex,
  type NodeId,
  nodeId,
} from "./types.js";

/** A configuration as stored in a configuration entry. */
export interface ConfState extends Configuration {
  /** In a joint configuration: the leader leaves it by itself once it is committed. */
  readonly autoLeave: boolean;
}

export const ConfChangeType = {
  AddVoter: "add-voter",
  AddLearner: "add-learner",
  Remove: "remove",
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export const ConfTransition = {
  /** One voter changes: apply directly. More: joint configuration, left automatically. */
  Auto: "auto",
  /** Enter a joint configuration and stay until an explicit Leave. */
  Joint: "joint",
  /** Leave the joint configuration (no changes). */
  Leave: "leave",
} as const;
export type ConfTransition = (typeof ConfTransition)[keyof typeof ConfTransition];

export interface ConfChangeRequest {
  readonly changes: readonly {
    readonly type: ConfChangeType;
    readonly id: NodeId;
    /** For an added server: how to reach it (kept in the configuration). */
    readonly address?: string;
  }[];
  readonly transition?: ConfTransition;
}

/** A membership change that cannot be made (the configuration stays as it was). */
export class ConfChangeError extends RaftStoreError {
  override readonly code = "BAD_CONF_CHANGE";
}

export const emptyConfState: ConfState = { voters: [], votersOutgoing: [], learners: [], autoLeave: false };

export function isJoint(c: Configuration): boolean {
  return c.votersOutgoing.length > 0;
}

export function membersOf(c: Configuration): NodeId[] {
  return [...new Set([...c.voters, ...c.votersOutgoing, ...c.learners])];
}

/** The configuration a request leads to from `current`, or a ConfChangeError. */
export function planConfChange(current: ConfState, request: ConfChangeRequest): ConfState {
  const transition = request.transition ?? ConfTransition.Auto;
  if (transition === ConfTransition.Leave) {
    if (!isJoint(current)) throw new ConfChangeError("not in a joint configuration: nothing to leave");
    if (request.changes.length > 0) throw new ConfChangeError("leaving a joint configuration takes no changes");
    const addresses = { ...current.addresses };
    const kept = new Set([...current.voters, ...current.learners]);
    for (const id of Object.keys(addresses)) if (!kept.has(nodeId(Number(id)))) delete addresses[id];
    return { ...current, votersOutgoing: [], autoLeave: false, addresses };
  }
  if (isJoint(current)) throw new ConfChangeError("in a joint configuration: leave it first");
  if (request.changes.length === 0) throw new ConfChangeError("no changes requested");
  const voters = new Set(current.voters);
  const learners = new Set(current.learners);
  const addresses: Record<string, string> = { ...current.addresses };
  const seen = new Set<NodeId>();
  for (const { type, id, address } of request.changes) {
    if (seen.has(id)) throw new ConfChangeError(`node ${id} appears twice in one change`);
    seen.add(id);
    applyOne(voters, learners, type, id);
    if (address !== undefined) addresses[String(id)] = address;
  }
  if (voters.size === 0) throw new ConfChangeError("a configuration needs at least one voter");
  const changed = [...voters].filter((v) => !current.voters.includes(v)).length +
    current.voters.filter((v) => !voters.has(v)).length;
  const joint = transition === ConfTransition.Joint || changed > 1;
  // Outgoing voters stay reachable until the joint configuration is left.
  const kept = new Set([...voters, ...learners, ...(joint ? current.voters : [])]);
  for (const id of Object.keys(addresses)) if (!kept.has(nodeId(Number(id)))) delete addresses[id];
  return {
    voters: [...voters].sort((a, b) => a - b),
    votersOutgoing: joint ? [...current.voters] : [],
    learners: [...learners].sort((a, b) => a - b),
    autoLeave: joint && transition === ConfTransition.Auto,
    ...(Object.keys(addresses).length > 0 ? { addresses } : {}),
  };
}

function applyOne(voters: Set<NodeId>, learners: Set<NodeId>, type: ConfChangeType, id: NodeId): void {
  switch (type) {
    case ConfChangeType.AddVoter:
      learners.delete(id);
      voters.add(id);
      return;
    case ConfChangeType.AddLearner:
      if (voters.has(id)) throw new ConfChangeError(`node ${id} is a voter: remove it before adding it as a learner`);
      learners.add(id);
      return;
    case ConfChangeType.Remove:
      if (!voters.has(id) && !learners.has(id)) throw new ConfChangeError(`node ${id} is not a member`);
      voters.delete(id);
      learners.delete(id);
      return;
    default:
      throw new ConfChangeError(`unknown change type ${String(type)}`);
  }
}

export function encodeConfState(c: ConfState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(c));
}

/** Decodes a configuration entry. The log is trusted, so a malformed one is a bug. */
export function decodeConfState(data: Uint8Array, index: LogIndex): ConfState {
  const raw: unknown = JSON.parse(new TextDecoder().decode(data));
  assert(typeof raw === "object" && raw !== null, `configuration entry ${index} is not an object`);
  const o = raw as Record<string, unknown>;
  const ids = (key: string): NodeId[] => {
    const value = o[key];
    assert(Array.isArray(value), `configuration entry ${index}: ${key} is not a list`);
    return value.map((v: unknown) => {
      assert(typeof v === "number", `configuration entry ${index}: ${key} holds ${String(v)}`);
      return nodeId(v);
    });
  };
  const rawAddresses = o["addresses"];
  const addresses: Record<string, string> = {};
  if (typeof rawAddresses === "object" && rawAddresses !== null) {
    for (const [id, address] of Object.entries(rawAddresses)) {
      if (typeof address === "string") addresses[id] = address;
    }
  }
  const state = {
    voters: ids("voters"),
    votersOutgoing: ids("votersOutgoing"),
    learners: ids("learners"),
    autoLeave: o["autoLeave"] === true,
    ...(Object.keys(addresses).length > 0 ? { addresses } : {}),
  };
  assert(state.voters.length > 0, `configuration entry ${index} has no voters`);
  return state;
}

/** The configuration of a cluster's first log entry (written identically on every founder). */
export function bootstrapConfState(
  voters: readonly NodeId[],
  addresses?: Readonly<Record<string, string>>,
): ConfState {
  assert(voters.length > 0, "a cluster needs at least one voter");
  const sorted = [...voters].sort((a, b) => a - b);
  const base = { voters: sorted, votersOutgoing: [], learners: [], autoLeave: false };
  return addresses === undefined ? base : { ...base, addresses };
}

/**
 * The log entries every founding member writes identically before it first starts: the
 * initial configuration at index 1, term 0, already committed. Servers that join later start
 * empty and receive it (or a snapshot) from the leader like any other entry.
 */
export function bootstrapEntries(
  voters: readonly NodeId[],
  addresses?: Readonly<Record<string, string>>,
): { entries: Entry[]; hardState: HardState } {
  const entry: Entry = {
    term: 0,
    index: 1,
    type: EntryType.ConfChange,
    data: encodeConfState(bootstrapConfState(voters, addresses)),
  };
  return { entries: [entry], hardState: { term: 0, vote: null, commit: 1 } };
}

/**
 * The configurations in the log, newest last, over the base (the snapshot's). It follows
 * appends, including the replacement of a conflicting suffix, so that the configuration in
 * force is always the one of the last configuration entry in the log.
 */
export class ConfigurationLog {
  private readonly history: { readonly index: LogIndex; readonly state: ConfState }[] = [];

  constructor(
    private base: ConfState,
    entries: readonly Entry[],
  ) {
    this.onAppend(entries[0]?.index ?? 1, entries);
  }

  current(): ConfState {
    return this.history[this.history.length - 1]?.state ?? this.base;
  }

  /** The configuration in force at `index` (what a snapshot taken there must record). */
  at(index: LogIndex): ConfState {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const h = this.history[i];
      if (h !== undefined && h.index <= index) return h.state;
    }
    return this.base;
  }

  /** Index of the entry that set the current configuration (0: the base). */
  lastIndex(): LogIndex {
    return this.history[this.history.length - 1]?.index ?? 0;
  }

  /** The log was replaced by a snapshot: its configuration is the new base. */
  restore(base: ConfState): void {
    this.history.length = 0;
    this.base = base;
  }

  /** Entries were written from `first` on, replacing the rest. Returns whether the configuration changed. */
  onAppend(first: LogIndex, entries: readonly Entry[]): boolean {
    let changed = false;
    while ((this.history[this.history.length - 1]?.index ?? 0) >= first) {
      this.history.pop();
      changed = true;
    }
    for (const e of entries) {
      if (e.type !== EntryType.ConfChange) continue;
      this.history.push({ index: e.index, state: decodeConfState(e.data, e.index) });
      changed = true;
    }
    return changed;
  }
}
