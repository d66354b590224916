// Client sessions for exactly-once commands (Raft thesis ch. 6.3). Per clientId the table keeps
// the last applied sequence and its result; a repeat of that sequence gets the saved result
// without applying again. The table is bounded by a count and by an estimate of the bytes the
// saved results hold. When over either bound it drops the least recently used session, where
// "recently" is apply order (a Map keeps insertion order; a use re-inserts), never wall-clock
// time, so every replica drops the same sessions at the same index.
//
// A session opens only with sequence 1. A command for an unknown clientId with a later sequence
// belongs to a session that was dropped, and is rejected (SESSION_EXPIRED) rather than applied:
// its earlier attempt may have been applied already.

import { assert, assertNever } from "../assert.js";
import { ConfigError } from "../errors.js";
import { type ClientSession, type KvResult, RejectCode } from "./types.js";

export interface SessionLimits {
  /** Sessions kept; part of the replicated configuration: every replica must use the same. */
  readonly sessionsMax: number;
  /** Estimated bytes of saved results; also replicated configuration. */
  readonly sessionBytesMax: number;
}

export const defaultSessionLimits: SessionLimits = {
  sessionsMax: 10_000,
  sessionBytesMax: 64 * 1024 * 1024,
};

export interface SessionEntry {
  readonly sequence: number;
  readonly result: KvResult;
}

export class SessionTable {
  /** Least recently used first. */
  private readonly sessions = new Map<string, SessionEntry & { readonly weight: number }>();
  private bytes = 0;

  constructor(private readonly limits: SessionLimits = defaultSessionLimits) {
    for (const name of ["sessionsMax", "sessionBytesMax"] as const) {
      const value = limits[name];
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new ConfigError(`${name} ${value} must be an integer >= 1`);
      }
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  get weightBytes(): number {
    return this.bytes;
  }

  /**
   * What to answer instead of applying: the saved result of a duplicate, a rejection for a
   * stale or expired sequence, or undefined when the command is new and must be applied.
   */
  check(session: ClientSession, index: number): KvResult | undefined {
    const saved = this.sessions.get(session.clientId);
    if (saved === undefined) {
      if (session.sequence === 1) return undefined;
      return rejected(index, RejectCode.SessionExpired,
        `no session for client ${session.clientId} (expired?) at sequence ${session.sequence}`);
    }
    if (session.sequence === saved.sequence) return saved.result;
    if (session.sequence < saved.sequence) {
      return rejected(index, RejectCode.StaleSequence,
        `sequence ${session.sequence} of client ${session.clientId} is before ${saved.sequence}`);
    }
    return undefined;
  }

  /**
   * Saves the result of a newly applied command and drops sessions beyond the bounds; returns
   * the clientIds dropped (a durable table deletes them in the same transaction).
   */
  record(session: ClientSession, result: KvResult): string[] {
    assert(result.kind !== "rejected", "a rejected command does not advance its session");
    const previous = this.sessions.get(session.clientId);
    assert(previous === undefined || previous.sequence < session.sequence,
      () => `session ${session.clientId} sequence ${session.sequence} not after saved`);
    this.remove(session.clientId);
    this.insert(session.clientId, { sequence: session.sequence, result });
    const evicted = this.evict();
    assert(this.sessions.has(session.clientId), "the newest session is always kept");
    return evicted;
  }

  /** Sessions in eviction order (least recently used first), as snapshots store them. */
  entries(): [string, SessionEntry][] {
    return Array.from(this.sessions, ([clientId, e]) => [clientId, {
      sequence: e.sequence, result: e.result }]);
  }

  /** Re-inserts restored sessions in their stored order, then applies this table's bounds. */
  static restore(limits: SessionLimits, entries: Iterable<[string, SessionEntry]>): SessionTable {
    const table = new SessionTable(limits);
    for (const [clientId, entry] of entries) {
      assert(!table.sessions.has(clientId), () => `restored session ${clientId} twice`);
      table.insert(clientId, entry);
    }
    table.evict();
    return table;
  }

  private insert(clientId: string, entry: SessionEntry): void {
    const weight = clientId.length * 2 + resultWeight(entry.result);
    this.sessions.set(clientId, { ...entry, weight });
    this.bytes += weight;
  }

  private remove(clientId: string): void {
    const entry = this.sessions.get(clientId);
    if (entry === undefined) return;
    this.sessions.delete(clientId);
    this.bytes -= entry.weight;
  }

  /** Drops least recently used sessions; the newest is kept even if it alone is over bytes. */
  private evict(): string[] {
    const evicted: string[] = [];
    for (const clientId of this.sessions.keys()) {
      const over = this.sessions.size > this.limits.sessionsMax
        || this.bytes > this.limits.sessionBytesMax;
      if (!over || this.sessions.size === 1) break;
      this.remove(clientId);
      evicted.push(clientId);
    }
    assert(this.sessions.size <= this.limits.sessionsMax, "session table over sessionsMax");
    return evicted;
  }
}

function rejected(index: number, code: RejectCode, message: string): KvResult {
  return { kind: "rejected", index, code, message };
}

/** A deterministic estimate of a result's memory: UTF-16 string bytes plus fixed costs. */
export function resultWeight(result: KvResult): number {
  const fixed = 64;
  switch (result.kind) {
    case "put":
      return fixed + (result.prevValue?.length ?? 0) * 2;
    case "incr":
      return fixed + (result.value?.length ?? 0) * 2;
    case "delete":
    case "rejected":
    case "expire":
    case "sweep":
      return fixed;
    case "txn": {
      let bytes = fixed;
      for (const op of result.results) {
        bytes += 32;
        if (op.op === "put") bytes += (op.prevValue?.length ?? 0) * 2;
        if (op.op === "get") bytes += (op.value?.length ?? 0) * 2;
      }
      return bytes;
    }
    default:
      return assertNever(result, "result");
  }
}
