// KvApi on this node's Raft node and state: writes are proposed as commands (stamped with this
// leader's wall clock, which decides expiries for every replica alike), reads wait for a read
// barrier and then read the local state. Only the leader answers; the router (kv-service.ts)
// sends everything else to it.

import { assertNever } from "../assert.js";
import {
  type Command,
  type CommandEnvelope,
  type KvRecord,
  type KvResult,
  type KvStore,
  type PutCommand,
  defaultKvLimits,
  encodeCommand,
} from "../kv/index.js";
import type { RaftNode } from "../node/raft-node.js";
import type { ReadConsistency } from "../node/ports.js";
import {
  type DeleteResponse,
  type ExpireResponse,
  type GetResponse,
  type IncrResponse,
  type KvApi,
  type KvEntry,
  OperationError,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  SessionError,
  type TxnRequest,
  type TxnResponse,
  UnavailableError,
  type WriteSession,
} from "./api.js";
import type { ServerMetrics } from "./metrics.js";
import { reservedKeyPrefix } from "./validate.js";

export interface LocalKvOptions {
  readonly node: RaftNode<KvResult>;
  readonly store: KvStore;
  readonly metrics: ServerMetrics;
  /** Wall clock in Unix ms (expiries). */
  readonly now: () => number;
  /** Test-only planted bug: linearizable reads skip ReadIndex. */
  readonly unsafeLocalReads: boolean;
}

export function entryView(record: KvRecord | undefined, keysOnly = false): KvEntry | null {
  if (record === undefined) return null;
  return {
    key: record.key,
    value: keysOnly ? "" : record.value,
    createIndex: record.createIndex,
    modIndex: record.modIndex,
    expiresAtMs: record.expiresAtMs === 0 ? null : record.expiresAtMs,
  };
}

/** After the last reserved key: ranges over "" never show the server's own keys. */
const afterReserved = `${reservedKeyPrefix}\u{10FFFF}`;

export class LocalKv implements KvApi {
  constructor(private readonly o: LocalKvOptions) {}

  /**
   * Proposes a command (checked against the limits first); resolves with its result. It carries
   * this leader's clock as nowMs and `session`, whatever the command itself holds.
   */
  async propose(command: Command, session?: WriteSession): Promise<KvResult> {
    const envelope: { -readonly [K in keyof CommandEnvelope]: CommandEnvelope[K] } =
      { nowMs: this.o.now() };
    if (session !== undefined) envelope.session = session;
    const bytes = encodeCommand(command, defaultKvLimits, envelope);
    const started = performance.now();
    try {
      const result = await this.o.node.propose(bytes);
      if (result.kind === "rejected") {
        if (result.code === "MALFORMED_COMMAND") {
          throw new UnavailableError(`the command was rejected: ${result.message}`);
        }
        throw new SessionError(result.code, result.message);
      }
      return result;
    } finally {
      this.o.metrics.observeProposal((performance.now() - started) / 1000);
    }
  }

  async put(request: PutRequest): Promise<PutResponse> {
    const ttlMs = request.ttlMs;
    // Optional fields assigned, not spread (about a microsecond a put on the leader).
    const command: { -readonly [K in keyof PutCommand]: PutCommand[K] } =
      { kind: "put", key: request.key, value: request.value };
    if (ttlMs !== undefined) command.expiresAtMs = this.o.now() + ttlMs;
    if (request.keepTtl === true) command.keepTtl = true;
    if (request.condition !== undefined) command.condition = request.condition;
    const result = await this.propose(command, request.session);
    if (result.kind !== "put") return unexpected(result);
    return { index: result.index, written: result.written, prevValue: result.prevValue };
  }

  async delete(keys: readonly string[], session?: WriteSession): Promise<DeleteResponse> {
    if (keys.length === 1) {
      const result = await this.propose({ kind: "delete", key: keys[0] ?? "" }, session);
      if (result.kind !== "delete") return unexpected(result);
      return { index: result.index, deleted: result.existed ? 1 : 0 };
    }
    const ops = keys.map((key) => ({ op: "delete" as const, key }));
    const result = await this.propose(
      { kind: "txn", txn: { compare: [], success: ops, failure: [] } },
      session,
    );
    if (result.kind !== "txn") return unexpected(result);
    const deleted = result.results.filter((r) => r.op === "delete" && r.existed).length;
    return { index: result.index, deleted };
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    const compare = request.compare.map((c) => {
      if ("value" in c) return { target: "value" as const, key: c.key, value: c.value };
      if ("absent" in c) return { target: "absent" as const, key: c.key };
      return { target: "modIndex" as const, key: c.key, modIndex: c.modIndex };
    });
    const txn = { compare, success: request.success, failure: request.failure };
    const result = await this.propose({ kind: "txn", txn }, request.session);
    if (result.kind !== "txn") return unexpected(result);
    const results = result.results.map((r) => {
      switch (r.op) {
        case "put":
          return { op: "put" as const, prevValue: r.prevValue };
        case "delete":
          return { op: "delete" as const, existed: r.existed };
        case "get":
          return { op: "get" as const, value: r.value, modIndex: r.modIndex };
        default:
          return assertNever(r, "txn result");
      }
    });
    return { index: result.index, succeeded: result.succeeded, results };
  }

  async incrBy(key: string, delta: string): Promise<IncrResponse> {
    const result = await this.propose({ kind: "incr", key, delta });
    if (result.kind !== "incr") return unexpected(result);
    if (result.error === "NOT_INTEGER") {
      throw new OperationError("NOT_INTEGER", "value is not an integer or out of range");
    }
    if (result.error === "OVERFLOW" || result.value === null) {
      throw new OperationError("OVERFLOW", "increment or decrement would overflow");
    }
    return { index: result.index, value: result.value };
  }

  async expire(key: string, ttlMs: number | null): Promise<ExpireResponse> {
    const expiresAtMs = ttlMs === null ? 0 : this.o.now() + ttlMs;
    const result = await this.propose({ kind: "expire", key, expiresAtMs });
    if (result.kind !== "expire") return unexpected(result);
    return { index: result.index, existed: result.existed };
  }

  private async barrier(consistency: ReadConsistency): Promise<number> {
    if (this.o.unsafeLocalReads) return this.o.node.status().appliedIndex;
    return this.o.node.readBarrier(consistency);
  }

  async get(keys: readonly string[], consistency: ReadConsistency): Promise<GetResponse> {
    const index = await this.barrier(consistency);
    const now = this.o.now();
    return { index, entries: keys.map((key) => entryView(this.o.store.get(key, now))) };
  }

  async range(request: RangeRequest): Promise<RangeResponse> {
    const index = await this.barrier(request.consistency);
    let after = request.after;
    if (request.prefix === "" && (after === null || after < afterReserved)) after = afterReserved;
    const range = this.o.store.range(request.prefix, request.limit, {
      ...(after === null ? {} : { after }),
      nowMs: this.o.now(),
    });
    const entries = range.records.map((r) => entryView(r, request.keysOnly) as KvEntry);
    return { index, entries, more: range.more };
  }
}

function unexpected(result: KvResult): never {
  throw new UnavailableError(`unexpected result kind "${result.kind}" from the state machine`);
}
