// A cluster of simulated servers on a simulated network, observed by the safety checker after
// every turn. Both the randomized simulator and the scripted scenario tests drive it.

import { assert } from "../assert.js";
import { NotLeaderError, ProposalDroppedError } from "../errors.js";
import { type Message, MessageType, describeMessage } from "../core/messages.js";
import { Sfc32 } from "../core/prng.js";
import { Role, roleName } from "../core/ready.js";
import { type Configuration, type NodeId, nodeId } from "../core/types.js";
import { ConfChangeError, type ConfChangeRequest } from "../core/conf-change.js";
import { SafetyChecker, Violation } from "./checker.js";
import { SimNetwork } from "./network.js";
import { CrashPoint, type RaftOptions, SimNode, retainedSnapshots } from "./sim-node.js";

export interface ClusterOptions {
  /** Founding voters, ids 1..nodes. */
  readonly nodes: number;
  /** Servers that are not members at first (ids nodes+1 ..), for membership changes. */
  readonly spares?: number;
  readonly seed: number;
  readonly raft: RaftOptions;
  /** Keep a trace of events (costs time; the simulator turns it on to replay a failure). */
  readonly trace?: boolean;
  /** How many trace lines to keep (the oldest are dropped). */
  readonly traceLinesMax?: number;
  /** Deliver in sending order instead of shuffling messages due at the same tick. */
  readonly fifo?: boolean;
}

export class Cluster {
  readonly prng: Sfc32;
  readonly network: SimNetwork;
  readonly checker = new SafetyChecker();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly ids: NodeId[];
  /** The founding configuration (membership changes may have moved on since). */
  readonly configuration: Configuration;
  readonly founders: NodeId[];
  /** Membership changes accepted by a leader. */
  confChanges = 0;
  /** Some log holds a configuration entry beyond the bootstrap one. */
  private membershipChanged = false;
  now = 0;
  crashes = 0;
  pauses = 0;
  private readonly snapshotData = new WeakMap<Message, readonly string[]>();
  private snapshotReports: { m: Message; ok: boolean }[] = [];
  /** Reads asked and not yet answered: request id -> commit index known when asked. */
  private readonly reads = new Map<number, number>();
  private readSeq = 0;
  readsConfirmed = 0;
  /** Append rejections delivered (a measure of how fast leaders find where logs match). */
  rejections = 0;
  private readonly traceLines: string[] | null;
  private readonly traceLinesMax: number;
  /** Deliver in sending order (as TCP keeps each link in order); else shuffle what is due. */
  fifo: boolean;

  constructor(options: ClusterOptions) {
    assert(options.nodes >= 1, `a cluster needs at least one node, got ${options.nodes}`);
    this.prng = new Sfc32(options.seed);
    this.network = new SimNetwork(this.prng.fork());
    this.network.onDrop = (m) => this.lost(m);
    const total = options.nodes + (options.spares ?? 0);
    this.ids = Array.from({ length: total }, (_, i) => nodeId(i + 1));
    this.founders = this.ids.slice(0, options.nodes);
    this.configuration = { voters: this.founders, votersOutgoing: [], learners: [] };
    this.traceLines = options.trace === true ? [] : null;
    this.traceLinesMax = options.traceLinesMax ?? 4000;
    this.fifo = options.fifo === true;
    for (const id of this.ids) {
      const founders = this.founders.includes(id) ? this.founders : null;
      const node = new SimNode(id, founders, options.raft, this.prng.fork());
      node.onRead = (requestId, index) => this.readConfirmed(node.id, requestId, index);
      node.durableLogOf = (other) => this.node(other).storage;
      node.start();
      this.nodes.set(id, node);
    }
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }

  trace(line: string | (() => string)): void {
    if (this.traceLines === null) return;
    this.traceLines.push(`[${this.now}] ${typeof line === "string" ? line : line()}`);
    if (this.traceLines.length > this.traceLinesMax) this.traceLines.splice(0, this.traceLinesMax / 4);
  }

  traceTail(lines: number): string[] {
    return (this.traceLines ?? []).slice(-lines);
  }

  private readonly send = (m: Message): void => {
    this.trace(() => `send ${describeMessage(m)}`);
    if (m.type === MessageType.InstallSnapshot) {
      // The snapshot's data travels beside the message, as the driver streams it.
      const stored = this.node(m.from).storage.snapshotAt(m.meta.index);
      assert(stored !== null, `node ${m.from} offers snapshot ${m.meta.index} it does not hold`);
      this.snapshotData.set(m, stored.state);
    }
    this.network.send(m, this.now);
  };

  /** A snapshot that never arrived: its sender hears of it (after the current turn). */
  private lost(m: Message): void {
    if (m.type === MessageType.InstallSnapshot) this.snapshotReports.push({ m, ok: false });
  }

