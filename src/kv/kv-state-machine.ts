// The replicated key-value state machine that raft-store's server runs. `apply` decodes a
// command (command.ts), deduplicates it through the client's session (sessions.ts) and executes
// it against a copy-on-write B+tree (btree.ts); everything it does depends only on the entry
// and the prior state, so every replica computes the same results and the same state.
//
// Reads (`get`, `range`) see everything applied so far; the server calls them after a read
// barrier (ReadIndex or lease). The state is volatile: `appliedIndex()` is deliberately not
// implemented, so the node rebuilds it from the latest snapshot and the log.

import { createHash } from "node:crypto";
import { assert, assertNever } from "../assert.js";
import { ConfigError } from "../errors.js";
import type { SnapshotMeta } from "../core/types.js";
import type { AppliedEntry, StateMachine } from "../node/ports.js";
import { ByteWriter } from "./binary.js";
import { BTree, recordsFrom } from "./btree.js";
import { decodeCommand } from "./command.js";
import { InvalidReadError, MalformedCommandError } from "./errors.js";
import {
  type SessionLimits,
  SessionTable,
  defaultSessionLimits,
} from "./sessions.js";
import { readSnapshot } from "./snapshot-reader.js";
import {
  chunkBytesMax,
  chunkBytesMin,
  defaultChunkBytes,
  writeRecord,
  writeSession,
  writeSnapshot,
} from "./snapshot-format.js";
import {
  type Command,
  type Compare,
  type KvRecord,
  type KvResult,
  type OpResult,
  RejectCode,
  type TxnOp,
} from "./types.js";

export interface KvStateMachineOptions extends Partial<SessionLimits> {
  /** Size of the chunks `snapshot()` yields (the last may be a little larger). */
  readonly snapshotChunkBytes?: number;
}

export interface KvRange {
  /** Keys starting with the prefix, in UTF-8 byte order, at most `limit` of them. */
  readonly records: readonly KvRecord[];
  /** True when more keys with the prefix follow the last one returned. */
  readonly more: boolean;
}

export class KvStateMachine implements StateMachine<KvResult> {
  private tree = new BTree();
  private sessions: SessionTable;
  private readonly sessionLimits: SessionLimits;
  private readonly chunkBytes: number;
  /** The index of the last entry applied (or of the restored snapshot). */
  private lastIndex = 0;

