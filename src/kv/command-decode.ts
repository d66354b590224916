// The strict command decoder (format in command-format.ts). Any deviation from the format
// throws MalformedCommandError and nothing else, and whatever decodes re-encodes to the same
// bytes: unknown tags or flags, conflicting flags, trailing bytes, invalid or overlong UTF-8,
// u64 above 2^53, empty keys or clientIds, sequence 0, a non-canonical delta, a zero expiry
// where one must be positive, and a sweep without nowMs are all refused.

import { assert } from "../assert.js";
import { ByteReader, asBuffer } from "./binary.js";
import {
  COMMAND_VERSION,
  CompareTag,
  Flag,
  OpTag,
  PutFlag,
  Tag,
  flagsKnown,
  formatLimits,
  putFlagsKnown,
} from "./command-format.js";
import { MalformedCommandError } from "./errors.js";
import { int64TextBytesMax, isInt64 } from "./int64.js";
import type {
  ClientSession,
  Command,
  Compare,
  PutCommand,
  SweepKey,
  TxnOp,
} from "./types.js";

/** Strict: any deviation from the format throws MalformedCommandError, nothing else. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(asBuffer(bytes), malformed);
  const version = r.u8();
  if (version !== COMMAND_VERSION) throw new MalformedCommandError(`version ${version}`, 0);
  const tag = r.u8();
  const flags = r.u8();
  if ((flags & ~flagsKnown) !== 0) throw new MalformedCommandError(`flags ${flags}`, 2);
  const session = (flags & Flag.Session) !== 0 ? readSession(r) : undefined;
  const nowMs = (flags & Flag.Now) !== 0 ? r.u64() : undefined;
  const command = readBody(r, tag, nowMs);
  r.end();
  // Assigned, not spread into a new literal: every replica decodes every entry it applies,
  // and copying the body with spreads cost more than all the rest of decoding a put.
  const envelope: { session?: ClientSession; nowMs?: number } = command;
  if (session !== undefined) envelope.session = session;
  if (nowMs !== undefined) envelope.nowMs = nowMs;
  return command;
}

function malformed(reason: string, at: number): MalformedCommandError {
  return new MalformedCommandError(reason, at);
}

/** The command without its envelope (decodeCommand adds it). */
function readBody(r: ByteReader, tag: number, nowMs: number | undefined): Command {
  switch (tag) {
    case Tag.Put:
      return readPut(r);
    case Tag.Delete:
      return { kind: "delete", key: readKey(r) };
    case Tag.Txn: {
      const compare = readList(r, readCompare);
      const success = readList(r, readOp);
      const failure = readList(r, readOp);
      return { kind: "txn", txn: { compare, success, failure } };
    }
    case Tag.Incr: {
      const key = readKey(r);
      return { kind: "incr", key, delta: readDelta(r) };
    }
    case Tag.Expire: {
      const key = readKey(r);
      return { kind: "expire", key, expiresAtMs: r.u64() };
    }
    case Tag.Sweep: {
      if (nowMs === undefined) throw new MalformedCommandError("sweep without nowMs", 2);
      return { kind: "sweep", keys: readList(r, readSweepKey), nowMs };
    }
    default:
      throw new MalformedCommandError(`unknown command kind ${tag}`, 1);
  }
}

function readPut(r: ByteReader): PutCommand {
  const key = readKey(r);
  const value = readValue(r);
  const at = r.offset;
  const flags = r.u8();
  if ((flags & ~putFlagsKnown) !== 0) throw new MalformedCommandError(`put flags ${flags}`, at);
  const expires = (flags & PutFlag.ExpiresAt) !== 0;
  const keepTtl = (flags & PutFlag.KeepTtl) !== 0;
  const ifAbsent = (flags & PutFlag.IfAbsent) !== 0;
  const ifPresent = (flags & PutFlag.IfPresent) !== 0;
  if (expires && keepTtl) throw new MalformedCommandError("expiresAtMs with keepTtl", at);
  if (ifAbsent && ifPresent) throw new MalformedCommandError("two put conditions", at);
  const put: { -readonly [K in keyof PutCommand]: PutCommand[K] } = { kind: "put", key, value };
  if (expires) {
    const expiresAtMs = r.u64();
    if (expiresAtMs === 0) throw new MalformedCommandError("expiresAtMs 0", at + 1);
    put.expiresAtMs = expiresAtMs;
  }
  if (keepTtl) put.keepTtl = true;
  if (ifAbsent) put.condition = "absent";
  if (ifPresent) put.condition = "present";
  return put;
}

function readSession(r: ByteReader): ClientSession {
  const at = r.offset;
  const bytes = r.u8();
  if (bytes === 0) throw new MalformedCommandError("empty clientId", at);
  const clientId = r.utf8(bytes);
  const sequenceAt = r.offset;
  const sequence = r.u64();
  if (sequence < 1) throw new MalformedCommandError("sequence 0", sequenceAt);
  return { clientId, sequence };
}

function readKey(r: ByteReader): string {
  const at = r.offset;
  const bytes = r.u16();
  if (bytes === 0) throw new MalformedCommandError("empty key", at);
  return r.utf8(bytes);
}

function readValue(r: ByteReader): string {
  const at = r.offset;
  const bytes = r.u32();
  if (bytes > formatLimits.valueBytesMax) {
    throw new MalformedCommandError(`value of ${bytes} bytes`, at);
  }
  return r.utf8(bytes);
}

function readDelta(r: ByteReader): string {
  const at = r.offset;
  const bytes = r.u8();
  if (bytes === 0 || bytes > int64TextBytesMax) {
    throw new MalformedCommandError(`delta of ${bytes} bytes`, at);
  }
  const delta = r.utf8(bytes);
  if (!isInt64(delta)) throw new MalformedCommandError("delta is not a canonical int64", at);
  return delta;
}

function readSweepKey(r: ByteReader): SweepKey {
  const key = readKey(r);
  const at = r.offset;
  const modIndex = r.u64();
  if (modIndex < 1) throw new MalformedCommandError("sweep modIndex 0", at);
  return { key, modIndex };
}

function readList<T>(r: ByteReader, one: (r: ByteReader) => T): T[] {
  const count = r.u16();
  // Each item takes at least 3 bytes, so a hostile count cannot make us allocate much.
  if (count * 3 > r.remaining()) {
    throw new MalformedCommandError(`${count} items in ${r.remaining()} bytes`, r.offset - 2);
  }
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(one(r));
  assert(items.length === count, () => `read ${items.length} of ${count} items`);
  return items;
}

function readCompare(r: ByteReader): Compare {
  const at = r.offset;
  const target = r.u8();
  switch (target) {
    case CompareTag.Value: {
      const key = readKey(r);
      return { target: "value", key, value: readValue(r) };
    }
    case CompareTag.Absent:
      return { target: "absent", key: readKey(r) };
    case CompareTag.ModIndex: {
      const key = readKey(r);
      return { target: "modIndex", key, modIndex: r.u64() };
    }
    default:
      throw new MalformedCommandError(`unknown compare target ${target}`, at);
  }
}

function readOp(r: ByteReader): TxnOp {
  const at = r.offset;
  const tag = r.u8();
  switch (tag) {
    case OpTag.Put: {
      const key = readKey(r);
      return { op: "put", key, value: readValue(r) };
    }
    case OpTag.Delete:
      return { op: "delete", key: readKey(r) };
    case OpTag.Get:
      return { op: "get", key: readKey(r) };
    default:
      throw new MalformedCommandError(`unknown txn op ${tag}`, at);
  }
}
