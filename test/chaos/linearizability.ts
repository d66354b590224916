// A linearizability checker for a history of per-key registers (read / write / cas; a key starts
// absent, null). Keys are independent registers, so each key is checked on its own
// (P-compositionality, Herlihy & Wing): a history is linearizable iff every key's is.
//
// Failed ops are dropped (definitely not applied). Info ops may take effect at any time after
// their invoke, or never: their end is +infinity and the search may leave them out. Info reads
// constrain nothing and are dropped. A cas whose comparison failed must be recorded as fail.
//
// For a non-linearizable key the checker finds the earliest cut of that key's history that is
// already non-linearizable and then shrinks it to a small window that is still a witness.

import { assert } from "../../src/assert.js";
import { type CompletedOp, HistoryError, describeOp } from "./history.js";
import { Budget, type SearchOutcome, searchRegister } from "./register-search.js";
import { type ShrinkResult, cutAt, shrinkWindow } from "./window.js";

export interface CheckOptions {
  /** Loop iterations of the search over all keys (default 20,000,000). */
  readonly maxSteps?: number;
  /** Visited (set, state) pairs kept over all keys (default 2,000,000). */
  readonly maxStates?: number;
  /** Wall-clock limit of the whole check, window search excluded (default 60 s). */
  readonly timeLimitMs?: number;
  /** Searches spent shrinking an invalid window (default 2,000). */
  readonly shrinkChecksMax?: number;
}

export type CheckResult =
  | { readonly valid: true }
  | {
      readonly valid: false;
      readonly key: string;
      /** A small sub-history of `key`, sorted by start, with no linearization. */
      readonly window: CompletedOp[];
      readonly explanation: string;
    }
  | { readonly valid: "unknown"; readonly reason: string };

const defaults = {
  maxSteps: 20_000_000,
  maxStates: 2_000_000,
  timeLimitMs: 60_000,
  shrinkChecksMax: 2_000,
} as const;

function newBudget(options: CheckOptions): Budget {
  return new Budget(
    options.maxSteps ?? defaults.maxSteps,
    options.maxStates ?? defaults.maxStates,
    options.timeLimitMs ?? defaults.timeLimitMs,
  );
}

function assertRegisterOp(op: CompletedOp): void {
  if (op.f === "add") {
    throw new HistoryError(`p${op.process}: "add" is a set op; check it with checkSet`);
  }
  if (op.f === "read" && op.type === "ok" && Array.isArray(op.resultValue)) {
    throw new HistoryError(`p${op.process}: a register read returned an array (a set read?)`);
  }
}

/**
 * The ops the search needs: no failed ops, no info reads, every info op ending at +infinity
 * (whatever end it was given), sorted by start (stable).
 */
