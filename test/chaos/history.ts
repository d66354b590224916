// The history model of the chaos tests: the JSON-lines events a harness records (CONTRACTS.md,
// "Chaos"), their validation, and the pairing of each invoke with its completion into one
// operation with a real-time interval [start, end].
//
// Register workload: f "read" | "write" | "cas" on a key. Set workload (an extension, see
// set-check.ts): f "add" whose value is the element, and a "read" whose ok value is the array of
// elements present; the key names the set.

import { assert, assertNever } from "../../src/assert.js";
import { RaftStoreError } from "../../src/errors.js";

/** A history file or event list breaks the format or the one-op-per-process rule. */
export class HistoryError extends RaftStoreError {
  override readonly code = "BAD_HISTORY";
}

export type Scalar = string | number;
/** null: a read's invoke, or "absent" in a read result or a cas expectation. */
export type HistoryValue = Scalar | null | readonly (Scalar | null)[];

export const EventTypes = ["invoke", "ok", "fail", "info"] as const;
export type EventType = (typeof EventTypes)[number];
export type CompletionType = Exclude<EventType, "invoke">;

export const OpFunctions = ["read", "write", "cas", "add"] as const;
export type OpFunction = (typeof OpFunctions)[number];

export interface HistoryEvent {
  readonly process: number;
  readonly type: EventType;
  readonly f: OpFunction;
  readonly key: string;
  readonly value: HistoryValue;
  /** Nanoseconds since the start of the run, from a monotonic clock. */
  readonly time: number;
  /** 1-based line in the source file, when parsed from one (for error messages). */
  readonly line?: number;
}

/** One operation: an invoke and its completion. */
export interface CompletedOp {
  readonly process: number;
  readonly f: OpFunction;
  readonly key: string;
  readonly invokeValue: HistoryValue;
  readonly resultValue: HistoryValue;
  readonly type: CompletionType;
  readonly start: number;
  /** Infinity for info: the op may take effect at any time after its invoke, or never. */
  readonly end: number;
}

const eventFields = ["process", "type", "f", "key", "value", "time"] as const;

function isScalar(value: unknown): value is Scalar {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

function isScalarOrNull(value: unknown): value is Scalar | null {
  return value === null || isScalar(value);
}

/** Why `value` is not allowed for this f and type, or null when it is. */
function valueProblem(f: OpFunction, type: EventType, value: unknown): string | null {
  switch (f) {
    case "read":
      // A failed or unknown read's value is ignored, so any well-formed one is accepted.
      if (type === "invoke") return value === null ? null : "a read's invoke carries value null";
      if (isScalarOrNull(value)) return null;
      if (Array.isArray(value) && value.every(isScalar)) return null;
      return `a read's ${type} value is a string, a number, null or an array of elements`;
    case "write":
    case "add":
      return isScalar(value) ? null : `a ${f}'s value is a string or a finite number`;
    case "cas": {
      const ok = Array.isArray(value) && value.length === 2;
      if (ok && isScalarOrNull(value[0]) && isScalar(value[1])) return null;
      return "a cas's value is [expected (scalar or null), new (scalar)]";
    }
    default:
      return `unknown f ${JSON.stringify(f)}`;
  }
}

function oneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (options as readonly string[]).includes(value);
}