  /** Tells leaders how their snapshot transfers ended, as a transport reports a stream's end. */
  private reportSnapshots(): void {
    const reports = this.snapshotReports;
    this.snapshotReports = [];
    for (const { m, ok } of reports) {
      const sender = this.node(m.from);
      if (sender.raft === null) continue;
      if (!this.reachable(sender)) {
        this.snapshotReports.push({ m, ok }); // heard when the process resumes
        continue;
      }
      sender.raft.reportSnapshot(m.to, ok);
      this.process(sender);
    }
  }

  /** Runs a node's pending turns; a crash point set by the nemesis may end it. */
  process(node: SimNode): void {
    const before = node.raft?.softState();
    if (!node.process(this.send, this.checker)) {
      this.crashes++;
      this.trace(`node ${node.id} crashed mid-turn`);
      return;
    }
    if ((node.raft?.confLog.lastIndex() ?? 0) > 1) this.membershipChanged = true;
    const after = node.raft?.softState();
    if (after !== undefined && (before?.role !== after.role || before.term !== after.term)) {
      this.trace(`node ${node.id} is ${roleName(after.role)} of term ${after.term}`);
    }
    if (this.nodes.size > 0) this.checkDurability();
  }

  /**
   * The last committed entry must be durable on a majority. Checked while the founding
   * configuration holds: after membership changes "a majority" depends on which configuration
   * committed it, and the other invariants carry the check.
   */
  checkDurability(): void {
    if (this.membershipChanged) return;
    this.checker.checkCommittedDurable(this.configuration.voters, (id) => this.node(id).storage);
  }

  deliver(m: Message): void {
    const node = this.node(m.to);
    if (node.raft === null) {
      this.lost(m);
      return;
    }
    if (this.now < node.pausedUntil) {
      // A stopped process reads its socket only when it resumes.
      this.network.requeue(m, node.pausedUntil);
      return;
    }
    this.trace(() => `recv ${describeMessage(m)}`);
    if (m.type === MessageType.AppendResponse && !m.success) this.rejections++;
    if (m.type === MessageType.InstallSnapshot) {
      const state = this.snapshotData.get(m);
      assert(state !== undefined, `snapshot ${m.meta.index} arrived without its data`);
      // Received, verified and stored by the driver before the core sees the offer (which it
      // may turn down: a stale term, or entries it already has).
      node.storage.storeSnapshot(m.meta, state);
      node.storage.retainSnapshots(retainedSnapshots, node.appliedIndex);
      this.snapshotReports.push({ m, ok: true });
    }
    if (m.type === MessageType.Append || m.type === MessageType.InstallSnapshot) {
      node.quiesce(this.checker);
    }
    node.raft.step(m);
    this.process(node);
  }

  /** One tick of virtual time: deliver what is due, then every running node ticks once. */
  tick(): void {
    this.now++;
    this.drainQueuedReads();
    for (const m of this.network.takeDue(this.now, !this.fifo)) this.deliver(m);
    this.reportSnapshots();
    for (const node of this.nodes.values()) {
      if (node.raft === null || this.now < node.pausedUntil) continue;
      node.raft.tick();
      this.process(node);
    }
  }

  tickNode(id: NodeId): void {
    const node = this.node(id);
    if (node.raft === null) return;
    node.raft.tick();
    this.process(node);
  }

  /** Delivers every message in flight, and the answers they cause, until none is left. */
  stabilize(roundsMax = 1000): void {
    for (let round = 0; round < roundsMax; round++) {
      const due = this.network.takeDue(Infinity, !this.fifo);
      if (due.length === 0) return;
      for (const m of due) this.deliver(m);
    }
    throw new Error(`network did not settle within ${roundsMax} rounds`);
  }

