// Validation of requests that arrive as JSON (POST /v1/txn, forwarded requests between members):
// every field is checked and a mistake is an InvalidRequestError naming it, before anything is
// proposed. Limits on sizes are the state machine's (encodeCommand), reported as TooLargeError.

import { defaultKvLimits } from "../kv/index.js";
import { ReadConsistency } from "../node/ports.js";
import {
  type AddMemberRequest,
  InvalidRequestError,
  MemberRole,
  type PutRequest,
  type RangeRequest,
  type TxnCompare,
  type TxnOperation,
  type TxnRequest,
  type WriteSession,
} from "./api.js";

/** Keys beginning with NUL belong to the server itself (its member directory). */
export const reservedKeyPrefix = "\u0000";

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(value: unknown, what: string): string {
  if (typeof value !== "string") throw new InvalidRequestError(`${what} must be a string`);
  return value;
}

export function userKey(value: unknown, what = "key"): string {
  const key = str(value, what);
  if (key === "") throw new InvalidRequestError(`${what} must not be empty`);
  if (key.startsWith(reservedKeyPrefix)) {
    throw new InvalidRequestError(`${what} must not begin with a NUL character (reserved)`);
  }
  return key;
}

export function nonNegativeInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`${what} must be a non-negative integer`);
  }
  return value;
}

export function consistency(value: unknown, what = "consistency"): ReadConsistency {
  if (value === undefined || value === null || value === "") return ReadConsistency.Linearizable;
  const all = Object.values(ReadConsistency) as unknown[];
  if (!all.includes(value)) {
    throw new InvalidRequestError(`${what} must be one of ${all.join(", ")}`);
  }
  return value as ReadConsistency;
}

export function writeSession(value: unknown): WriteSession {
  if (!isObject(value)) throw new InvalidRequestError("session must be an object");
  const clientId = str(value.clientId, "session.clientId");
  const bytesMax = defaultKvLimits.clientIdBytesMax;
  if (clientId === "" || Buffer.byteLength(clientId) > bytesMax) {
    throw new InvalidRequestError(`session.clientId must have 1 to ${bytesMax} bytes`);
  }
  const sequence = nonNegativeInteger(value.sequence, "session.sequence");
  if (sequence < 1) throw new InvalidRequestError("session.sequence must be at least 1");
  return { clientId, sequence };
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidRequestError(`${what} must be an array`);
  return value;
}

function compare(value: unknown, what: string): TxnCompare {
  if (!isObject(value)) throw new InvalidRequestError(`${what} must be an object`);
  const key = userKey(value.key, `${what}.key`);
  const given = ["value", "absent", "modIndex"].filter((f) => value[f] !== undefined);
  if (given.length !== 1) {
    throw new InvalidRequestError(`${what} needs exactly one of value, absent, modIndex`);
  }
  if (value.value !== undefined) return { key, value: str(value.value, `${what}.value`) };
  if (value.absent !== undefined) {
    if (value.absent !== true) throw new InvalidRequestError(`${what}.absent must be true`);
    return { key, absent: true };
  }
  return { key, modIndex: nonNegativeInteger(value.modIndex, `${what}.modIndex`) };
}

function operation(value: unknown, what: string): TxnOperation {
  if (!isObject(value)) throw new InvalidRequestError(`${what} must be an object`);
  const key = userKey(value.key, `${what}.key`);
  switch (value.op) {
    case "put":
      return { op: "put", key, value: str(value.value, `${what}.value`) };
    case "delete":
      return { op: "delete", key };
    case "get":
      return { op: "get", key };
    default:
      throw new InvalidRequestError(`${what}.op must be "put", "delete" or "get"`);
  }
}

export function txnRequest(value: unknown): TxnRequest {
  if (!isObject(value)) throw new InvalidRequestError("a transaction must be a JSON object");
  for (const field of Object.keys(value)) {
    if (!["compare", "success", "failure", "session"].includes(field)) {
      throw new InvalidRequestError(`unknown transaction field "${field}"`);
    }
  }
  return {
    ...(value.session === undefined ? {} : { session: writeSession(value.session) }),
    compare: list(value.compare, "compare").map((c, i) => compare(c, `compare[${i}]`)),
    success: list(value.success, "success").map((o, i) => operation(o, `success[${i}]`)),
    failure: list(value.failure, "failure").map((o, i) => operation(o, `failure[${i}]`)),
  };
}

export function putRequest(value: unknown): PutRequest {
  if (!isObject(value)) throw new InvalidRequestError("a put must be an object");
  const out: { -readonly [K in keyof PutRequest]: PutRequest[K] } = {
    key: userKey(value.key),
    value: str(value.value, "value"),
  };
  if (value.session !== undefined) out.session = writeSession(value.session);
  if (value.ttlMs !== undefined) {
    const ttl = nonNegativeInteger(value.ttlMs, "ttlMs");
    if (ttl === 0) throw new InvalidRequestError("ttlMs must be positive");
    out.ttlMs = ttl;
  }
  if (value.keepTtl !== undefined) out.keepTtl = value.keepTtl === true;
  if (value.condition !== undefined) {
    if (value.condition !== "absent" && value.condition !== "present") {
      throw new InvalidRequestError('condition must be "absent" or "present"');
    }
    out.condition = value.condition;
  }
  if (out.keepTtl === true && out.ttlMs !== undefined) {
    throw new InvalidRequestError("keepTtl and ttlMs exclude each other");
  }
  return out;
}

export function rangeRequest(value: unknown): RangeRequest {
  if (!isObject(value)) throw new InvalidRequestError("a range must be an object");
  const prefix = str(value.prefix ?? "", "prefix");
  const after =
    value.after === null || value.after === undefined ? null : str(value.after, "after");
  const limit = nonNegativeInteger(value.limit, "limit");
  if (limit < 1) throw new InvalidRequestError("limit must be at least 1");
  return {
    prefix,
    after,
    limit,
    consistency: consistency(value.consistency),
    keysOnly: value.keysOnly === true,
  };
}

export function keyList(value: unknown, what = "keys"): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError(`${what} must be a non-empty array`);
  }
  return value.map((k, i) => userKey(k, `${what}[${i}]`));
}

/** A decimal signed 64-bit integer, canonical (as Redis reads them). */
export function int64(value: unknown, what: string): string {
  const text = str(value, what);
  if (!/^(0|-?[1-9]\d{0,18})$/.test(text)) {
    throw new InvalidRequestError(`${what} is not an integer or out of range`);
  }
  const n = BigInt(text);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) {
    throw new InvalidRequestError(`${what} is not an integer or out of range`);
  }
  return text;
}

export function addMemberRequest(value: unknown): AddMemberRequest {
  if (!isObject(value)) throw new InvalidRequestError("a member must be a JSON object");
  const id = value.id;
  if (typeof id !== "string" && typeof id !== "number") {
    throw new InvalidRequestError("id must be a string or a number");
  }
  const role = value.role ?? MemberRole.Voter;
  if (role !== MemberRole.Voter && role !== MemberRole.Learner) {
    throw new InvalidRequestError('role must be "voter" or "learner"');
  }
  return { id: String(id), address: str(value.address, "address"), role };
}
