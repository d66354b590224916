// The operations raft-store's client APIs (HTTP, RESP, the CLI) are built on. Every request is
// plain data, so that a follower can forward it to the leader as JSON and answer with the
// leader's response. `KvApi` is implemented by the server's service (leader: propose or read
// after a barrier; follower: forward); the protocol front ends only translate.
//
// Errors are `RaftStoreError` subclasses with a stable `code` (src/errors.ts and the classes
// below). Whether a failed request may have taken effect follows CONTRACTS.md: NotLeaderError,
// ProposalDroppedError, InvalidRequestError, TooLargeError, OperationError and
// UnavailableError mean it was NOT applied; TimeoutError, StoppedError mean the outcome is
// unknown.

import { RaftStoreError } from "../errors.js";
import type { ReadConsistency } from "../node/ports.js";

/** A stored key as clients see it. Expired keys are never returned. */
export interface KvEntry {
  readonly key: string;
  readonly value: string;
  readonly createIndex: number;
  readonly modIndex: number;
  /** Wall-clock expiry (Unix milliseconds), or null when the key does not expire. */
  readonly expiresAtMs: number | null;
}

/**
 * Exactly-once writes (Raft thesis 6.3): a client numbers its writes 1, 2, 3... under an id
 * of its own; a write retried with the same id and number is answered with the first
 * attempt's result and not applied again.
 */
export interface WriteSession {
  readonly clientId: string;
  readonly sequence: number;
}

export interface PutRequest {
  readonly session?: WriteSession;
  readonly key: string;
  readonly value: string;
  /** Time to live in milliseconds (> 0); absent: the key does not expire (any TTL is cleared). */
  readonly ttlMs?: number;
  /** Keep the key's current expiry (Redis KEEPTTL); not with ttlMs. */
  readonly keepTtl?: boolean;
  /** Write only if the key is absent (NX) or present (XX). */
  readonly condition?: "absent" | "present";
}

export interface PutResponse {
  readonly index: number;
  /** False when the condition did not hold (nothing was written). */
  readonly written: boolean;
  /** The value before this request (null when absent or expired). */
  readonly prevValue: string | null;
}

export interface DeleteResponse {
  readonly index: number;
  /** How many of the keys existed (and were deleted). */
  readonly deleted: number;
}

export type TxnCompare =
  | { readonly key: string; readonly value: string }
  | { readonly key: string; readonly absent: true }
  | { readonly key: string; readonly modIndex: number };

export type TxnOperation =
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "get"; readonly key: string };

/** As POST /v1/txn takes it (CONTRACTS.md). */
export interface TxnRequest {
  readonly session?: WriteSession;
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOperation[];
  readonly failure: readonly TxnOperation[];
}

export type TxnOperationResult =
  | { readonly op: "put"; readonly prevValue: string | null }
  | { readonly op: "delete"; readonly existed: boolean }
  | { readonly op: "get"; readonly value: string | null; readonly modIndex: number | null };

export interface TxnResponse {
  readonly index: number;
  readonly succeeded: boolean;
  readonly results: readonly TxnOperationResult[];
}

export interface IncrResponse {
  readonly index: number;
  /** The new value, a decimal 64-bit signed integer. */
  readonly value: string;
}

export interface ExpireResponse {
  readonly index: number;
  /** False when the key does not exist (nothing changed). */
  readonly existed: boolean;
}

export interface GetResponse {
  /** The applied index the read reflects. */
  readonly index: number;
  /** One per requested key, in order; null when absent or expired. */
  readonly entries: readonly (KvEntry | null)[];
}

export interface RangeRequest {
  /** Keys starting with this ("" for all). */
  readonly prefix: string;
  /** Only keys strictly after this one (for paging), or null from the start. */
  readonly after: string | null;
  readonly limit: number;
  readonly consistency: ReadConsistency;
  /** Omit values (for KEYS/SCAN-like listings). */
  readonly keysOnly?: boolean;
}