  /**
   * Proposes commands at `id`, following a NotLeader redirect once. Returns the index of the
   * last command, or null if no leader took them.
   */
  propose(id: NodeId, commands: readonly string[]): number | null {
    const data = commands.map((c) => new TextEncoder().encode(c));
    let target = this.node(id);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (target.raft === null || !this.reachable(target)) return null;
      try {
        const proposed = target.raft.propose(data);
        this.trace(`node ${target.id} accepted ${commands.join(",")} at ${proposed.lastIndex}`);
        this.process(target);
        return proposed.lastIndex;
      } catch (error) {
        if (error instanceof ProposalDroppedError) return null;
        if (!(error instanceof NotLeaderError) || error.leaderId === null) return null;
        target = this.node(error.leaderId);
      }
    }
    return null;
  }

  /** Proposes a membership change at the leader `id`; counts it if the leader takes it. */
  changeMembership(id: NodeId, request: ConfChangeRequest): boolean {
    const node = this.node(id);
    if (node.raft === null || !this.reachable(node)) return false;
    try {
      const proposed = node.raft.proposeConfChange(request);
      this.confChanges++;
      this.trace(() => `node ${id} proposed ${JSON.stringify(request)} at ${proposed.lastIndex}`);
    } catch (error) {
      const refused = error instanceof ProposalDroppedError || error instanceof ConfChangeError;
      if (!refused && !(error instanceof NotLeaderError)) throw error;
      return false;
    }
    this.process(node);
    return true;
  }

  /** Asks `id` for a linearizable read (following one redirect); false if nobody took it. */
  read(id: NodeId): boolean {
    let target = this.node(id);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (target.raft === null) return false;
      if (!this.reachable(target)) {
        // The request waits in the socket until the process resumes.
        target.queuedReads.push(this.checker.committedIndex);
        return true;
      }
      const leaderId = this.askRead(target, this.checker.committedIndex);
      if (leaderId === undefined) return true;
      if (leaderId === null) return false;
      target = this.node(leaderId);
    }
    return false;
  }

  /** Returns undefined if the node took the read, else the leader it names (or null). */
  private askRead(node: SimNode, committedAtRequest: number): NodeId | null | undefined {
    if (node.raft === null) return null;
    try {
      const requestId = ++this.readSeq;
      node.raft.requestRead(requestId);
      this.reads.set(requestId, committedAtRequest);
      this.process(node);
      return undefined;
    } catch (error) {
      if (!(error instanceof NotLeaderError)) throw error;
      return error.leaderId;
    }
  }

  /** A resumed node handles the reads that queued up while it was paused. */
  private drainQueuedReads(): void {
    for (const node of this.nodes.values()) {
      if (node.queuedReads.length === 0 || !this.reachable(node)) continue;
      const queued = node.queuedReads;
      node.queuedReads = [];
      for (const committedAtRequest of queued) this.askRead(node, committedAtRequest);
    }
  }

  private readConfirmed(id: NodeId, requestId: number, index: number): void {
    const committedAtRequest = this.reads.get(requestId);
    if (committedAtRequest === undefined) return;
    this.reads.delete(requestId);
    this.readsConfirmed++;
    this.trace(`node ${id} confirmed read ${requestId} at ${index}`);
    this.checker.onRead(id, requestId, index, committedAtRequest);
  }

  crash(id: NodeId, point: CrashPoint = CrashPoint.BetweenTurns): void {
    const node = this.node(id);
    if (node.raft === null) return;
    if (point === CrashPoint.BetweenTurns) {
      node.crash();
      this.crashes++;
      this.trace(`node ${id} crashed`);
    } else {
      node.crashAt = point;
    }
  }

  /** Stops a node's process for `ticks` ticks, as SIGSTOP would; it resumes where it was. */
  pause(id: NodeId, ticks: number): void {
    const node = this.node(id);
    if (node.raft === null) return;
    node.pausedUntil = this.now + ticks;
    this.pauses++;
    this.trace(`node ${id} paused for ${ticks} ticks`);
  }

  resumeAll(): void {
    for (const node of this.nodes.values()) node.pausedUntil = 0;
  }

  /** A running process that is not paused: clients can reach it. */
  reachable(node: SimNode): boolean {
    return node.raft !== null && this.now >= node.pausedUntil;
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (node.raft !== null || node.lost) return;
    const raft = node.start();
    this.trace(`node ${id} restarted at term ${raft.term}`);
    this.process(node);
  }

  /** The leader with the highest term among running nodes, if any. */
  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const node of this.nodes.values()) {
      const raft = node.raft;
      if (raft === null || raft.role !== Role.Leader) continue;
      if (best === null || raft.term > (best.raft?.term ?? 0)) best = node;
    }
    return best;
  }

  /** Leader turns, over all nodes, that handed their write off instead of waiting for it. */
  writesHandedOff(): number {
    return [...this.nodes.values()].reduce((sum, n) => sum + n.writesHandedOff, 0);
  }

  /** Snapshots taken by nodes and installed from a leader. */
  snapshots(): { taken: number; installed: number } {
    let taken = 0;
    let installed = 0;
    for (const node of this.nodes.values()) {
      taken += node.snapshots;
      installed += node.snapshotInstalls;
    }
    return { taken, installed };
  }

  disksLost(): number {
    return [...this.nodes.values()].filter((n) => n.lost).length;
  }

  /** The server's disk is gone for good: it never restarts (a new server must replace it). */
  loseDisk(id: NodeId): void {
    const node = this.node(id);
    if (node.raft !== null) node.crash();
    node.lost = true;
    this.trace(`node ${id} lost its disk`);
  }

  leaderChanges(): number {
    return this.checker.leaders().size;
  }
}

export { Violation };
