// The linearization search for one key of a register history: Wing & Gong's algorithm with
// Lowe's just-in-time linearization and memoization of (linearized set, register state) pairs,
// the approach Porcupine takes (written here from the papers, not from Porcupine's code).
//
// The ops are laid out as a doubly linked list of call and return entries sorted by time. The
// search walks the list: at a call it tries to linearize that op now (the model must accept it,
// and the new (set, state) pair must be unseen), lifting its call and return out of the list; at
// a return it has met an op that must already have been linearized, so it backtracks. Info ops
// return at +infinity: once the walk reaches such a return every op left is an info op, which
// may never have taken effect, so the history is linearizable.
//
// Two reductions for registers, both keeping the answer exact:
// - info ops that no op could observe are removed first: whether they happened makes no
//   difference, and each one left pending would double the states an exhaustive search visits;
// - a read that matches the current state and may be linearized now is linearized first with no
//   alternative tried (it changes no state, so deferring it never helps): concurrent reads then
//   add no choice points. With these, a history of 20,000 ops over 10 processes and 5 keys
//   checks in well under a second; past ~20 ops concurrently pending on one key the search can
//   still grow exponentially, and the budget then answers "unknown".

import { assert } from "../../src/assert.js";
import type { CompletedOp, Scalar } from "./history.js";
import { withoutUnobservedInfo } from "./observers.js";

/** Shared work limits for every search of one check; exhausting one gives "unknown". */
export class Budget {
  stepsLeft: number;
  statesLeft: number;
  readonly deadlineMs: number;

  constructor(maxSteps: number, maxStates: number, timeLimitMs: number) {
    assert(maxSteps > 0 && maxStates > 0, `budget ${maxSteps} steps, ${maxStates} states`);
    assert(timeLimitMs > 0, `time limit ${timeLimitMs} ms must be positive`);
    this.stepsLeft = maxSteps;
    this.statesLeft = maxStates;
    this.deadlineMs = performance.now() + timeLimitMs;
  }

  /** Why the search must stop, or null. Reads the clock only every 4096 steps. */
  spend(): string | null {
    this.stepsLeft -= 1;
    if (this.stepsLeft < 0) return "step budget exhausted";
    if (this.statesLeft < 0) return "state budget exhausted";
    if ((this.stepsLeft & 0xfff) === 0 && performance.now() > this.deadlineMs) {
      return "time limit reached";
    }
    return null;
  }
}

export type SearchOutcome =
  | { readonly kind: "valid" }
  | { readonly kind: "invalid" }
  | { readonly kind: "unknown"; readonly reason: string };

const Kind = { Read: 0, Write: 1, Cas: 2 } as const;
const NIL = -1;

/** The ops as flat arrays; register values are interned to small ids, null (absent) is 0. */
interface Model {
  readonly count: number;
  readonly kind: Uint8Array;
  /** read: the value read; write: the value written; cas: the expected value. */
  readonly first: Int32Array;
  /** cas: the new value. */
  readonly second: Int32Array;
  readonly info: Uint8Array;
}

function encode(ops: readonly CompletedOp[]): Model {
  const ids = new Map<Scalar | null, number>([[null, 0]]);
  const intern = (value: unknown): number => {
    assert(value === null || typeof value === "string" || typeof value === "number",
      () => `register value ${JSON.stringify(value)} is not a scalar or null`);
    let id = ids.get(value);
    if (id === undefined) {
      id = ids.size;
      ids.set(value, id);
    }
    return id;
  };
  const count = ops.length;
  const model: Model = {
    count,
    kind: new Uint8Array(count),
    first: new Int32Array(count),
    second: new Int32Array(count),
    info: new Uint8Array(count),
  };
  ops.forEach((op, index) => {
    assert(op.type !== "fail", `op ${index} failed: failed ops are removed before the search`);
    assert(op.f !== "read" || op.type === "ok", `op ${index}: only ok reads are searched`);
    model.info[index] = op.type === "info" ? 1 : 0;
    if (op.f === "read") {
      model.kind[index] = Kind.Read;
      model.first[index] = intern(op.resultValue);
    } else if (op.f === "write") {
      model.kind[index] = Kind.Write;
      model.first[index] = intern(op.invokeValue);
    } else {
      assert(op.f === "cas", `op ${index}: f ${op.f} is not a register op`);
      const pair = op.invokeValue as readonly unknown[];
      model.kind[index] = Kind.Cas;
      model.first[index] = intern(pair[0]);
      model.second[index] = intern(pair[1]);
    }
  });
  return model;
}

