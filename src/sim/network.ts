// A simulated network: messages wait in flight until their delivery tick, and may be dropped,
// duplicated, delayed (hence reordered) or blocked by a partition, one-way links included.

import type { Message } from "../core/messages.js";
import type { NodeId } from "../core/types.js";
import type { Sfc32 } from "../core/prng.js";

export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate: number;
  /** Delivery takes between delayMin and delayMax ticks (uniform). */
  readonly delayMin: number;
  readonly delayMax: number;
  /** Probability that a message is held back far longer (up to longDelayMax ticks). */
  readonly longDelayRate: number;
  readonly longDelayMax: number;
}

export const reliableNetwork: NetworkFaults = {
  dropRate: 0,
  duplicateRate: 0,
  delayMin: 1,
  delayMax: 1,
  longDelayRate: 0,
  longDelayMax: 1,
};

interface InFlight {
  readonly message: Message;
  readonly deliverAt: number;
  readonly seq: number;
}

export class SimNetwork {
  faults: NetworkFaults = reliableNetwork;
  private inFlight: InFlight[] = [];
  private readonly blocked = new Set<string>();
  private seq = 0;
  sent = 0;
  dropped = 0;
  /** Told of every message lost (a real transport reports a failed snapshot stream). */
  onDrop: (message: Message) => void = () => {};

  constructor(private readonly prng: Sfc32) {}

  /** Queues a message sent at tick `now`. */
  send(message: Message, now: number): void {
    this.sent++;
    const f = this.faults;
    if (f.dropRate > 0 && this.prng.chance(f.dropRate)) {
      this.dropped++;
      this.onDrop(message);
      return;
    }
    const copies = f.duplicateRate > 0 && this.prng.chance(f.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.inFlight.push({ message, deliverAt: now + this.delay(), seq: this.seq++ });
    }
  }

  /** Holds a message back until `deliverAt` (its receiver is paused), with no fault applied. */
  requeue(message: Message, deliverAt: number): void {
    this.inFlight.push({ message, deliverAt, seq: this.seq++ });
  }

  private delay(): number {
    const f = this.faults;
    if (f.longDelayRate > 0 && this.prng.chance(f.longDelayRate)) {
      return f.delayMin + this.prng.nextInt(Math.max(1, f.longDelayMax - f.delayMin + 1));
    }
    return f.delayMin + this.prng.nextInt(f.delayMax - f.delayMin + 1);
  }

  /**
   * Removes and returns the messages due at `now` whose link is open, in a shuffled order
   * (or in sending order when `shuffle` is false). Messages on a cut link are lost.
   */
  takeDue(now: number, shuffle: boolean): Message[] {
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const m of this.inFlight) (m.deliverAt <= now ? due : later).push(m);
    this.inFlight = later;
    const open = due.filter((m) => {
      const ok = this.linkOpen(m.message.from, m.message.to);
      if (!ok) {
        this.dropped++;
        this.onDrop(m.message);
      }
      return ok;
    });
    if (!shuffle) return open.sort((a, b) => a.seq - b.seq).map((m) => m.message);
    for (let i = open.length - 1; i > 0; i--) {
      const j = this.prng.nextInt(i + 1);
      const tmp = open[i] as InFlight;
      open[i] = open[j] as InFlight;
      open[j] = tmp;
    }
    return open.map((m) => m.message);
  }

  /** Removes pending messages matching the filter (all when none is given). */
  discard(filter: (m: Message) => boolean = () => true): number {
    const before = this.inFlight.length;
    this.inFlight = this.inFlight.filter((m) => !filter(m.message));
    return before - this.inFlight.length;
  }

  /** Pending messages, in sending order. */
  pending(): Message[] {
    return [...this.inFlight].sort((a, b) => a.seq - b.seq).map((m) => m.message);
  }

  /** Removes the first `count` pending messages on from->to and returns them. */
  takeLink(from: NodeId, to: NodeId, count: number): Message[] {
    const picked = this.pending().filter((m) => m.from === from && m.to === to).slice(0, count);
    const set = new Set(picked);
    this.inFlight = this.inFlight.filter((m) => !set.has(m.message));
    return picked;
  }

  cut(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Opens the one-way link from->to again. */
  restore(from: NodeId, to: NodeId): void {
    this.blocked.delete(`${from}>${to}`);
  }

  linkOpen(from: NodeId, to: NodeId): boolean {
    return this.blocked.size === 0 || !this.blocked.has(`${from}>${to}`);
  }

  /** Cuts every link between the groups (nodes in no group keep all their links). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut(x, y);
      }
    }
  }

  isolate(id: NodeId, all: readonly NodeId[]): void {
    for (const other of all) {
      if (other === id) continue;
      this.cut(id, other);
      this.cut(other, id);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }
}
