// Membership operations of the public API, built on the core's configuration changes:
// learners that catch up before they are promoted (so adding a voter never costs
// availability), removals, and joint changes of several servers at once.

import { type ConfChangeRequest, type ConfState, membersOf } from "../core/conf-change.js";
import type { Raft } from "../core/raft.js";
import type { LogIndex, NodeId } from "../core/types.js";
import { NotLeaderError, ProposalDroppedError, TimeoutError } from "../errors.js";
import { Role } from "../core/ready.js";
import type { Transport } from "../transport/transport.js";

/** What the membership operations need from the node that runs them. */
export interface MembershipHost {
  readonly id: NodeId;
  /** Runs `action` against the core between turns; resolves with its result. */
  inLoop<T>(action: (raft: Raft) => T): Promise<T>;
  /** Proposes a configuration change; resolves once its entry is applied here. */
  proposeConfChange(request: ConfChangeRequest): Promise<void>;
  /** Resolves after `ms` on the node's clock. */
  sleep(ms: number): Promise<void>;
  /** Calls `callback` after `ms`; returns the cancel function. */
  setTimer(callback: () => void, ms: number): () => void;
  /** Subscribes to leader changes; returns the unsubscribe function. */
  onLeaderChange(listener: (leader: NodeId | null) => void): () => void;
  now(): number;
  readonly tickMs: number;
  readonly electionMs: number;
}

export interface MembershipOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** addVoter: promote once the learner is within this many entries of the leader (default 64). */
  readonly catchUpEntries?: number;
}

/** Refusals that clear by themselves: retry them until the deadline. */
function transient(error: unknown): boolean {
  return (
    error instanceof ProposalDroppedError &&
    /not committed|transfer .* in progress/.test(error.message)
  );
}

/** Proposes a configuration change, retrying transient refusals; resolves once it is applied. */
export async function changeMembership(
  host: MembershipHost,
  request: ConfChangeRequest,
  options: MembershipOptions = {},
): Promise<ConfState> {
  const deadline = host.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    try {
      await host.proposeConfChange(request);
      return await host.inLoop((raft) => raft.confLog.current());
    } catch (error) {
      if (!transient(error) || host.now() >= deadline) throw error;
      await host.sleep(host.tickMs);
    }
  }
}

/**
 * Adds a voter without a window of lost availability: it joins as a learner, is promoted once
 * it holds the log to within `catchUpEntries` of the leader, and only then counts in quorums.
 */
export async function addVoter(
  host: MembershipHost,
  id: NodeId,
  address: string,
  options: MembershipOptions = {},
): Promise<ConfState> {
  const deadline = host.now() + (options.timeoutMs ?? 30_000);
  const conf = await host.inLoop((raft) => raft.confLog.current());
  if (conf.voters.includes(id) && !conf.votersOutgoing.length) return conf;
  if (!conf.learners.includes(id)) {
    await changeMembership(host, { changes: [{ type: "add-learner", id, address }] }, options);
  }
  const lagMax = options.catchUpEntries ?? 64;
  for (;;) {
    const lag = await host.inLoop((raft) => {
      const match = raft.tracker.get(id)?.match ?? 0;
      return raft.log.lastIndex() - match;
    });
    if (lag <= lagMax) break;
    if (host.now() >= deadline) {
      throw new TimeoutError(`learner ${id} still ${lag} entries behind; it stays a learner`);
    }
    await host.sleep(host.tickMs);
  }
  const remaining = Math.max(1, deadline - host.now());
  return changeMembership(host, { changes: [{ type: "add-voter", id }] }, { timeoutMs: remaining });
}

/**
 * Leadership transfer (thesis 3.10): the core brings the target up to date and sends it
 * TimeoutNow; this resolves with the new leader's id once leadership has moved, and gives up
 * after three election timeouts.
 */
