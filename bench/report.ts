// One JSON line per benchmark case, in the format CONTRACTS.md promises; fields that do not
// apply are null. Also the latency statistics every case uses.

import { stat } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";

export interface BenchLine {
  readonly suite: string;
  readonly case: string;
  readonly system: "raft-store" | "etcd" | "disk";
  readonly backend: string | null;
  readonly batch: number | null;
  readonly clients: number | null;
  readonly opsPerSec: number | null;
  readonly mbPerSec: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly errors: number;
  readonly seconds: number;
  readonly ratio: number | null;
  readonly ratioTo: "disk" | "etcd" | null;
  readonly [extra: string]: unknown;
}

/**
 * Default uncounted warm-up, in seconds, before a server or compare-etcd case is measured (each
 * case runs on fresh processes). A fresh Node.js process keeps compiling its hot functions with
 * V8's optimizing compiler on background threads long after its first requests: under 256-client
 * puts each member spent about 10% of a core on it in its first 10 s and under 2% after 25 s
 * (V8's --log-function-events). On 2 cores shared by three members and the load generator, that
 * compiling takes CPU from the requests: with a 2 s warm-up a run measured partly the JIT's
 * warm-up rather than the steady state a long-running server is in. Two sets of 4 A/B pairs of
 * server runs, 2 s against 20 s, are in `bench/results/server-warmup-ab-2026-11-27-{a,b}.jsonl`.
 */
export const defaultWarmupSeconds = 20;

export function printLine(line: BenchLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function latency(samplesMs: readonly number[]): Latency {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(at(1)) };
}

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A bad benchmark option. The dispatcher prints its message, without a stack, and exits 2. */
export class BenchOptionError extends Error {
  override readonly name = "BenchOptionError";
}

/** Parses `--name value` options; unknown names are an error. */
export function parseOptions(
  args: readonly string[],
  known: readonly string[],
): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]?.replace(/^--/, "");
    const value = args[i + 1];
    if (name === undefined || !known.includes(name) || value === undefined) {
      const usage = known.map((option) => `--${option} <value>`).join(" ");
      throw new BenchOptionError(`bad option ${args[i]}; options: ${usage}`);
    }
    options.set(name, value);
  }
  return options;
}

/** What a numeric option must be; the text is also the error's. */
export type NumberRule = "an integer >= 1" | "an integer >= 0" | "a number > 0" | "a number >= 0";

const bounds: Readonly<Record<NumberRule, { integer: boolean; min: number; above: boolean }>> = {
  "an integer >= 1": { integer: true, min: 1, above: false },
  "an integer >= 0": { integer: true, min: 0, above: false },
  "a number > 0": { integer: false, min: 0, above: true },
  "a number >= 0": { integer: false, min: 0, above: false },
};

function obeys(value: number, rule: NumberRule): boolean {
  const { integer, min, above } = bounds[rule];
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) return false;
  return above ? value > min : value >= min;
}

function checked(text: string, what: string, rule: NumberRule): number {
  const value = text.trim() === "" ? Number.NaN : Number(text);
  if (!obeys(value, rule)) throw new BenchOptionError(`${what} must be ${rule}, got "${text}"`);
  return value;
}

/** The numeric option `name`, or `fallback` when it is absent; it must obey `rule`. */
export function numberOption(
  options: Map<string, string>,
  name: string,
  fallback: number,
  rule: NumberRule,
): number {
  const text = options.get(name);
  return text === undefined ? fallback : checked(text, `--${name}`, rule);
}

/** The integer option `name` (at least 1), or `fallback` when it is absent. */
export function positiveInteger(options: Map<string, string>, name: string, fallback: number):
  number {
  return numberOption(options, name, fallback, "an integer >= 1");
}

/** A comma-separated list of integers >= 1 (client counts, batch sizes); `fallback` if absent. */
export function integerList(options: Map<string, string>, name: string, fallback: string):
  number[] {
  return (options.get(name) ?? fallback)
    .split(",")
    .map((text) => checked(text, `--${name}: each value`, "an integer >= 1"));
}

function oneOf<T extends string>(text: string, name: string, allowed: readonly T[]): T {
  const found = allowed.find((choice) => choice === text);
  if (found === undefined) {
    throw new BenchOptionError(`--${name}: "${text}" is not one of ${allowed.join(", ")}`);
  }
  return found;
}

/** The option `name`, which must be one of `allowed`; `fallback` if absent. */
export function choice<T extends string>(
  options: Map<string, string>,
  name: string,
  fallback: T,
  allowed: readonly T[],
): T {
  return oneOf(options.get(name) ?? fallback, name, allowed);
}

/** A comma-separated list whose every value is one of `allowed`; `fallback` if absent. */
export function choiceList<T extends string>(
  options: Map<string, string>,
  name: string,
  fallback: string,
  allowed: readonly T[],
): T[] {
  return (options.get(name) ?? fallback).split(",").map((text) => oneOf(text, name, allowed));
}

/** `--dir`, which must name an existing directory; the system's temporary one if absent. */
export async function directoryOption(options: Map<string, string>): Promise<string> {
  const dir = options.get("dir");
  if (dir === undefined) return tmpdir();
  const found = await stat(dir).catch(() => null);
  if (found === null || !found.isDirectory()) {
    throw new BenchOptionError(`--dir ${dir}: no such directory`);
  }
  return dir;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for the nodes a benchmark starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
