// Seeded generator of register histories that are linearizable by construction, for testing the
// checker: each process runs ops one at a time with random, overlapping intervals; every op that
// takes effect gets a random linearization point inside its interval (an info op's point may lie
// long after its recorded end, or it never takes effect), and the results are computed by
// applying the ops to a per-key register in the order of those points.

import { assert } from "../../src/assert.js";
import type { CompletionType, HistoryEvent, HistoryValue, OpFunction, Scalar } from "./history.js";
import { seededRandom } from "../../src/random.js";

export interface GenerateOptions {
  readonly seed: number;
  /** Concurrent clients; each has at most one op outstanding. */
  readonly processes: number;
  readonly keys: number;
  readonly ops: number;
  /** Written values come from 0..valueSpace-1 (repeats allowed); 0 means every value is unique. */
  readonly valueSpace?: number;
  /** Share of ops that end "fail" without effect (default 0.03). */
  readonly failRate?: number;
  /** Share of ops that end "info" (default 0.01); half of those take effect. */
  readonly infoRate?: number;
}

export { seededRandom } from "../../src/random.js";

interface PlannedOp {
  readonly process: number;
  readonly f: Exclude<OpFunction, "add">;
  readonly key: string;
  readonly invokeValue: HistoryValue;
  type: CompletionType;
  resultValue: HistoryValue;
  readonly start: number;
  readonly end: number;
  /** When it takes effect, or null if it never does. */
  readonly point: number | null;
}

const msNs = 1_000_000;

interface Planner {
  readonly random: () => number;
  readonly options: GenerateOptions;
  /** Values already written per key: a cas expects one of them (or absent). */
  readonly writtenByKey: Map<string, Scalar[]>;
  counter: number;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  assert(item !== undefined, `pick from ${items.length} items`);
  return item;
}

function freshValue(planner: Planner, key: string): Scalar {
  const space = planner.options.valueSpace ?? 0;
  planner.counter += 1;
  const value = space > 0 ? String(Math.floor(planner.random() * space)) : `v${planner.counter}`;
  const list = planner.writtenByKey.get(key) ?? [];
  list.push(value);
  planner.writtenByKey.set(key, list);
  return value;
}

function planOp(planner: Planner, process: number, start: number): PlannedOp {
  const { random, options } = planner;
  const key = `k${Math.floor(random() * options.keys)}`;
  const roll = random();
  const f = roll < 0.45 ? "read" : roll < 0.8 ? "write" : "cas";
  let invokeValue: HistoryValue = null;
  if (f === "write") invokeValue = freshValue(planner, key);
  if (f === "cas") {
    const seen = planner.writtenByKey.get(key) ?? [];
    const recent = seen.slice(-2);
    const expected = recent.length === 0 || random() < 0.1 ? null : pick(random, recent);
    invokeValue = [expected, freshValue(planner, key)];
  }
  const end = start + Math.floor(0.2 * msNs + random() * 5 * msNs);
  const outcome = random();
  const failRate = options.failRate ?? 0.03;
  const infoRate = options.infoRate ?? 0.01;
  let type: CompletionType = "ok";
  let point: number | null = start + Math.floor(random() * (end - start));
  if (outcome < failRate) {
    type = "fail";
    point = null;
  } else if (outcome < failRate + infoRate) {
    type = "info";
    point = random() < 0.5 ? null : start + Math.floor(random() * 20 * (end - start));
  }
  const resultValue = f === "read" ? null : invokeValue;
  return { process, f, key, invokeValue, type, resultValue, start, end, point };
}

/** Applies the ops that take effect in linearization-point order and fills in the results. */
function applyInOrder(planned: readonly PlannedOp[]): void {
  const effective = planned.filter((op) => op.point !== null);
  effective.sort((a, b) => (a.point ?? 0) - (b.point ?? 0));
  const register = new Map<string, Scalar>();
  for (const op of effective) {
    const current = register.get(op.key) ?? null;
    if (op.f === "read") {
      if (op.type === "ok") op.resultValue = current;
    } else if (op.f === "write") {
      register.set(op.key, op.invokeValue as Scalar);
    } else {
      const [expected, next] = op.invokeValue as readonly (Scalar | null)[];
      if (expected === current && next !== undefined && next !== null) {
        register.set(op.key, next);
      } else if (op.type === "ok") {
        op.type = "fail"; // the comparison failed: definitely not applied
      }
    }
  }
}

/** The process free soonest, so that ops are planned roughly in time order. */
function earliest(cursors: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < cursors.length; i += 1) {
    if ((cursors[i] ?? 0) < (cursors[best] ?? 0)) best = i;
  }
  return best;
}

/** A linearizable history as events sorted by time (invokes after completions at equal times). */
export function generateHistory(options: GenerateOptions): HistoryEvent[] {
  assert(options.processes >= 1 && options.keys >= 1, "need at least one process and one key");
  assert(options.ops >= 0, `ops ${options.ops} must be >= 0`);
  const planner: Planner = {
    random: seededRandom(options.seed),
    options,
    writtenByKey: new Map(),
    counter: 0,
  };
  const cursors = Array.from({ length: options.processes }, () => 0);
  const processIds = Array.from({ length: options.processes }, (_, i) => i);
  let nextProcess = options.processes;
  const planned: PlannedOp[] = [];
  for (let i = 0; i < options.ops; i += 1) {
    const thread = earliest(cursors);
    const start = (cursors[thread] ?? 0) + 1 + Math.floor(planner.random() * msNs);
    const op = planOp(planner, processIds[thread] ?? thread, start);
    planned.push(op);
    cursors[thread] = op.end;
    if (op.type === "info") processIds[thread] = nextProcess++;
  }
  applyInOrder(planned);
  return toEvents(planned);
}

function toEvents(planned: readonly PlannedOp[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const op of planned) {
    const { process, f, key } = op;
    const invokeValue = f === "read" ? null : op.invokeValue;
    events.push({ process, type: "invoke", f, key, value: invokeValue, time: op.start });
    const value = f === "read" ? (op.type === "ok" ? op.resultValue : null) : op.invokeValue;
    events.push({ process, type: op.type, f, key, value, time: op.end });
  }
  // A process's next invoke comes strictly after its completion, so pairing is unaffected by
  // how events of different processes at the same time are ordered.
  return events.sort((a, b) => a.time - b.time);
}