export interface RangeResponse {
  readonly index: number;
  readonly entries: readonly KvEntry[];
  /** True when more keys with the prefix follow the last one returned. */
  readonly more: boolean;
}

export interface KvApi {
  put(request: PutRequest): Promise<PutResponse>;
  /** Deletes the keys in one entry (atomically). */
  delete(keys: readonly string[], session?: WriteSession): Promise<DeleteResponse>;
  txn(request: TxnRequest): Promise<TxnResponse>;
  /** Adds `delta` (a decimal 64-bit integer) to the key's integer value (absent: 0). */
  incrBy(key: string, delta: string): Promise<IncrResponse>;
  /** Sets (ttlMs > 0) or removes (null) the key's time to live. */
  expire(key: string, ttlMs: number | null): Promise<ExpireResponse>;
  get(keys: readonly string[], consistency: ReadConsistency): Promise<GetResponse>;
  range(request: RangeRequest): Promise<RangeResponse>;
}

export const MemberRole = { Voter: "voter", Learner: "learner" } as const;
export type MemberRole = (typeof MemberRole)[keyof typeof MemberRole];

export interface MemberView {
  readonly id: string;
  /** The peer (Raft transport) address. */
  readonly address: string;
  /** "voter" or "learner"; "voter" during a joint change for servers in either majority. */
  readonly role: MemberRole;
  /** Client endpoints when the member has registered them, else null. */
  readonly http: string | null;
  readonly resp: string | null;
  /** On the leader: the highest index known replicated to the member; else null. */
  readonly matchIndex: number | null;
  /** On the leader: entries the member is behind the leader's last index; else null. */
  readonly lag: number | null;
}

export interface ClusterView {
  /** The node that answered. */
  readonly self: string;
  readonly leader: string | null;
  readonly term: number;
  readonly role: string;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly MemberView[];
  /** True while a joint (two-majority) configuration is in force. */
  readonly joint: boolean;
}

export interface AddMemberRequest {
  readonly id: string;
  readonly address: string;
  /** "voter" (default): added as a learner, caught up, then promoted. */
  readonly role?: MemberRole;
}

export interface AdminApi {
  cluster(): Promise<ClusterView>;
  addMember(request: AddMemberRequest): Promise<ClusterView>;
  promote(id: string): Promise<ClusterView>;
  removeMember(id: string): Promise<ClusterView>;
  /** Hands leadership to `id` (default: the most up-to-date voter); answers the new leader. */
  transferLeader(id?: string): Promise<{ readonly leader: string }>;
  /** Takes a snapshot on the node that answers. */
  snapshot(): Promise<{ readonly index: number; readonly term: number }>;
}

/** The request is malformed or breaks a rule (HTTP 400, RESP -ERR). Nothing was applied. */
export class InvalidRequestError extends RaftStoreError {
  override readonly code = "INVALID_REQUEST";
}

/** A key, value or body is over its limit (HTTP 413). Nothing was applied. */
export class TooLargeError extends RaftStoreError {
  override readonly code = "TOO_LARGE";
}

/** The operation does not apply to the stored value (e.g. INCR on a non-integer). Not applied. */
export class OperationError extends RaftStoreError {
  constructor(
    override readonly code: "NOT_INTEGER" | "OVERFLOW",
    message: string,
  ) {
    super(message);
  }
}

/**
 * A session write that cannot be answered: its session expired (an earlier attempt may have
 * been applied) or the sequence is older than the session's last (HTTP 409). Not applied now.
 */
export class SessionError extends RaftStoreError {
  constructor(
    override readonly code: "SESSION_EXPIRED" | "STALE_SEQUENCE",
    message: string,
  ) {
    super(message);
  }
}

/** No leader is known, or it cannot be reached now (HTTP 503). Nothing was applied. */
export class UnavailableError extends RaftStoreError {
  override readonly code = "UNAVAILABLE";
}

/** The client token is missing or wrong (HTTP 401, RESP -NOAUTH). */
export class UnauthorizedError extends RaftStoreError {
  override readonly code = "UNAUTHORIZED";
}
