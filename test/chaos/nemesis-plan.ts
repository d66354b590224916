// The nemesis schedule, decided before the run from a seed: which faults, when, for how long,
// against whom, and how partitions cut the cluster. It is pure (no I/O, no clock): the same
// seed and options give the same schedule, so a failing chaos run can be replayed with its
// seed. Targets that depend on the running cluster ("the leader") are named here and resolved
// when the fault starts (nemesis.ts).

import { assert, assertNever } from "../../src/assert.js";
import { Sfc32 } from "../../src/core/prng.js";
import type { LinkFault } from "./proxy.js";

export const nemesisKinds = [
  "kill", "kill-all", "pause", "partition", "membership", "torn-write", "os-crash", "bitflip",
] as const;
export type NemesisKind = (typeof nemesisKinds)[number];

export const partitionShapes = ["split", "isolate-leader", "bridge", "one-way", "lossy"] as const;
export type PartitionShape = (typeof partitionShapes)[number];

export interface PlannedFault {
  readonly kind: NemesisKind;
  /** When the fault starts, in ms after the run's start. */
  readonly atMs: number;
  readonly durationMs: number;
  /** A member id, or "leader": whoever leads when the fault starts. */
  readonly target: number | "leader";
  /** How a partition cuts the cluster; null for other kinds. */
  readonly shape: PartitionShape | null;
  /** A seeded permutation of the member ids: fallback targets, and partition groups. */
  readonly order: readonly number[];
}

export interface PlanOptions {
  readonly seed: number;
  readonly kinds: readonly NemesisKind[];
  readonly seconds: number;
  /** Member ids 1..nodes. */
  readonly nodes: number;
  /** Quiet time before the first fault (default 2000 ms). */
  readonly warmupMs?: number;
  /** Quiet time between faults, [min, max] ms (default [1500, 3000]). */
  readonly quietMs?: readonly [number, number];
  /** How long a fault lasts, [min, max] ms (default [2000, 4500]). */
  readonly faultMs?: readonly [number, number];
  /** Quiet time kept at the end of the run (default 1500 ms). */
  readonly tailMs?: number;
}

export function isNemesisKind(text: string): text is NemesisKind {
  return (nemesisKinds as readonly string[]).includes(text);
}

function between(random: Sfc32, [low, high]: readonly [number, number]): number {
  return low + random.nextInt(high - low + 1);
}

function shuffled(random: Sfc32, nodes: number): number[] {
  const ids = Array.from({ length: nodes }, (_, k) => k + 1);
  for (let k = ids.length - 1; k > 0; k -= 1) {
    const j = random.nextInt(k + 1);
    [ids[k], ids[j]] = [ids[j] as number, ids[k] as number];
  }
  return ids;
}

function pick<T>(random: Sfc32, options: readonly T[]): T {
  assert(options.length > 0, "picking from an empty list");
  return options[random.nextInt(options.length)] as T;
}

function targetOf(random: Sfc32, kind: NemesisKind, shape: PartitionShape | null, nodes: number) {
  if (kind === "partition") {
    return shape === "isolate-leader" || shape === "one-way" ? "leader" : 1 + random.nextInt(nodes);
  }
  // The leader is the most interesting victim of a crash or a pause, but not the only one.
  if (kind !== "membership" && random.chance(0.4)) return "leader";
  return 1 + random.nextInt(nodes);
}

/** The faults of a run, one at a time, in start order, all over before the run's tail. */
export function planNemesis(o: PlanOptions): PlannedFault[] {
  assert(o.nodes >= 1, `a cluster of ${o.nodes} members`);
  assert(o.seconds > 0, `a run of ${o.seconds} s`);
  const random = new Sfc32(o.seed);
  const quiet = o.quietMs ?? [1500, 3000];
  const lasting = o.faultMs ?? [2000, 4500];
  const endMs = o.seconds * 1000 - (o.tailMs ?? 1500);
  const plan: PlannedFault[] = [];
  if (o.kinds.length === 0) return plan;
  let atMs = o.warmupMs ?? 2000;
  for (;;) {
    const kind = pick(random, o.kinds);
    const durationMs = between(random, lasting);
    if (atMs + durationMs > endMs) break;
    const shape = kind === "partition" ? pick(random, partitionShapes) : null;
    const target = targetOf(random, kind, shape, o.nodes);
    plan.push({ kind, atMs, durationMs, target, shape, order: shuffled(random, o.nodes) });
    atMs += durationMs + between(random, quiet);
  }
  return plan;
}

/** One directed link's faults. */
export interface LinkChange {
  readonly from: number;
  readonly to: number;
  readonly fault: Partial<LinkFault>;
}

function cutBetween(a: readonly number[], b: readonly number[]): LinkChange[] {
  return a.flatMap((x) => b.flatMap((y) => [
    { from: x, to: y, fault: { blocked: true } },
    { from: y, to: x, fault: { blocked: true } },
  ]));
}

/**
 * The link faults of a partition. `order` is the fault's permutation of the members; `leader`
 * (when known) is the member that isolate-leader and one-way single out, else order[0].
 * - split: a minority (the first floor(n/2) of order) against the rest, both ways;
 * - isolate-leader: the leader against everyone else;
 * - bridge: order[0] sees everyone; the others are cut into two halves that cannot talk;
 * - one-way: the leader's messages to every other member are dropped; theirs to it arrive;
 * - lossy: every connection to and from order[0] is slow (30 ms) and often lost.
 */
export function partitionLinks(
  shape: PartitionShape,
  order: readonly number[],
  leader: number | null,
): LinkChange[] {
  const first = leader ?? order[0] ?? 1;
  const rest = order.filter((id) => id !== first);
  switch (shape) {
    case "split": {
      const cut = Math.floor(order.length / 2);
      return cutBetween(order.slice(0, cut), order.slice(cut));
    }
    case "isolate-leader":
      return cutBetween([first], rest);
    case "bridge": {
      // order[0] is in neither half, so it keeps talking to both.
      const others = order.slice(1);
      const half = Math.floor(others.length / 2);
      return cutBetween(others.slice(0, half), others.slice(half));
    }
    case "one-way":
      return rest.map((to) => ({ from: first, to, fault: { blocked: true } }));
    case "lossy": {
      const hub = order[0] ?? 1;
      const fault = { lossRate: 0.3, delayMs: 30 };
      return order.filter((id) => id !== hub)
        .flatMap((id) => [{ from: hub, to: id, fault }, { from: id, to: hub, fault }]);
    }
    default:
      return assertNever(shape, "partition shape");
  }
}

/** A short description of the links a partition cuts, for logs and events. */
export function describeLinks(changes: readonly LinkChange[]): string {
  const blocked = changes.filter((c) => c.fault.blocked === true).map((c) => `${c.from}->${c.to}`);
  const other = changes.filter((c) => c.fault.blocked !== true).map((c) => `${c.from}~>${c.to}`);
  return [...blocked.length > 0 ? [`blocked ${blocked.join(" ")}`] : [],
    ...other.length > 0 ? [`lossy ${other.join(" ")}`] : []].join("; ");
}
