// Proves the register checker with seeded properties: histories generated from a linearizable
// register (random linearization points inside overlapping intervals, fail and info ops) always
// check valid, at 20,000 ops within a time bound too; changing one read to a value never written
// always makes them invalid, with that read in the window; and on small arbitrary histories the
// checker agrees with a brute-force search over every order. SEED=n replays a run.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type GenerateOptions, generateHistory } from "./generate.js";
import { type CompletedOp, type Scalar, pairOperations } from "./history.js";
import { checkLinearizable } from "./linearizability.js";

const seed = Number(process.env["SEED"] ?? 20260511);
const largeOps = Number(process.env["CHAOS_LARGE_OPS"] ?? 20_000);

const arbOptions: fc.Arbitrary<GenerateOptions> = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  processes: fc.integer({ min: 1, max: 6 }),
  keys: fc.integer({ min: 1, max: 3 }),
  ops: fc.integer({ min: 0, max: 120 }),
  valueSpace: fc.integer({ min: 0, max: 4 }),
  failRate: fc.double({ min: 0, max: 0.1, noNaN: true }),
  infoRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
});

function generatedOps(options: GenerateOptions): CompletedOp[] {
  return pairOperations(generateHistory(options));
}

test("a large history from a linearizable register checks valid within the time bound", (t) => {
  const options = { seed, processes: 10, keys: 5, ops: largeOps, infoRate: 0.02 };
  const ops = generatedOps(options);
  const began = performance.now();
  const result = checkLinearizable(ops, { timeLimitMs: 20_000 });
  const elapsedMs = performance.now() - began;
  t.diagnostic(`checked ${ops.length} ops (10 processes, 5 keys) in ${elapsedMs.toFixed(0)} ms`);
  assert.equal(result.valid, true, JSON.stringify(result).slice(0, 2000));
  assert.ok(elapsedMs < 20_000, `took ${elapsedMs} ms`);
});

test("one read changed to a value never written makes a large history invalid, in a small window",
  (t) => {
    const ops = generatedOps({ seed, processes: 10, keys: 5, ops: largeOps, infoRate: 0.02 });
    const reads = ops.flatMap((op, i) => (op.f === "read" && op.type === "ok" ? [i] : []));
    const victim = reads[Math.floor(reads.length * 0.7)] ?? 0;
    const mutated = ops.map((op, i) => (i === victim ? { ...op, resultValue: "never" } : op));
    const began = performance.now();
    const result = checkLinearizable(mutated, { timeLimitMs: 20_000 });
    const elapsedMs = performance.now() - began;
    t.diagnostic(`found and shrank the violation in ${elapsedMs.toFixed(0)} ms`);
    assert.equal(result.valid, false);
    if (result.valid !== false) return;
    assert.equal(result.key, ops[victim]?.key);
    assert.deepEqual(result.window, [mutated[victim]]);
  });

test("histories generated from a linearizable register are always valid", () => {
  fc.assert(
    fc.property(arbOptions, (options) => {
      const result = checkLinearizable(generatedOps(options));
      return result.valid === true;
    }),
    { seed, numRuns: 300 },
  );
});

test("a generated history with one read changed to a value never written is always invalid",
  () => {
    const arbCase = fc.tuple(arbOptions, fc.nat());
    fc.assert(
      fc.property(arbCase, ([options, pickIndex]) => {
        const ops = generatedOps(options);
        const reads = ops.flatMap((op, i) => (op.f === "read" && op.type === "ok" ? [i] : []));
        fc.pre(reads.length > 0);
        const victim = reads[pickIndex % reads.length] ?? 0;
        const mutated = ops.map((op, i) => (i === victim ? { ...op, resultValue: "never" } : op));
        const result = checkLinearizable(mutated);
        if (result.valid !== false) return false;
        const inWindow = result.window.includes(mutated[victim] as CompletedOp);
        const unique = (options.valueSpace ?? 0) === 0;
        return inWindow && (!unique || result.window.length === 1);
      }),
      { seed, numRuns: 300 },
    );
  });

/** Brute force: some order of all ok ops and any subset of info ops is a legal register run. */
function naiveLinearizable(ops: readonly CompletedOp[]): boolean {
  const kept = ops.filter((op) => op.type !== "fail" && !(op.f === "read" && op.type !== "ok"));
  const keys = new Set(kept.map((op) => op.key));
  return [...keys].every((key) => naiveKey(kept.filter((op) => op.key === key)));
}

function naiveKey(ops: readonly CompletedOp[]): boolean {
  const placed: CompletedOp[] = [];
  const extend = (state: Scalar | null): boolean => {
    if (ops.every((op) => op.type === "info" || placed.includes(op))) return true;
    for (const op of ops) {
      if (placed.includes(op) || placed.some((p) => op.end < p.start)) continue;
      const next = applyNaive(op, state);
      if (next === undefined) continue;
      placed.push(op);
      const found = extend(next);
      placed.pop();
      if (found) return true;
    }
    return false;
  };
  return extend(null);
}

/** The register after `op`, or undefined when `op` cannot happen in `state`. */
function applyNaive(op: CompletedOp, state: Scalar | null): Scalar | null | undefined {
  if (op.f === "write") return op.invokeValue as Scalar;
  if (op.f === "read") return op.resultValue === state ? state : undefined;
  const [expected, next] = op.invokeValue as readonly (Scalar | null)[];
  return expected === state ? (next ?? null) : undefined;
}

const arbValue = fc.constantFrom("a", "b", "c");
const arbSmallOp: fc.Arbitrary<CompletedOp> = fc
  .record({
    process: fc.nat({ max: 9 }),
    f: fc.constantFrom("read", "write", "cas" as const),
    key: fc.constantFrom("x", "y"),
    value: arbValue,
    expected: fc.option(arbValue),
    type: fc.constantFrom("ok", "ok", "ok", "fail", "info" as const),
    start: fc.nat({ max: 12 }),
    length: fc.nat({ max: 6 }),
    readAbsent: fc.boolean(),
  })
  .map((r): CompletedOp => {
    const end = r.type === "info" ? Infinity : r.start + r.length;
    const base = { process: r.process, key: r.key, type: r.type, start: r.start, end };
    if (r.f === "write") return { ...base, f: "write", invokeValue: r.value, resultValue: r.value };
    if (r.f === "cas") {
      const pair = [r.expected, r.value] as const;
      return { ...base, f: "cas", invokeValue: pair, resultValue: pair };
    }
    const result = r.type === "ok" && !r.readAbsent ? r.value : null;
    return { ...base, f: "read", invokeValue: null, resultValue: result };
  });

test("on small arbitrary histories the checker agrees with a brute-force search", () => {
  fc.assert(
    fc.property(fc.array(arbSmallOp, { maxLength: 7 }), (ops) => {
      const result = checkLinearizable(ops);
      const expected = naiveLinearizable(ops);
      if (result.valid === "unknown") return false;
      if (result.valid !== expected) return false;
      // An invalid verdict's window is a witness by the brute force too, and no bigger.
      return result.valid || (!naiveLinearizable(result.window) && result.window.length <= 7);
    }),
    { seed, numRuns: 3000 },
  );
});