/** The state after linearizing op `index` in `state`, or -1 if the register forbids it. */
function step(model: Model, index: number, state: number): number {
  const kind = model.kind[index];
  const first = model.first[index] ?? NIL;
  if (kind === Kind.Write) return first;
  if (first !== state) return -1;
  return kind === Kind.Read ? state : (model.second[index] ?? NIL);
}

/**
 * Entries: node 0 is the head; node 2i+1 is op i's call and 2i+2 its return. Sorted by time with
 * calls before returns at equal times (touching intervals count as concurrent: the checker must
 * not blame a history for clock granularity).
 */
interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
}

function buildList(ops: readonly CompletedOp[]): EntryList {
  const nodes: number[] = [];
  for (let i = 0; i < ops.length; i += 1) nodes.push(2 * i + 1, 2 * i + 2);
  const timeOf = (node: number): number => {
    const op = ops[(node - 1) >> 1];
    assert(op !== undefined, `entry ${node} has no op`);
    return node % 2 === 1 ? op.start : op.end;
  };
  const times = new Float64Array(nodes.length + 1);
  for (const node of nodes) times[node] = timeOf(node);
  nodes.sort((a, b) => {
    const byTime = (times[a] ?? 0) - (times[b] ?? 0);
    if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
    if (a % 2 !== b % 2) return a % 2 === 1 ? -1 : 1;
    return a - b;
  });
  const next = new Int32Array(nodes.length + 1).fill(NIL);
  const prev = new Int32Array(nodes.length + 1).fill(NIL);
  let last = 0;
  for (const node of nodes) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  return { next, prev };
}

function at(array: Int32Array, index: number): number {
  const value = array[index];
  assert(value !== undefined, `entry index ${index} out of range ${array.length}`);
  return value;
}

/** Takes op's call and return out of the list (their own links are kept for unlift). */
function lift(list: EntryList, call: number): void {
  const { next, prev } = list;
  const ret = call + 1;
  next[at(prev, call)] = at(next, call);
  prev[at(next, call)] = at(prev, call);
  next[at(prev, ret)] = at(next, ret);
  if (at(next, ret) !== NIL) prev[at(next, ret)] = at(prev, ret);
}

/** Undoes the most recent lift still in effect. */
function unlift(list: EntryList, call: number): void {
  const { next, prev } = list;
  const ret = call + 1;
  next[at(prev, ret)] = ret;
  if (at(next, ret) !== NIL) prev[at(next, ret)] = ret;
  next[at(prev, call)] = call;
  prev[at(next, call)] = call;
}

interface CacheEntry {
  readonly state: number;
  /** Words before `from` are all ones; words from `from + words.length` on are all zero. */
  readonly from: number;
  readonly words: Uint32Array;
}

/**
 * The visited (linearized set, state) pairs. The set is mostly a run of early ops all linearized
 * plus a few later ones, so an entry keeps only the words between the full run and the zero tail.
 */
class VisitedCache {
  private readonly buckets = new Map<number, CacheEntry[]>();

