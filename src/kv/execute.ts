// The commands' semantics, shared by the in-memory and the LMDB state machines so that both
// compute exactly the same results and states. Everything here depends only on the command
// (with its `nowMs`, the proposing leader's clock) and the records the store holds: no clock,
// no randomness, no configuration.
//
// A record expired at nowMs (0 < expiresAtMs <= nowMs) is "absent" for every command's logic;
// it stays stored until a delete, a write of the same key or a sweep replaces or removes it.

import { assert, assertNever } from "../assert.js";
import type { AppliedEntry } from "../node/ports.js";
import { decodeCommand } from "./command.js";
import { InvalidReadError, MalformedCommandError } from "./errors.js";
import { addInt64, parseInt64 } from "./int64.js";
import { compareKeys } from "./keys.js";
import {
  type Command,
  type Compare,
  IncrError,
  type KvRange,
  type KvRecord,
  type KvResult,
  type OpResult,
  type PutCommand,
  type RangeOptions,
  RejectCode,
  type SweepCommand,
  type TxnOp,
  isExpired,
} from "./types.js";

export type Rejected = Extract<KvResult, { kind: "rejected" }>;

/**
 * Physical record access for one apply. `set` and `delete` get the physical record the key
 * holds now (as `get` returned it), so a store can maintain its indexes without a second read.
 */
export interface RecordStore {
  get(key: string): KvRecord | undefined;
  set(record: KvRecord, previous: KvRecord | undefined): void;
  delete(previous: KvRecord): void;
}

/** The command in an entry, or the rejection every replica answers for undecodable bytes. */
export function decodeEntry(entry: AppliedEntry): Command | Rejected {
  try {
    return decodeCommand(entry.data);
  } catch (error) {
    // Every replica fails on the same bytes the same way, so rejecting keeps them in step;
    // throwing would stop every node on this entry forever.
    if (!(error instanceof MalformedCommandError)) throw error;
    return { kind: "rejected", index: entry.index, code: RejectCode.MalformedCommand,
      message: error.message };
  }
}

/** `record` unless it is absent or expired at nowMs. */
export function live(record: KvRecord | undefined, nowMs: number | undefined):
  KvRecord | undefined {
  return record === undefined || isExpired(record, nowMs) ? undefined : record;
}

/** Runs a decoded command against `store` at `index`. */
export function execute(store: RecordStore, command: Command, index: number): KvResult {
  const nowMs = command.nowMs;
  switch (command.kind) {
    case "put":
      return put(store, command, index);
    case "delete":
      return { kind: "delete", index, existed: remove(store, command.key, nowMs) };
    case "txn": {
      const succeeded = command.txn.compare.every((c) => holds(store, c, nowMs));
      const ops = succeeded ? command.txn.success : command.txn.failure;
      const results = ops.map((op) => runOp(store, op, index, nowMs));
      return { kind: "txn", index, succeeded, results };
    }
    case "incr":
      return incr(store, command.key, command.delta, index, nowMs);
    case "expire": {
      const physical = store.get(command.key);
      const record = live(physical, nowMs);
      // Only the expiry changes: the value was not written, so modIndex stays.
      if (record !== undefined) {
        store.set({ ...record, expiresAtMs: command.expiresAtMs }, physical);
      }
      return { kind: "expire", index, existed: record !== undefined };
    }
    case "sweep":
      return { kind: "sweep", index, deleted: sweep(store, command) };
    default:
      return assertNever(command, "command");
  }
}

function put(store: RecordStore, command: PutCommand, index: number): KvResult {
  const physical = store.get(command.key);
  const previous = live(physical, command.nowMs);
  const prevValue = previous?.value ?? null;
  const prevModIndex = previous?.modIndex ?? null;
  const condition = command.condition;
  if (condition !== undefined && (condition === "absent") !== (previous === undefined)) {
    return { kind: "put", index, written: false, prevValue, prevModIndex };
  }
  // Like Redis SET: a plain put clears the expiry; keepTtl keeps the live record's.
  const expiresAtMs = command.keepTtl === true
    ? previous?.expiresAtMs ?? 0
    : command.expiresAtMs ?? 0;
  store.set({ key: command.key, value: command.value,
    createIndex: previous?.createIndex ?? index, modIndex: index, expiresAtMs }, physical);
  return { kind: "put", index, written: true, prevValue, prevModIndex };
}

