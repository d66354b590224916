// The commands the key-value state machine applies and the results it returns. The shapes follow
// the HTTP API in CONTRACTS.md (POST /v1/txn): comparisons on value, absence or modIndex, and
// put/delete/get operations, plus the Redis-like commands of the server (TTLs, INCRBY,
// conditional puts). Indexes are Raft log indexes; an absent key has modIndex 0 in comparisons
// (as etcd's mod_revision), and `null` fields in results.
//
// Expiry: a record with `expiresAtMs !== 0 && expiresAtMs <= nowMs` is treated as absent by every
// command that carries `nowMs` (the proposing leader's wall clock). Time never enters `apply`
// otherwise, so every replica decides alike.

/** Exactly-once envelope (Raft thesis ch. 6): one sequence per command, starting at 1. */
export interface ClientSession {
  readonly clientId: string;
  readonly sequence: number;
}

export const CommandKind = {
  Put: "put",
  Delete: "delete",
  Txn: "txn",
  Incr: "incr",
  Expire: "expire",
  Sweep: "sweep",
} as const;
export type CommandKind = (typeof CommandKind)[keyof typeof CommandKind];

export type Compare =
  | { readonly target: "value"; readonly key: string; readonly value: string }
  | { readonly target: "absent"; readonly key: string }
  | { readonly target: "modIndex"; readonly key: string; readonly modIndex: number };

export type TxnOp =
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "get"; readonly key: string };

export interface Txn {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** Fields any command may carry. */
export interface CommandEnvelope {
  readonly session?: ClientSession;
  /** The proposing leader's wall clock (Unix ms, a safe integer >= 0): decides expiries. */
  readonly nowMs?: number;
}

export type PutCondition = "absent" | "present";

export interface PutCommand extends CommandEnvelope {
  readonly kind: "put";
  readonly key: string;
  readonly value: string;
  /** Absolute expiry (Unix ms, > 0). Without it (and without keepTtl) any expiry is cleared. */
  readonly expiresAtMs?: number;
  /** Keep the live record's expiry (Redis KEEPTTL); not together with expiresAtMs. */
  readonly keepTtl?: boolean;
  /** Write only if the key is absent (NX) or present (XX); expired counts as absent. */
  readonly condition?: PutCondition;
}

export interface DeleteCommand extends CommandEnvelope {
  readonly kind: "delete";
  readonly key: string;
}

export interface TxnCommand extends CommandEnvelope {
  readonly kind: "txn";
  readonly txn: Txn;
}

/** Redis INCRBY: adds `delta` (a canonical decimal int64) to the key's integer value. */
export interface IncrCommand extends CommandEnvelope {
  readonly kind: "incr";
  readonly key: string;
  readonly delta: string;
}

/** Sets the key's expiry (Unix ms), or removes it with 0 (Redis PERSIST). */
export interface ExpireCommand extends CommandEnvelope {
  readonly kind: "expire";
  readonly key: string;
  readonly expiresAtMs: number;
}

/** A key the sweeper saw expired, with the modIndex it saw (so a rewrite is not deleted). */
export interface SweepKey {
  readonly key: string;
  readonly modIndex: number;
}

/** Physically deletes listed keys that are still expired at `nowMs` and unchanged. */
export interface SweepCommand extends CommandEnvelope {
  readonly kind: "sweep";
  readonly keys: readonly SweepKey[];
  readonly nowMs: number;
}

export type Command =
  | PutCommand
  | DeleteCommand
  | TxnCommand
  | IncrCommand
  | ExpireCommand
  | SweepCommand;

export type OpResult =
  | { readonly op: "put"; readonly prevValue: string | null; readonly prevModIndex: number | null }
  | { readonly op: "delete"; readonly existed: boolean }
  | { readonly op: "get"; readonly value: string | null; readonly createIndex: number | null;
      readonly modIndex: number | null };

/** Why a command was not applied; the state is unchanged. */
export const RejectCode = {
  /** The session is unknown (expired, or never opened) and the sequence is not 1. */
  SessionExpired: "SESSION_EXPIRED",
  /** The sequence is older than the session's last one, whose result replaced it. */
  StaleSequence: "STALE_SEQUENCE",
  /** The entry's bytes are not a command (the same on every replica, so nothing diverges). */
  MalformedCommand: "MALFORMED_COMMAND",
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

/** Why an incr changed nothing. */
export const IncrError = {
  /** The stored value is not a canonical decimal 64-bit signed integer. */
  NotInteger: "NOT_INTEGER",
  /** The sum is outside [-2^63, 2^63 - 1]. */
  Overflow: "OVERFLOW",
} as const;
export type IncrError = (typeof IncrError)[keyof typeof IncrError];

/** What `apply` returns. `index` is the Raft index of the entry that produced the result. */
export type KvResult =
  | { readonly kind: "put"; readonly index: number; readonly written: boolean;
      readonly prevValue: string | null; readonly prevModIndex: number | null }
  | { readonly kind: "delete"; readonly index: number; readonly existed: boolean }
  | { readonly kind: "txn"; readonly index: number; readonly succeeded: boolean;
      readonly results: readonly OpResult[] }
  | { readonly kind: "incr"; readonly index: number; readonly value: string | null;
      readonly error: IncrError | null }
  | { readonly kind: "expire"; readonly index: number; readonly existed: boolean }
  | { readonly kind: "sweep"; readonly index: number; readonly deleted: number }
  | { readonly kind: "rejected"; readonly index: number; readonly code: RejectCode;
      readonly message: string };

/** A stored key. Immutable: an update replaces the record, so snapshots can share it. */
export interface KvRecord {
  readonly key: string;
  readonly value: string;
  readonly createIndex: number;
  readonly modIndex: number;
  /** Wall-clock expiry in Unix ms; 0 = never expires. */
  readonly expiresAtMs: number;
}

export interface KvRange {
  /** Keys starting with the prefix, in UTF-8 byte order, at most `limit` of them. */
  readonly records: readonly KvRecord[];
  /** True when more (live) keys with the prefix follow the last one returned. */
  readonly more: boolean;
}

export interface RangeOptions {
  /** Only keys strictly greater than this one (paging); they must still start with the prefix. */
  readonly after?: string;
  /** Skip records expired at this wall-clock time (Unix ms); without it nothing is expired. */
  readonly nowMs?: number;
}

/** True when `record` is expired at `nowMs` (never without a clock). */
export function isExpired(record: KvRecord, nowMs: number | undefined): boolean {
  return nowMs !== undefined && record.expiresAtMs !== 0 && record.expiresAtMs <= nowMs;
}