  constructor(options: KvStateMachineOptions = {}) {
    this.sessionLimits = {
      sessionsMax: options.sessionsMax ?? defaultSessionLimits.sessionsMax,
      sessionBytesMax: options.sessionBytesMax ?? defaultSessionLimits.sessionBytesMax,
    };
    this.sessions = new SessionTable(this.sessionLimits);
    this.chunkBytes = options.snapshotChunkBytes ?? defaultChunkBytes;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < chunkBytesMin
      || this.chunkBytes > chunkBytesMax) {
      throw new ConfigError(
        `snapshotChunkBytes ${this.chunkBytes} must be in [${chunkBytesMin}, ${chunkBytesMax}]`);
    }
  }

  /** Keys stored. */
  get size(): number {
    return this.tree.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The index of the last entry applied, or of the snapshot restored (not `appliedIndex`). */
  get lastAppliedIndex(): number {
    return this.lastIndex;
  }

  apply(entry: AppliedEntry): KvResult {
    assert(entry.index > this.lastIndex, () => `apply ${entry.index} after ${this.lastIndex}`);
    this.lastIndex = entry.index;
    let command: Command;
    try {
      command = decodeCommand(entry.data);
    } catch (error) {
      // Every replica fails on the same bytes the same way, so rejecting keeps them in step;
      // throwing would stop every node on this entry forever.
      if (!(error instanceof MalformedCommandError)) throw error;
      return { kind: "rejected", index: entry.index, code: RejectCode.MalformedCommand,
        message: error.message };
    }
    const session = command.session;
    if (session !== undefined) {
      const answer = this.sessions.check(session, entry.index);
      if (answer !== undefined) return answer;
    }
    const result = this.execute(command, entry.index);
    if (session !== undefined) this.sessions.record(session, result);
    return result;
  }

  get(key: string): KvRecord | undefined {
    return this.tree.get(key);
  }

  /** Up to `limit` keys that start with `prefix` ("" for all), in key order. */
  range(prefix: string, limit: number): KvRange {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidReadError(`range limit ${limit} is not an integer >= 1`);
    }
    const records: KvRecord[] = [];
    for (const record of recordsFrom(this.tree.liveRoot(), prefix)) {
      if (!record.key.startsWith(prefix)) break;
      if (records.length === limit) return { records, more: true };
      records.push(record);
    }
    return { records, more: false };
  }

  /**
   * The state as of this call, streamed in chunks: the tree is frozen in O(1) (copy-on-write)
   * and the session table, which is bounded, is copied. Later applies do not change the stream.
   */
  snapshot(): AsyncIterable<Uint8Array> {
    const source = {
      appliedIndex: this.lastIndex,
      tree: this.tree.freeze(),
      sessions: this.sessions.entries(),
    };
    return writeSnapshot(source, this.chunkBytes);
  }

  /** Reads and verifies the whole stream, then swaps the state in one synchronous step. */
  async restore(chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    const read = await readSnapshot(chunks, meta.index);
    const sessions = SessionTable.restore(this.sessionLimits, read.sessions);
    this.tree = new BTree(read.tree);
    this.sessions = sessions;
    this.lastIndex = meta.index;
  }

  /**
   * SHA-256 (hex) of the replicated contents: every record in key order and the sessions in
   * eviction order. Replicas that applied the same commands have the same hash, whatever their
   * snapshot history; the applied index is left out because restore sets it from the meta.
   */
  stateHash(): string {
    const hash = createHash("sha256");
    const w = new ByteWriter(64 * 1024);
    const flushBytes = 48 * 1024;
    for (const record of recordsFrom(this.tree.liveRoot())) {
      writeRecord(w, record);
      if (w.size >= flushBytes) {
        hash.update(w.view());
        w.reset();
      }
    }
    w.utf8("|", 1);
    for (const [clientId, entry] of this.sessions.entries()) writeSession(w, clientId, entry);
    hash.update(w.view());
    return hash.digest("hex");
  }

  private execute(command: Command, index: number): KvResult {
    switch (command.kind) {
      case "put": {
        const previous = this.put(command.key, command.value, index);
        return { kind: "put", index, prevValue: previous?.value ?? null,
          prevModIndex: previous?.modIndex ?? null };
      }
      case "delete":
        return { kind: "delete", index, existed: this.tree.delete(command.key) !== undefined };
      case "txn": {
        const succeeded = command.txn.compare.every((c) => this.holds(c));
        const ops = succeeded ? command.txn.success : command.txn.failure;
        const results = ops.map((op) => this.runOp(op, index));
        return { kind: "txn", index, succeeded, results };
      }
      default:
        return assertNever(command, "command");
    }
  }

  private put(key: string, value: string, index: number): KvRecord | undefined {
    const existing = this.tree.get(key);
    const createIndex = existing?.createIndex ?? index;
    return this.tree.set({ key, value, createIndex, modIndex: index });
  }

  private holds(c: Compare): boolean {
    const record = this.tree.get(c.key);
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
  private runOp(op: TxnOp, index: number): OpResult {
    switch (op.op) {
      case "put": {
        const previous = this.put(op.key, op.value, index);
        return { op: "put", prevValue: previous?.value ?? null,
          prevModIndex: previous?.modIndex ?? null };
      }
      case "delete":
        return { op: "delete", existed: this.tree.delete(op.key) !== undefined };
      case "get": {
        const record = this.tree.get(op.key);
        return { op: "get", value: record?.value ?? null,
          createIndex: record?.createIndex ?? null, modIndex: record?.modIndex ?? null };
      }
      default:
        return assertNever(op, "txn op");
    }
  }
}