export function searchableOps(ops: readonly CompletedOp[]): CompletedOp[] {
  const kept: CompletedOp[] = [];
  for (const op of ops) {
    if (op.type === "fail" || (op.f === "read" && op.type !== "ok")) continue;
    assert(op.end >= op.start, () => `op ends before it starts: ${describeOp(op)}`);
    kept.push(op.type === "info" && op.end !== Infinity ? { ...op, end: Infinity } : op);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** The ops of each key, keys in sorted order. */
export function partitionByKey(ops: readonly CompletedOp[]): Map<string, CompletedOp[]> {
  const byKey = new Map<string, CompletedOp[]>();
  for (const op of ops) {
    const list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, [op]);
    else list.push(op);
  }
  const keys = [...byKey.keys()].sort();
  return new Map(keys.map((key) => [key, byKey.get(key) ?? []]));
}

/** Checks one key's ops (all of the same key). */
export function checkKeyOps(ops: readonly CompletedOp[], budget: Budget): SearchOutcome {
  return searchRegister(searchableOps(ops), budget);
}

/**
 * Checks a register history. Stops at the first non-linearizable key (in key order) and explains
 * it; a key whose search ran out of budget makes the answer "unknown" unless another key is
 * definitely invalid.
 */
export function checkLinearizable(
  ops: readonly CompletedOp[],
  options: CheckOptions = {},
): CheckResult {
  ops.forEach(assertRegisterOp);
  const budget = newBudget(options);
  const unknown: string[] = [];
  for (const [key, keyOps] of partitionByKey(ops)) {
    const searchable = searchableOps(keyOps);
    const outcome = searchRegister(searchable, budget);
    if (outcome.kind === "unknown") {
      unknown.push(`key ${JSON.stringify(key)}: ${outcome.reason}`);
      continue;
    }
    if (outcome.kind === "valid") continue;
    const found = smallestWindow(searchable, options);
    return { valid: false, key, window: found.window, explanation: explain(key, keyOps, found) };
  }
  if (unknown.length > 0) return { valid: "unknown", reason: unknown.join("; ") };
  return { valid: true };
}

export interface WindowSearch extends ShrinkResult {
  /** The time of the earliest non-linearizable cut, or null if none was proved smaller. */
  readonly cutTime: number | null;
  /** The op whose completion at cutTime made the key non-linearizable. */
  readonly cutOp: CompletedOp | null;
}

/**
 * The smallest non-linearizable cut of an invalid key's searchable ops, by binary search over
 * the end times of ok ops (a cut of a linearizable history is linearizable, so the predicate is
 * monotone), then shrunk. The window phase has its own budget; running out keeps the best found.
 */
export function smallestWindow(ops: readonly CompletedOp[], options: CheckOptions): WindowSearch {
  const budget = newBudget(options);
  const ends = [...new Set(ops.filter((op) => op.type === "ok").map((op) => op.end))].sort(
    (a, b) => a - b,
  );
  let low = 0;
  let high = ends.length - 1;
  let best: CompletedOp[] = [...ops];
  let cutTime: number | null = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const time = ends[middle] ?? Infinity;
    const cut = cutAt(ops, time);
    const outcome = searchRegister(cut, budget);
    if (outcome.kind === "unknown") break;
    if (outcome.kind === "invalid") {
      best = cut;
      cutTime = time;
      high = middle - 1;
    } else {
      low = middle + 1;
    }
  }
  const cutOp = ops.find((op) => op.type === "ok" && op.end === cutTime) ?? null;
  const checksMax = options.shrinkChecksMax ?? defaults.shrinkChecksMax;
  let exhausted = false;
  const isInvalid = (window: readonly CompletedOp[]): boolean => {
    const outcome = searchRegister(window, budget);
    if (outcome.kind === "unknown") exhausted = true;
    return outcome.kind === "invalid";
  };
  const shrunk = shrinkWindow(best, isInvalid, checksMax);
  return { window: shrunk.window, minimal: shrunk.minimal && !exhausted, cutTime, cutOp };
}

function explain(key: string, keyOps: readonly CompletedOp[], found: WindowSearch): string {
  const lines = [
    `key ${JSON.stringify(key)} is not linearizable: no order of these ${found.window.length} ` +
      "operations respects both real time and a register's semantics:",
    ...found.window.map((op) => `  ${describeOp(op)}`),
  ];
  if (found.cutOp !== null && found.cutTime !== null) {
    lines.push(
      `The key's history is already not linearizable once ${describeOp(found.cutOp)} completes` +
        ` (ops still running then are shown as info).`,
    );
  }
  lines.push(
    found.minimal
      ? "Each op shown is needed: dropping any one that may be dropped makes the window " +
          "linearizable."
      : "The window was not fully shrunk (effort bound reached).",
  );
  const writtenBy = (type: "applied" | "fail"): Set<unknown> =>
    new Set(
      keyOps.flatMap((op) => {
        if ((op.type === "fail") !== (type === "fail")) return [];
        if (op.f === "write") return [op.invokeValue];
        if (op.f === "cas") return [(op.invokeValue as readonly unknown[])[1]];
        return [];
      }),
    );
  const applied = writtenBy("applied");
  const failed = writtenBy("fail");
  for (const op of found.window) {
    if (op.f !== "read" || op.resultValue === null || applied.has(op.resultValue)) continue;
    lines.push(
      failed.has(op.resultValue)
        ? `${describeOp(op)} returned a value that only a failed write or cas tried to write.`
        : `${describeOp(op)} returned a value no write or cas of this key wrote.`,
    );
  }
  return lines.join("\n");
}
