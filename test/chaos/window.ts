// Cutting and shrinking a non-linearizable register history into a small witness window.
//
// Every transformation here is a relaxation: if the history before it was linearizable, so is the
// history after it. A window produced from an invalid history and itself invalid is therefore a
// genuine witness against the whole history (never an artifact of the shrinking):
// - a cut at time t keeps the ops invoked by t; those still running at t become info (a read
//   among them is dropped): the ops completed by t linearize as before, running ones may or may
//   not have taken effect;
// - dropping a read removes a constraint and changes no state;
// - dropping a write or cas that no remaining op observes (see observers.ts).

import { assert } from "../../src/assert.js";
import type { CompletedOp } from "./history.js";
import { ObserverIndex } from "./observers.js";

export interface ShrinkResult {
  readonly window: CompletedOp[];
  /** True when no single droppable op can be dropped with the window staying invalid. */
  readonly minimal: boolean;
}

/** The history as known at time `t` (see the file comment); order is kept. */
export function cutAt(ops: readonly CompletedOp[], t: number): CompletedOp[] {
  const cut: CompletedOp[] = [];
  for (const op of ops) {
    if (op.start > t) continue;
    if (op.end <= t) cut.push(op);
    else if (op.f !== "read") cut.push({ ...op, type: "info", resultValue: null, end: Infinity });
  }
  return cut;
}

/**
 * The indexes among `chunk` that may be dropped from `ops` together: its reads, then, until
 * nothing changes, each write or cas that no op still kept observes. Dropping them in that order
 * is a sequence of relaxations.
 */
export function droppable(ops: readonly CompletedOp[], chunk: readonly number[]): number[] {
  const index = new ObserverIndex(ops);
  const dropped: number[] = [];
  let rest: number[] = [];
  for (const i of chunk) {
    const op = ops[i];
    assert(op !== undefined, `chunk index ${i} outside ${ops.length} ops`);
    if (op.f === "read") {
      dropped.push(i);
      index.remove(op);
    } else {
      rest.push(i);
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    const still: number[] = [];
    for (const i of rest) {
      const op = ops[i] as CompletedOp;
      if (index.isObserved(op)) {
        still.push(i);
      } else {
        dropped.push(i);
        index.remove(op);
        changed = true;
      }
    }
    rest = still;
  }
  return dropped;
}

/**
 * Shrinks an invalid window, ddmin-style: tries dropping chunks (halving their size when nothing
 * goes) while `isInvalid` stays true, spending at most `checksMax` calls of it.
 */
export function shrinkWindow(
  ops: readonly CompletedOp[],
  isInvalid: (window: readonly CompletedOp[]) => boolean,
  checksMax: number,
): ShrinkResult {
  assert(checksMax >= 0, `checksMax ${checksMax} must be >= 0`);
  let current = [...ops];
  let checks = 0;
  let size = Math.max(1, current.length >> 1);
  for (;;) {
    let removedAny = false;
    for (let from = 0; from < current.length; ) {
      const chunk: number[] = [];
      for (let i = from; i < Math.min(from + size, current.length); i += 1) chunk.push(i);
      const drop = new Set(droppable(current, chunk));
      if (drop.size > 0) {
        if (checks >= checksMax) return { window: current, minimal: false };
        checks += 1;
        const candidate = current.filter((_, i) => !drop.has(i));
        if (isInvalid(candidate)) {
          current = candidate;
          removedAny = true;
          continue;
        }
      }
      from += size;
    }
    if (size === 1 && !removedAny) return { window: current, minimal: true };
    if (!removedAny) size = Math.max(1, size >> 1);
  }
}
