// An in-memory KvApi and AdminApi for the RESP tests: a Map with TTLs on a fake clock,
// following the semantics documented in src/server/api.ts (expired keys are absent, keys are
// ordered by code point, increments are 64-bit). It records every call, and can be told to
// fail the next call with a given error.

import { assertNever } from "../../../src/assert.js";
import type { ReadConsistency } from "../../../src/node/ports.js";
import {
  type AddMemberRequest,
  type AdminApi,
  type ClusterView,
  type DeleteResponse,
  type ExpireResponse,
  type GetResponse,
  type IncrResponse,
  InvalidRequestError,
  type KvApi,
  type KvEntry,
  type MemberView,
  OperationError,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnOperation,
  type TxnOperationResult,
  type TxnRequest,
  type TxnResponse,
} from "../../../src/server/api.js";
import { compareKeys } from "../../../src/kv/keys.js";

export class FakeClock {
  constructor(public ms = 1_700_000_000_000) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

interface Stored {
  value: string;
  createIndex: number;
  modIndex: number;
  expiresAtMs: number | null;
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

export class FakeKv implements KvApi {
  private readonly data = new Map<string, Stored>();
  private index = 0;
  /** One line per call: "get linearizable a,b", "put k", ... */
  readonly calls: string[] = [];
  /** Thrown (once) by the next call. */
  failNext: Error | null = null;

  constructor(private readonly clock: FakeClock) {}

  private enter(call: string): void {
    this.calls.push(call);
    const failure = this.failNext;
    this.failNext = null;
    if (failure !== null) throw failure;
  }

  private live(key: string): Stored | null {
    const stored = this.data.get(key);
    if (stored === undefined) return null;
    if (stored.expiresAtMs !== null && stored.expiresAtMs <= this.clock.now()) {
      this.data.delete(key);
      return null;
    }
    return stored;
  }

  private entry(key: string, stored: Stored): KvEntry {
    return { key, ...stored };
  }

  private write(key: string, value: string, expiresAtMs: number | null): void {
    if (key === "") throw new InvalidRequestError("empty key");
    const old = this.live(key);
    this.data.set(key, {
      value,
      createIndex: old?.createIndex ?? this.index,
      modIndex: this.index,
      expiresAtMs,
    });
  }

  async put(request: PutRequest): Promise<PutResponse> {
    this.enter(`put ${request.key}`);
    if (request.ttlMs !== undefined && request.ttlMs <= 0) {
      throw new InvalidRequestError("ttlMs must be > 0");
    }
    const old = this.live(request.key);
    const index = ++this.index;
    const prevValue = old?.value ?? null;
    const holds =
      request.condition === undefined || (request.condition === "absent") === (old === null);
    if (!holds) return { index, written: false, prevValue };
    let expiresAtMs: number | null = null;
    if (request.ttlMs !== undefined) expiresAtMs = this.clock.now() + request.ttlMs;
    if (request.keepTtl === true) expiresAtMs = old?.expiresAtMs ?? null;
    this.write(request.key, request.value, expiresAtMs);
    return { index, written: true, prevValue };
  }

  async delete(keys: readonly string[]): Promise<DeleteResponse> {
    this.enter(`delete ${keys.join(",")}`);
    let deleted = 0;
    for (const key of keys) {
      if (this.live(key) !== null) deleted++;
      this.data.delete(key);
    }
    return { index: ++this.index, deleted };
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    this.enter(`txn ${request.compare.length}/${request.success.length}/${request.failure.length}`);
    const index = ++this.index;
    const succeeded = request.compare.every((compare) => {
      const stored = this.live(compare.key);
      if ("absent" in compare) return stored === null;
      if ("value" in compare) return stored !== null && stored.value === compare.value;
      return (stored?.modIndex ?? 0) === compare.modIndex;
    });
    const ops = succeeded ? request.success : request.failure;
    return { index, succeeded, results: ops.map((op) => this.runOp(op)) };
  }

