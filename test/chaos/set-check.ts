// The set workload checker: clients add unique elements to a set and, once the faults are over,
// read the whole set; every acknowledged add must be in that final read, and nothing may appear
// that was never added.
//
// History format (an extension of the register format in CONTRACTS.md, same fields):
//   add:  {"f":"add","key":SET,"value":ELEMENT,...} invoke, then ok | fail | info with the same
//         value. Each element is added at most once (unique writes).
//   read: {"f":"read","key":SET,"value":null,...} invoke, then ok with "value" the array of the
//         elements present.
// The key names the set. Elements are strings or numbers, compared by their string form.
// The final read is the ok read of the set that completed last. An add still running when that
// read was invoked (ok after the read's invoke, or info) may or may not be in it.

import { type CompletedOp, HistoryError, type Scalar } from "./history.js";

export interface SetCheckResult {
  /** Acknowledged adds that completed before the final read began, yet are absent from it. */
  readonly lost: string[];
  /** Elements in the final read that no add ever attempted. */
  readonly unexpected: string[];
  /** Elements in the final read whose add failed (definitely not applied). */
  readonly failedPresent: string[];
  /** Acknowledged adds present in the final read (including ones concurrent with it). */
  readonly ok: number;
  /** Adds of unknown outcome (info) present in the final read. */
  readonly unknownPresent: number;
  /** No element lost, unexpected or present after a failed add. */
  readonly valid: boolean;
}

function finalRead(ops: readonly CompletedOp[], key: string): CompletedOp {
  let last: CompletedOp | null = null;
  for (const op of ops) {
    if (op.f !== "read" || op.type !== "ok") continue;
    if (!Array.isArray(op.resultValue)) {
      throw new HistoryError(`set ${key}: p${op.process}'s read did not return an array`);
    }
    if (last === null || op.end > last.end) last = op;
  }
  if (last === null) throw new HistoryError(`set ${key}: no ok read of the whole set`);
  return last;
}

/** The adds by element; throws when an element is added twice (the workload needs unique adds). */
function addsByElement(ops: readonly CompletedOp[], key: string): Map<string, CompletedOp> {
  const adds = new Map<string, CompletedOp>();
  for (const op of ops) {
    if (op.f !== "add") continue;
    const element = String(op.invokeValue as Scalar);
    if (adds.has(element)) throw new HistoryError(`set ${key}: element ${element} added twice`);
    adds.set(element, op);
  }
  return adds;
}

/** Checks the set named `key` (ops of other keys are ignored). */
export function checkSet(ops: readonly CompletedOp[], key: string): SetCheckResult {
  const mine = ops.filter((op) => op.key === key);
  for (const op of mine) {
    if (op.f !== "add" && op.f !== "read") {
      throw new HistoryError(`set ${key}: p${op.process}'s ${op.f} is not a set op`);
    }
  }
  const read = finalRead(mine, key);
  const present = new Set((read.resultValue as readonly Scalar[]).map(String));
  const adds = addsByElement(mine, key);
  const lost: string[] = [];
  const unexpected: string[] = [];
  const failedPresent: string[] = [];
  let ok = 0;
  let unknownPresent = 0;
  for (const [element, add] of adds) {
    const isPresent = present.has(element);
    const settled = add.type === "ok" && add.end < read.start;
    if (add.type === "fail") {
      if (isPresent) failedPresent.push(element);
    } else if (settled) {
      if (isPresent) ok += 1;
      else lost.push(element);
    } else if (isPresent) {
      if (add.type === "ok") ok += 1;
      else unknownPresent += 1;
    }
  }
  for (const element of present) if (!adds.has(element)) unexpected.push(element);
  const valid = lost.length === 0 && unexpected.length === 0 && failedPresent.length === 0;
  return { lost, unexpected, failedPresent, ok, unknownPresent, valid };
}