export async function transferLeadership(host: MembershipHost, target?: NodeId): Promise<NodeId> {
  const to = target ?? (await host.inLoop((raft) => bestTransferTarget(raft, host.id)));
  return new Promise<NodeId>((resolve, reject) => {
    const timeoutMs = 3 * host.electionMs;
    const finish = (): void => {
      cancel();
      unsubscribe();
    };
    const cancel = host.setTimer(() => {
      finish();
      reject(new ProposalDroppedError(`leadership transfer to ${to} did not happen in ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = host.onLeaderChange((leader) => {
      if (leader === null || leader === host.id) return;
      finish();
      resolve(leader);
    });
    host.inLoop((raft) => raft.transferLeadership(to)).catch((error: unknown) => {
      finish();
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}

/** The most up-to-date voter other than the leader itself. */
function bestTransferTarget(raft: Raft, self: NodeId): NodeId {
  if (raft.role !== Role.Leader) throw new NotLeaderError(raft.leaderId);
  const peers = raft.status().progress.filter((p) => p.id !== self && raft.tracker.isVoter(p.id));
  const best = peers.sort((a, b) => b.match - a.match)[0];
  if (best === undefined) throw new ProposalDroppedError("no other voter to transfer leadership to");
  return best.id;
}

/** What PeerDirectory reads from the core: the configuration in force and the commit index. */
export interface ConfigView {
  readonly confLog: { lastIndex(): LogIndex; current(): ConfState };
  readonly log: { readonly commitIndex: LogIndex };
}

/**
 * Keeps the transport's peers in step with the configurations in the log: a new member's
 * address comes with the entry that adds it; a member is forgotten once a committed
 * configuration leaves it out after an earlier configuration named it (until then the leader
 * keeps telling it, so that it learns it was removed). A peer that no configuration seen here
 * has named yet is kept: a node catching up replays old configurations, which lack the members
 * added since, and forgetting those (the leader among them) would cut it off from the log that
 * adds them back. Configurations may be skipped between two calls (several committed at once,
 * or a restart): what was named before still counts.
 */
export class PeerDirectory {
  private readonly known = new Map<NodeId, string>();
  private seenIndex = -1;
  private prunedIndex = -1;
  /** Every id a configuration followed here has named: those it can tell were removed. */
  private readonly named = new Set<NodeId>();
  /** This node has been a member of a configuration it knows (so losing it means removal). */
  private wasMember = false;

  constructor(
    private readonly self: NodeId,
    private readonly transport: Pick<Transport, "setPeer" | "removePeer">,
    initial: ReadonlyMap<NodeId, string>,
  ) {
    for (const [id, address] of initial) if (id !== self) this.known.set(id, address);
  }

  /** Follows the configuration in force; reports a change and whether this node was removed. */
  follow(raft: ConfigView): { changed: boolean; removed: boolean } {
    const index = raft.confLog.lastIndex();
    const conf = raft.confLog.current();
    const changed = index !== this.seenIndex;
    if (changed) {
      this.seenIndex = index;
      for (const id of membersOf(conf)) this.named.add(id);
      for (const [key, address] of Object.entries(conf.addresses ?? {})) {
        const id = Number(key) as NodeId;
        if (id === this.self || this.known.get(id) === address) continue;
        this.known.set(id, address);
        this.transport.setPeer(id, address);
      }
    }
    const committed = index <= raft.log.commitIndex;
    // A node that has not yet received any configuration (it is joining) keeps its peers.
    const known = conf.voters.length > 0;
    if (!committed || !known || this.prunedIndex === index) return { changed, removed: false };
    this.prunedIndex = index;
    const members = new Set(membersOf(conf));
    const member = members.has(this.self);
    const removed = this.wasMember && !member;
    if (member) this.wasMember = true;
    for (const id of this.named) {
      if (members.has(id) || id === this.self || !this.known.has(id)) continue;
      this.known.delete(id);
      this.transport.removePeer(id);
    }
    return { changed, removed };
  }
}