/** Validates one decoded JSON line; throws HistoryError naming the line and the field. */
export function toHistoryEvent(raw: unknown, line: number): HistoryEvent {
  const fail = (why: string): never => {
    throw new HistoryError(`history line ${line}: ${why}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("not a JSON object");
  const record = raw as Record<string, unknown>;
  for (const field of eventFields) if (!(field in record)) fail(`missing field "${field}"`);
  const { process, type, f, key, value, time } = record;
  if (typeof process !== "number" || !Number.isSafeInteger(process) || process < 0) {
    fail(`"process" must be a non-negative integer, got ${JSON.stringify(process)}`);
  }
  if (!oneOf(EventTypes, type)) fail(`"type" must be one of ${EventTypes.join("|")}`);
  if (!oneOf(OpFunctions, f)) fail(`"f" must be one of ${OpFunctions.join("|")}`);
  if (typeof key !== "string") fail(`"key" must be a string, got ${JSON.stringify(key)}`);
  if (typeof time !== "number" || !Number.isFinite(time) || time < 0) {
    fail(`"time" must be a finite number >= 0 (ns), got ${JSON.stringify(time)}`);
  }
  const problem = valueProblem(f as OpFunction, type as EventType, value);
  if (problem !== null) fail(`"value" ${JSON.stringify(value)}: ${problem}`);
  return {
    process: process as number,
    type: type as EventType,
    f: f as OpFunction,
    key: key as string,
    value: value as HistoryValue,
    time: time as number,
    line,
  };
}

/** Parses a JSON-lines history. Blank lines are skipped; fields beyond the contract's ignored. */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const source = (lines[index] ?? "").trim();
    if (source === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(source);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new HistoryError(`history line ${index + 1}: not JSON (${why})`, { cause: error });
    }
    events.push(toHistoryEvent(raw, index + 1));
  }
  return events;
}

/** One JSON line per event, the inverse of parseHistory (the `line` field is not written). */
export function formatHistory(events: readonly HistoryEvent[]): string {
  const lines = events.map((event) =>
    JSON.stringify({
      process: event.process,
      type: event.type,
      f: event.f,
      key: event.key,
      value: event.value,
      time: event.time,
    }),
  );
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function where(event: HistoryEvent, index: number): string {
  return event.line === undefined ? `event ${index}` : `history line ${event.line}`;
}

function completionProblem(invoke: HistoryEvent, done: HistoryEvent): string | null {
  if (done.f !== invoke.f) return `completes a ${invoke.f} with f ${done.f}`;
  if (done.key !== invoke.key) return `completes key ${invoke.key} with key ${done.key}`;
  if (done.time < invoke.time) return `completes at ${done.time} before its invoke ${invoke.time}`;
  return null;
}

/**
 * Pairs each invoke with the next completion of the same process, in event order. An invoke with
 * no completion by the end of the history becomes an info op (its outcome is unknown). Throws
 * HistoryError on a completion without an invoke, two invokes outstanding in one process, a
 * process reused after an info, or a completion whose f, key or time does not match.
 * Returns the ops sorted by start time (stable).
 */
export function pairOperations(events: readonly HistoryEvent[]): CompletedOp[] {
  const outstanding = new Map<number, HistoryEvent>();
  const ended = new Set<number>();
  const ops: CompletedOp[] = [];
  events.forEach((event, index) => {
    const at = (): string => where(event, index);
    const p = event.process;
    if (ended.has(p)) {
      throw new HistoryError(`${at()}: process ${p} is used again after its info`);
    }
    const invoke = outstanding.get(p);
    if (event.type === "invoke") {
      if (invoke !== undefined) {
        throw new HistoryError(`${at()}: process ${p} invokes while ${invoke.f} is outstanding`);
      }
      outstanding.set(p, event);
      return;
    }
    if (invoke === undefined) {
      throw new HistoryError(`${at()}: ${event.type} for process ${p} without an invoke`);
    }
    const problem = completionProblem(invoke, event);
    if (problem !== null) throw new HistoryError(`${at()}: process ${p} ${problem}`);
    outstanding.delete(p);
    if (event.type === "info") ended.add(p);
    ops.push(completed(invoke, event.type, event.value, event.time));
  });
  for (const invoke of outstanding.values()) ops.push(completed(invoke, "info", null, Infinity));
  return ops.sort((a, b) => a.start - b.start);
}

function completed(
  invoke: HistoryEvent,
  type: CompletionType,
  resultValue: HistoryValue,
  end: number,
): CompletedOp {
  assert(invoke.type === "invoke", `pairing a ${invoke.type} as an invoke`);
  return {
    process: invoke.process,
    f: invoke.f,
    key: invoke.key,
    invokeValue: invoke.value,
    resultValue,
    type,
    start: invoke.time,
    end: type === "info" ? Infinity : end,
  };
}

/** A short human form of an op, used in checker explanations. */
export function describeOp(op: CompletedOp): string {
  const seconds = (ns: number): string => (ns === Infinity ? "∞" : `${(ns / 1e9).toFixed(6)}s`);
  const show = (value: HistoryValue): string => JSON.stringify(value);
  let body: string;
  switch (op.f) {
    case "read":
      body = `read → ${op.type === "ok" ? show(op.resultValue) : "?"}`;
      break;
    case "write":
    case "add":
      body = `${op.f}(${show(op.invokeValue)})`;
      break;
    case "cas": {
      const [expected, next] = op.invokeValue as readonly (Scalar | null)[];
      body = `cas(${show(expected ?? null)} → ${show(next ?? null)})`;
      break;
    }
    default:
      return assertNever(op.f, "op f");
  }
  return `p${op.process} ${body} ${op.type} [${seconds(op.start)}, ${seconds(op.end)}]`;
}
