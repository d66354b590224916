// The commands the key-value state machine applies and the results it returns. The shapes follow
// the HTTP API in CONTRACTS.md (POST /v1/txn): comparisons on value, absence or modIndex, and
// put/delete/get operations. Indexes are Raft log indexes; an absent key has modIndex 0 in
// comparisons (as etcd's mod_revision), and `null` fields in results.

/** Exactly-once envelope (Raft thesis ch. 6): one sequence per command, starting at 1. */
export interface ClientSession {
  readonly clientId: string;
  readonly sequence: number;
}

export const CommandKind = { Put: "put", Delete: "delete", Txn: "txn" } as const;
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

export type Command =
  | { readonly kind: "put"; readonly key: string; readonly value: string;
      readonly session?: ClientSession }
  | { readonly kind: "delete"; readonly key: string; readonly session?: ClientSession }
  | { readonly kind: "txn"; readonly txn: Txn; readonly session?: ClientSession };

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

/** What `apply` returns. `index` is the Raft index of the entry that produced the result. */
export type KvResult =
  | { readonly kind: "put"; readonly index: number; readonly prevValue: string | null;
      readonly prevModIndex: number | null }
  | { readonly kind: "delete"; readonly index: number; readonly existed: boolean }
  | { readonly kind: "txn"; readonly index: number; readonly succeeded: boolean;
      readonly results: readonly OpResult[] }
  | { readonly kind: "rejected"; readonly index: number; readonly code: RejectCode;
      readonly message: string };

/** A stored key. Immutable: an update replaces the record, so snapshots can share it. */
export interface KvRecord {
  readonly key: string;
  readonly value: string;
  readonly createIndex: number;
  readonly modIndex: number;
}
