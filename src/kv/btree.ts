// An in-memory, copy-on-write B+tree of records with a string key (key-value records, or the
// expiry index's entries), ordered by `compareKeys`.
//
// Why copy-on-write: `snapshot()` must see the state as of its call while later commands keep
// applying, and it must stream a state of any size. `freeze()` is O(1): it returns the current
// root and bumps the tree's generation. Every node carries the generation that created it; a
// write copies each node on its path whose generation is older (at most ~4 nodes of 64 slots for
// a million keys) and mutates nodes of the current generation in place. A frozen root therefore
// never changes, and the extra memory is proportional to what is written while a snapshot is
// being read, not to the size of the state. Records are immutable and shared.
//
// Insert, delete and lookup are O(log n); iteration from a key is O(log n + k).

import { assert } from "../assert.js";
import { compareKeys, isLowKey } from "./keys.js";
import type { KvRecord } from "./types.js";

/** What the tree stores: anything immutable with a string key. */
export interface Keyed {
  readonly key: string;
}

export const nodeSlotsMax = 64;
export const nodeSlotsMin = 16;
/** Slots per node in a bulk-loaded tree: room to insert before the first split. */
const bulkFill = 48;

export interface Leaf<R extends Keyed = KvRecord> {
  readonly leaf: true;
  gen: number;
  keys: string[];
  records: R[];
}

export interface Branch<R extends Keyed = KvRecord> {
  readonly leaf: false;
  gen: number;
  /** keys[i] is <= every key in children[i + 1] and > every key in children[i]. */
  keys: string[];
  children: BNode<R>[];
}

export type BNode<R extends Keyed = KvRecord> = Leaf<R> | Branch<R>;

/** A root that no write will ever change (see `freeze`). */
export interface FrozenTree<R extends Keyed = KvRecord> {
  readonly root: BNode<R>;
  readonly count: number;
}

function slots<R extends Keyed>(node: BNode<R>): number {
  return node.leaf ? node.keys.length : node.children.length;
}

