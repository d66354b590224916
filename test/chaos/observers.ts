// Which ops of a register history could observe which writes. An op observes a write or cas W
// when it needs the register to hold W's written value (a read's result, a cas's expectation)
// and it ends at or after W's invoke: any op linearized after W ends after W's invoke, so an op
// that ended earlier can never see W's value.
//
// A write or cas that nothing observes changes nothing any op sees: in a linearization, the ops
// between it and the next change of the register all saw its value, so they can only be writes,
// and taking it out leaves a linearization. Hence an unobserved info op (which need not happen)
// can be removed without changing whether the history is linearizable, and an unobserved op of
// any kind can be dropped while shrinking a witness (a relaxation).

import { assert } from "../../src/assert.js";
import type { CompletedOp, Scalar } from "./history.js";

/** The value an op needs the register to hold: a read's result, a cas's expectation. */
export function needed(op: CompletedOp): Scalar | null {
  if (op.f === "read") return op.resultValue as Scalar | null;
  if (op.f === "cas") return (op.invokeValue as readonly (Scalar | null)[])[0] ?? null;
  return null;
}

/** The value an op puts in the register, or null for a read. */
export function written(op: CompletedOp): Scalar | null {
  if (op.f === "write") return op.invokeValue as Scalar;
  if (op.f === "cas") return (op.invokeValue as readonly (Scalar | null)[])[1] ?? null;
  return null;
}

/** The ops still kept, indexed by the value they need and the value they write. */
export class ObserverIndex {
  private readonly readersByValue = new Map<Scalar, CompletedOp[]>();
  private readonly writersByValue = new Map<Scalar, CompletedOp[]>();
  private readonly removed = new Set<CompletedOp>();

  constructor(ops: readonly CompletedOp[]) {
    for (const op of ops) {
      const need = needed(op);
      if (need !== null) push(this.readersByValue, need, op);
      const value = written(op);
      if (value !== null) push(this.writersByValue, value, op);
    }
  }

  remove(op: CompletedOp): void {
    assert(!this.removed.has(op), "an op removed twice from the observer index");
    this.removed.add(op);
  }

  has(op: CompletedOp): boolean {
    return !this.removed.has(op);
  }

  /** Whether some kept op other than `writer` itself observes it. */
  isObserved(writer: CompletedOp): boolean {
    const value = written(writer);
    if (value === null) return false;
    const readers = this.readersByValue.get(value) ?? [];
    return readers.some((r) => r !== writer && !this.removed.has(r) && r.end >= writer.start);
  }

  /** Kept writers whose value `op` needed: they may have lost their last observer. */
  writersNeededBy(op: CompletedOp): CompletedOp[] {
    const value = needed(op);
    if (value === null) return [];
    return (this.writersByValue.get(value) ?? []).filter((w) => !this.removed.has(w));
  }
}

function push(map: Map<Scalar, CompletedOp[]>, key: Scalar, op: CompletedOp): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [op]);
  else list.push(op);
}

/**
 * Removes every info write or cas that no kept op observes, until none is left (removing an info
 * cas can leave the writer of its expected value unobserved). Order is kept.
 */
export function withoutUnobservedInfo(ops: readonly CompletedOp[]): CompletedOp[] {
  const index = new ObserverIndex(ops);
  const work = ops.filter((op) => op.type === "info" && op.f !== "read");
  while (work.length > 0) {
    const op = work.pop() as CompletedOp;
    if (!index.has(op) || index.isObserved(op)) continue;
    index.remove(op);
    for (const writer of index.writersNeededBy(op)) if (writer.type === "info") work.push(writer);
  }
  return ops.filter((op) => index.has(op));
}