  private runOp(op: TxnOperation): TxnOperationResult {
    const stored = this.live(op.key);
    switch (op.op) {
      case "get":
        return { op: "get", value: stored?.value ?? null, modIndex: stored?.modIndex ?? null };
      case "delete":
        this.data.delete(op.key);
        return { op: "delete", existed: stored !== null };
      case "put":
        this.write(op.key, op.value, null);
        return { op: "put", prevValue: stored?.value ?? null };
      default:
        return assertNever(op, "txn operation");
    }
  }

  async incrBy(key: string, delta: string): Promise<IncrResponse> {
    this.enter(`incrBy ${key} ${delta}`);
    const stored = this.live(key);
    const current = stored?.value ?? "0";
    if (!/^(0|-?[1-9][0-9]{0,18})$/.test(current)) {
      throw new OperationError("NOT_INTEGER", "value is not an integer");
    }
    const sum = BigInt(current) + BigInt(delta);
    if (sum < int64Min || sum > int64Max) throw new OperationError("OVERFLOW", "overflow");
    const index = ++this.index;
    this.write(key, String(sum), stored?.expiresAtMs ?? null);
    return { index, value: String(sum) };
  }

  async expire(key: string, ttlMs: number | null): Promise<ExpireResponse> {
    this.enter(`expire ${key} ${ttlMs}`);
    const stored = this.live(key);
    const index = ++this.index;
    if (stored === null) return { index, existed: false };
    stored.expiresAtMs = ttlMs === null ? null : this.clock.now() + ttlMs;
    stored.modIndex = index;
    return { index, existed: true };
  }

  async get(keys: readonly string[], consistency: ReadConsistency): Promise<GetResponse> {
    this.enter(`get ${consistency} ${keys.join(",")}`);
    const entries = keys.map((key) => {
      const stored = this.live(key);
      return stored === null ? null : this.entry(key, stored);
    });
    return { index: this.index, entries };
  }

  async range(request: RangeRequest): Promise<RangeResponse> {
    const after = request.after ?? "";
    this.enter(`range ${request.consistency} ${request.prefix}|${after}|${request.limit}`);
    const keys = [...this.data.keys()]
      .filter((key) => key.startsWith(request.prefix) && this.live(key) !== null)
      .filter((key) => request.after === null || compareKeys(key, request.after) > 0)
      .sort(compareKeys);
    const entries = keys.slice(0, request.limit).map((key) => {
      const stored = this.data.get(key);
      if (stored === undefined) throw new Error("unreachable");
      const entry = this.entry(key, stored);
      return request.keysOnly === true ? { ...entry, value: "" } : entry;
    });
    return { index: this.index, entries, more: keys.length > request.limit };
  }
}

export class FakeAdmin implements AdminApi {
  readonly calls: string[] = [];
  members: MemberView[] = [
    member("1", "10.0.0.1:7000", "voter"),
    member("2", "10.0.0.2:7000", "voter"),
  ];

  async cluster(): Promise<ClusterView> {
    return {
      self: "1",
      leader: "1",
      term: 7,
      role: "leader",
      commitIndex: 42,
      appliedIndex: 41,
      members: this.members,
      joint: false,
    };
  }

  async addMember(request: AddMemberRequest): Promise<ClusterView> {
    this.calls.push(`add ${request.id} ${request.address} ${request.role ?? "-"}`);
    this.members.push(member(request.id, request.address, request.role ?? "voter"));
    return this.cluster();
  }

  async promote(id: string): Promise<ClusterView> {
    this.calls.push(`promote ${id}`);
    return this.cluster();
  }

  async removeMember(id: string): Promise<ClusterView> {
    this.calls.push(`remove ${id}`);
    this.members = this.members.filter((m) => m.id !== id);
    return this.cluster();
  }

  async transferLeader(id?: string): Promise<{ readonly leader: string }> {
    this.calls.push(`transfer ${id ?? "-"}`);
    return { leader: id ?? "2" };
  }

  async snapshot(): Promise<{ readonly index: number; readonly term: number }> {
    this.calls.push("snapshot");
    return { index: 41, term: 7 };
  }
}

function member(id: string, address: string, role: "voter" | "learner"): MemberView {
  return { id, address, role, http: null, resp: `${address}-resp`, matchIndex: 40, lag: 2 };
}