/** Index of the first key >= `key`; `low` is `isLowKey(key)` (native comparison is exact). */
function lowerBound(keys: readonly string[], key: string, lowKey: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const k = keys[mid] as string;
    if (lowKey ? k < key : compareKeys(k, key) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The child of `branch` whose range holds `key`: the number of separators <= key. */
function childIndex<R extends Keyed>(branch: Branch<R>, key: string, lowKey: boolean): number {
  const keys = branch.keys;
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const k = keys[mid] as string;
    if (lowKey ? k <= key : compareKeys(k, key) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

export class BTree<R extends Keyed = KvRecord> {
  private root: BNode<R>;
  private gen = 1;
  private count = 0;
  /** `isLowKey` of the key being inserted or removed (checked once per write). */
  private lowKey = false;

  /** `built` comes from a BTreeBuilder: its nodes have generation 0, so they are shared. */
  constructor(built?: FrozenTree<R>) {
    this.root = built?.root ?? { leaf: true, gen: this.gen, keys: [], records: [] };
    this.count = built?.count ?? 0;
    assert(built === undefined || built.root.gen === 0, "a BTree adopts only built nodes");
  }

  get size(): number {
    return this.count;
  }

  /** O(1): the current contents, unchanged by any later write to this tree. */
  freeze(): FrozenTree<R> {
    this.gen++;
    return { root: this.root, count: this.count };
  }

  /** The live root, for a synchronous walk that no write can interleave with. */
  liveRoot(): BNode<R> {
    return this.root;
  }

  get(key: string): R | undefined {
    const lowKey = isLowKey(key);
    let node = this.root;
    while (!node.leaf) node = node.children[childIndex(node, key, lowKey)] as BNode<R>;
    const i = lowerBound(node.keys, key, lowKey);
    return node.keys[i] === key ? node.records[i] : undefined;
  }

  /** Inserts or replaces; returns the record it replaced. */
  set(record: R): R | undefined {
    const root = this.writable(this.root);
    this.root = root;
    const before = this.count;
    this.lowKey = isLowKey(record.key);
    const { previous, split } = this.insert(root, record);
    if (split !== undefined) {
      this.root = { leaf: false, gen: this.gen, keys: [split.key], children: [root, split.right] };
    }
    assert(this.count === before + (previous === undefined ? 1 : 0), "set count");
    return previous;
  }

  /** Removes `key`; returns the record removed. */
  delete(key: string): R | undefined {
    if (this.get(key) === undefined) return undefined; // no copy-on-write for a miss
    const root = this.writable(this.root);
    this.root = root;
    this.lowKey = isLowKey(key);
    const removed = this.remove(root, key);
    assert(removed !== undefined, () => `delete lost key ${key}`);
    if (!root.leaf && root.children.length === 1) this.root = root.children[0] as BNode<R>;
    this.count--;
    return removed;
  }

  private insert(node: BNode<R>, record: R): {
    previous: R | undefined;
    split: { key: string; right: BNode<R> } | undefined;
  } {
    if (node.leaf) {
      const i = lowerBound(node.keys, record.key, this.lowKey);
      if (node.keys[i] === record.key) {
        const previous = node.records[i];
        node.records[i] = record;
        return { previous, split: undefined };
      }
      node.keys.splice(i, 0, record.key);
      node.records.splice(i, 0, record);
      this.count++;
      return { previous: undefined, split: this.maybeSplit(node) };
    }
    const i = childIndex(node, record.key, this.lowKey);
    const child = this.writable(node.children[i] as BNode<R>);
    node.children[i] = child;
    const result = this.insert(child, record);
    if (result.split !== undefined) {
      node.keys.splice(i, 0, result.split.key);
      node.children.splice(i + 1, 0, result.split.right);
    }
    return { previous: result.previous, split: this.maybeSplit(node) };
  }

  private maybeSplit(node: BNode<R>): { key: string; right: BNode<R> } | undefined {
    return slots(node) <= nodeSlotsMax ? undefined : this.splitAt(node, slots(node) >>> 1);
  }

  private remove(node: BNode<R>, key: string): R | undefined {
    if (node.leaf) {
      const i = lowerBound(node.keys, key, this.lowKey);
      if (node.keys[i] !== key) return undefined;
      node.keys.splice(i, 1);
      return node.records.splice(i, 1)[0];
    }
    const i = childIndex(node, key, this.lowKey);
    const child = this.writable(node.children[i] as BNode<R>);
    node.children[i] = child;
    const removed = this.remove(child, key);
    if (slots(child) < nodeSlotsMin && node.children.length > 1) {
      this.rebalance(node, i === node.children.length - 1 ? i - 1 : i);
    }
    return removed;
  }

  /** Merges children i and i + 1 of `parent`, or evens them out when both do not fit in one. */
  private rebalance(parent: Branch<R>, i: number): void {
    const left = this.writable(parent.children[i] as BNode<R>);
    const right = this.writable(parent.children[i + 1] as BNode<R>);
    assert(left.leaf === right.leaf, "siblings at different depths");
    const separator = parent.keys[i] as string;
    const total = slots(left) + slots(right);
    if (left.leaf && right.leaf) {
      left.keys.push(...right.keys);
      left.records.push(...right.records);
    } else if (!left.leaf && !right.leaf) {
      left.keys.push(separator, ...right.keys);
      left.children.push(...right.children);
    }
    if (total <= nodeSlotsMax) {
      parent.keys.splice(i, 1);
      parent.children.splice(i + 1, 1);
      parent.children[i] = left;
      return;
    }
    const split = this.splitAt(left, total >>> 1);
    parent.keys[i] = split.key;
    parent.children[i] = left;
    parent.children[i + 1] = split.right;
  }

  /** Moves slots [half, end) of `node` into a new right sibling; returns its separator. */
  private splitAt(node: BNode<R>, half: number): { key: string; right: BNode<R> } {
    assert(half >= 1 && half < slots(node), () => `split at ${half} of ${slots(node)}`);
    if (node.leaf) {
      const keys = node.keys.splice(half);
      const records = node.records.splice(half);
      const right: Leaf<R> = { leaf: true, gen: this.gen, keys, records };
      return { key: keys[0] as string, right };
    }
    const children = node.children.splice(half);
    const keys = node.keys.splice(half - 1);
    const key = keys.shift() as string;
    assert(keys.length + 1 === children.length, "branch split shape");
    return { key, right: { leaf: false, gen: this.gen, keys, children } };
  }

  private writable<T extends BNode<R>>(node: T): T {
    if (node.gen === this.gen) return node;
    assert(node.gen < this.gen, () => `node generation ${node.gen} > tree ${this.gen}`);
    const copy: BNode<R> = node.leaf
      ? { leaf: true, gen: this.gen, keys: node.keys.slice(), records: node.records.slice() }
      : { leaf: false, gen: this.gen, keys: node.keys.slice(), children: node.children.slice() };
    return copy as T;
  }
}

/** Records of `root` in key order, starting at the first key >= `start`. */
export function* recordsFrom<R extends Keyed>(root: BNode<R>, start = ""):
  Generator<R, void, undefined> {
  const path: { node: Branch<R>; next: number }[] = [];
  const lowKey = isLowKey(start);
  let node = root;
  while (!node.leaf) {
    const i = start === "" ? 0 : childIndex(node, start, lowKey);
    path.push({ node, next: i + 1 });
    node = node.children[i] as BNode<R>;
  }
  let i = start === "" ? 0 : lowerBound(node.keys, start, lowKey);
  for (;;) {
    for (; i < node.records.length; i++) yield node.records[i] as R;
    const leaf = nextLeaf(path);
    if (leaf === undefined) return;
    node = leaf;
    i = 0;
  }
}

/** Climbs `path` to the next unvisited child and descends to its leftmost leaf. */
function nextLeaf<R extends Keyed>(path: { node: Branch<R>; next: number }[]):
  Leaf<R> | undefined {
  let top = path[path.length - 1];
  while (top !== undefined && top.next >= top.node.children.length) {
    path.pop();
    top = path[path.length - 1];
  }
  if (top === undefined) return undefined;
  let node = top.node.children[top.next++] as BNode<R>;
  while (!node.leaf) {
    path.push({ node, next: 1 });
    node = node.children[0] as BNode<R>;
  }
  return node;
}

/**
 * Builds a tree from records in strictly ascending key order in O(n), level by level (used by
 * restore). The caller checks the order; the builder asserts it.
 */
export class BTreeBuilder<R extends Keyed = KvRecord> {
  private readonly leaves: Leaf<R>[] = [];
  private count = 0;
  private lastKey: string | undefined;

  push(record: R): void {
    assert(this.lastKey === undefined || compareKeys(this.lastKey, record.key) < 0,
      () => `builder keys out of order at ${record.key}`);
    this.lastKey = record.key;
    let leaf = this.leaves[this.leaves.length - 1];
    if (leaf === undefined || leaf.keys.length >= bulkFill) {
      leaf = { leaf: true, gen: 0, keys: [], records: [] };
      this.leaves.push(leaf);
    }
    leaf.keys.push(record.key);
    leaf.records.push(record);
    this.count++;
  }

  finish(): FrozenTree<R> {
    let level: BNode<R>[] = this.leaves;
    if (level.length === 0) {
      return { root: { leaf: true, gen: 0, keys: [], records: [] }, count: 0 };
    }
    evenLast(level);
    while (level.length > 1) {
      const parents: Branch<R>[] = [];
      for (let i = 0; i < level.length; i += bulkFill) {
        const children = level.slice(i, i + bulkFill);
        const keys = children.slice(1).map(firstKey);
        parents.push({ leaf: false, gen: 0, keys, children });
      }
      evenLast(parents);
      level = parents;
    }
    return { root: level[0] as BNode<R>, count: this.count };
  }
}

function firstKey<R extends Keyed>(node: BNode<R>): string {
  while (!node.leaf) node = node.children[0] as BNode<R>;
  const key = node.keys[0];
  assert(key !== undefined, "firstKey of an empty leaf");
  return key;
}

/**
 * The last node of a bulk-built level may be short; it takes slots from its full neighbour so
 * that every node but the root has at least `nodeSlotsMin` slots, as after inserts.
 */
function evenLast<R extends Keyed>(level: BNode<R>[]): void {
  const last = level[level.length - 1] as BNode<R>;
  const previous = level[level.length - 2];
  if (previous === undefined || slots(last) >= nodeSlotsMin) return;
  assert(slots(previous) === bulkFill, () => `previous node has ${slots(previous)} slots`);
  const move = nodeSlotsMin - slots(last);
  if (last.leaf && previous.leaf) {
    last.keys.unshift(...previous.keys.splice(previous.keys.length - move));
    last.records.unshift(...previous.records.splice(previous.records.length - move));
  } else if (!last.leaf && !previous.leaf) {
    const separator = firstKey(last);
    const children = previous.children.splice(previous.children.length - move);
    previous.keys.splice(previous.keys.length - move);
    last.keys.unshift(...children.slice(1).map(firstKey), separator);
    last.children.unshift(...children);
  }
}

/** Checks every structural invariant (order, separators, fill, depth, count); for tests. */
export function verifyTree<R extends Keyed>(frozen: FrozenTree<R>): void {
  let seen = 0;
  const leafDepths = new Set<number>();
  const visit = (node: BNode<R>, low: string | undefined, high: string | undefined, depth: number,
    isRoot: boolean) => {
    assert(isRoot || slots(node) >= nodeSlotsMin, () => `node with ${slots(node)} slots`);
    assert(slots(node) <= nodeSlotsMax, () => `node with ${slots(node)} slots`);
    const keys = node.keys;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      assert(low === undefined || compareKeys(low, key) <= 0, () => `key ${key} below ${low}`);
      assert(high === undefined || compareKeys(key, high) < 0, () => `key ${key} >= ${high}`);
      assert(i === 0 || compareKeys(keys[i - 1] as string, key) < 0, "keys not ascending");
    }
    if (node.leaf) {
      assert(node.records.every((r, i) => r.key === keys[i]), "record keys differ from keys");
      seen += keys.length;
      leafDepths.add(depth);
      return;
    }
    assert(node.children.length === keys.length + 1, "branch shape");
    node.children.forEach((child, i) => {
      visit(child, i === 0 ? low : keys[i - 1], i === keys.length ? high : keys[i], depth + 1,
        false);
    });
  };
  visit(frozen.root, undefined, undefined, 0, true);
  assert(seen === frozen.count, () => `tree holds ${seen} records, count says ${frozen.count}`);
  assert(leafDepths.size <= 1, "leaves at different depths");
}