/** Writes `value` without expiry (a txn put); returns the live record it replaced. */
function write(store: RecordStore, key: string, value: string, index: number,
  nowMs: number | undefined): KvRecord | undefined {
  const physical = store.get(key);
  const previous = live(physical, nowMs);
  store.set({ key, value, createIndex: previous?.createIndex ?? index, modIndex: index,
    expiresAtMs: 0 }, physical);
  return previous;
}

/** Removes the key (even when expired); true when it was live. */
function remove(store: RecordStore, key: string, nowMs: number | undefined): boolean {
  const physical = store.get(key);
  if (physical !== undefined) store.delete(physical);
  return live(physical, nowMs) !== undefined;
}

function incr(store: RecordStore, key: string, delta: string, index: number,
  nowMs: number | undefined): KvResult {
  const physical = store.get(key);
  const previous = live(physical, nowMs);
  const base = parseInt64(previous?.value ?? "0");
  if (base === undefined) return { kind: "incr", index, value: null, error: IncrError.NotInteger };
  const step = parseInt64(delta);
  assert(step !== undefined, () => `decoded incr delta ${delta} is not an int64`);
  const sum = addInt64(base, step);
  if (sum === undefined) return { kind: "incr", index, value: null, error: IncrError.Overflow };
  const value = sum.toString();
  store.set({ key, value, createIndex: previous?.createIndex ?? index, modIndex: index,
    expiresAtMs: previous?.expiresAtMs ?? 0 }, physical);
  return { kind: "incr", index, value, error: null };
}

/** Deletes the listed keys still expired at nowMs and unchanged since the sweeper saw them. */
function sweep(store: RecordStore, command: SweepCommand): number {
  let deleted = 0;
  for (const { key, modIndex } of command.keys) {
    const physical = store.get(key);
    if (physical === undefined || physical.modIndex !== modIndex) continue;
    if (physical.expiresAtMs === 0 || physical.expiresAtMs > command.nowMs) continue;
    store.delete(physical);
    deleted++;
  }
  assert(deleted <= command.keys.length, "swept more keys than listed");
  return deleted;
}

function holds(store: RecordStore, c: Compare, nowMs: number | undefined): boolean {
  const record = live(store.get(c.key), nowMs);
  switch (c.target) {
    case "value":
      return record !== undefined && record.value === c.value;
    case "absent":
      return record === undefined;
    case "modIndex":
      return (record?.modIndex ?? 0) === c.modIndex;
    default:
      return assertNever(c, "compare");
  }
}

/** Operations run in order, so a get sees an earlier put of the same transaction. */
function runOp(store: RecordStore, op: TxnOp, index: number, nowMs: number | undefined):
  OpResult {
  switch (op.op) {
    case "put": {
      const previous = write(store, op.key, op.value, index, nowMs);
      return { op: "put", prevValue: previous?.value ?? null,
        prevModIndex: previous?.modIndex ?? null };
    }
    case "delete":
      return { op: "delete", existed: remove(store, op.key, nowMs) };
    case "get": {
      const record = live(store.get(op.key), nowMs);
      return { op: "get", value: record?.value ?? null,
        createIndex: record?.createIndex ?? null, modIndex: record?.modIndex ?? null };
    }
    default:
      return assertNever(op, "txn op");
  }
}

/**
 * Up to `limit` live records starting with `prefix` (and after `options.after`), in key order.
 * `from(start)` iterates the physical records from the first key >= start.
 */
export function collectRange(from: (start: string) => Iterable<KvRecord>, prefix: string,
  limit: number, options: RangeOptions = {}): KvRange {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidReadError(`range limit ${limit} is not an integer >= 1`);
  }
  const { after, nowMs } = options;
  const skip = after !== undefined && compareKeys(after, prefix) >= 0 ? after : undefined;
  const records: KvRecord[] = [];
  for (const record of from(skip ?? prefix)) {
    if (!record.key.startsWith(prefix)) break;
    if (record.key === skip || isExpired(record, nowMs)) continue;
    if (records.length === limit) return { records, more: true };
    records.push(record);
  }
  return { records, more: false };
}

/** Validates an expiredKeys request (shared by both state machines). */
export function checkExpiredRequest(nowMs: number, max: number): void {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) {
    throw new InvalidReadError(`expiredKeys nowMs ${nowMs} is not an integer >= 0`);
  }
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new InvalidReadError(`expiredKeys max ${max} is not an integer >= 1`);
  }
}