  /** Adds the pair; false when it was already there. */
  add(bits: Uint32Array, hash: number, state: number): boolean {
    let from = 0;
    while (from < bits.length && bits[from] === 0xffffffff) from += 1;
    let to = bits.length;
    while (to > from && bits[to - 1] === 0) to -= 1;
    const key = (hash ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    const bucket = this.buckets.get(key);
    const candidate = { state, from, words: bits.slice(from, to) };
    if (bucket === undefined) {
      this.buckets.set(key, [candidate]);
      return true;
    }
    if (bucket.some((entry) => sameEntry(entry, candidate))) return false;
    bucket.push(candidate);
    return true;
  }
}

function sameEntry(a: CacheEntry, b: CacheEntry): boolean {
  if (a.state !== b.state || a.from !== b.from || a.words.length !== b.words.length) return false;
  for (let i = 0; i < a.words.length; i += 1) if (a.words[i] !== b.words[i]) return false;
  return true;
}

/** A fixed pseudo-random 32-bit word per op (Zobrist hashing of the linearized set). */
function zobrist(index: number): number {
  let z = Math.imul(index + 0x632be5ab, 0x9e3779b1);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The search's mutable position: the linearized set, the state, and the choices made. */
class Search {
  private readonly cache = new VisitedCache();
  private readonly bits: Uint32Array;
  private readonly keys: Int32Array;
  /** Per depth: the call lifted, the state before it, and whether it was forced (a read). */
  private readonly stackCall: Int32Array;
  private readonly stackState: Int32Array;
  private readonly stackForced: Uint8Array;
  private depth = 0;
  private hash = 0;
  state = 0;

  constructor(
    private readonly model: Model,
    readonly list: EntryList,
    private readonly budget: Budget,
  ) {
    this.bits = new Uint32Array(Math.ceil(model.count / 32));
    this.keys = Int32Array.from({ length: model.count }, (_, i) => zobrist(i));
    this.stackCall = new Int32Array(model.count);
    this.stackState = new Int32Array(model.count);
    this.stackForced = new Uint8Array(model.count);
  }

  private flip(index: number): void {
    this.bits[index >> 5] = (this.bits[index >> 5] ?? 0) ^ (1 << (index & 31));
    this.hash = (this.hash ^ at(this.keys, index)) >>> 0;
  }

  /** Linearizes the op of `call` now if the model allows it and the result is unseen. */
  tryLinearize(call: number, after: number): boolean {
    const index = (call - 1) >> 1;
    this.flip(index);
    if (!this.cache.add(this.bits, this.hash, after)) {
      this.flip(index);
      return false;
    }
    this.budget.statesLeft -= 1;
    this.stackCall[this.depth] = call;
    this.stackState[this.depth] = this.state;
    this.stackForced[this.depth] = this.model.kind[index] === Kind.Read ? 1 : 0;
    this.depth += 1;
    this.state = after;
    lift(this.list, call);
    return true;
  }

  /**
   * Undoes the last choice, and the forced reads above it: the node to try next, or NIL when
   * nothing is left to undo (the history is not linearizable).
   */
  backtrack(): number {
    for (;;) {
      if (this.depth === 0) return NIL;
      this.depth -= 1;
      const call = at(this.stackCall, this.depth);
      this.state = at(this.stackState, this.depth);
      this.flip((call - 1) >> 1);
      unlift(this.list, call);
      if (this.stackForced[this.depth] === 0) return at(this.list.next, call);
    }
  }

  /**
   * Where to go in a new position: a read that matches the state and may be linearized now, if
   * any (then it is forced: linearizing it first loses no linearization, as it changes no state
   * and every op that must precede it is already linearized), else the first entry.
   */
  firstNode(): number {
    const { next } = this.list;
    for (let node = at(next, 0); node !== NIL && node % 2 === 1; node = at(next, node)) {
      const index = (node - 1) >> 1;
      if (this.model.kind[index] === Kind.Read && this.model.first[index] === this.state) {
        return node;
      }
    }
    return at(next, 0);
  }
}

/**
 * Decides whether one key's ops are linearizable. `ops` hold no failed ops and no info reads;
 * info writes and cas have end = Infinity.
 */
export function searchRegister(given: readonly CompletedOp[], budget: Budget): SearchOutcome {
  // Info ops nobody could observe would only multiply the states to explore (see observers.ts).
  const ops = withoutUnobservedInfo(given);
  const model = encode(ops);
  const search = new Search(model, buildList(ops), budget);
  const { next } = search.list;
  let node = search.firstNode();
  while (at(next, 0) !== NIL) {
    const stop = budget.spend();
    if (stop !== null) return { kind: "unknown", reason: stop };
    const index = (node - 1) >> 1;
    if (node % 2 === 0) {
      // A return: everything left is info if this is an info return; else undo the last choice.
      if (model.info[index] === 1) return { kind: "valid" };
      node = search.backtrack();
      if (node === NIL) return { kind: "invalid" };
      continue;
    }
    const after = step(model, index, search.state);
    if (after >= 0 && search.tryLinearize(node, after)) {
      node = search.firstNode();
    } else if (after >= 0 && model.kind[index] === Kind.Read) {
      // A forced read into a position already explored: this position fails too.
      node = search.backtrack();
      if (node === NIL) return { kind: "invalid" };
    } else {
      node = at(next, node);
    }
  }
  return { kind: "valid" };
}
