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
  CommandEnvelope,
  Compare,
  PutCommand,
  SweepKey,
  TxnOp,
} from "./types.js";

/** Strict: any deviation from the format throws MalformedCommandError, nothing else. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(asBuffer(bytes), (reason, at) => new MalformedCommandError(reason, at));
  const version = r.u8();
  if (version !== COMMAND_VERSION) throw new MalformedCommandError(`version ${version}`, 0);
  const tag = r.u8();
  const flags = r.u8();
  if ((flags & ~flagsKnown) !== 0) throw new MalformedCommandError(`flags ${flags}`, 2);
  const session = (flags & Flag.Session) !== 0 ? readSession(r) : undefined;
  const nowMs = (flags & Flag.Now) !== 0 ? r.u64() : undefined;
  const envelope: CommandEnvelope = {
    ...(session === undefined ? {} : { session }),
    ...(nowMs === undefined ? {} : { nowMs }),
  };
  const command = readBody(r, tag, envelope);
  r.end();
  return command;
}

function readBody(r: ByteReader, tag: number, envelope: CommandEnvelope): Command {
  switch (tag) {
    case Tag.Put:
      return { ...readPut(r), ...envelope };
    case Tag.Delete:
      return { kind: "delete", key: readKey(r), ...envelope };
    case Tag.Txn: {
      const compare = readList(r, readCompare);
      const success = readList(r, readOp);
      const failure = readList(r, readOp);
      return { kind: "txn", txn: { compare, success, failure }, ...envelope };
    }
    case Tag.Incr: {
      const key = readKey(r);
      return { kind: "incr", key, delta: readDelta(r), ...envelope };
    }
    case Tag.Expire: {
      const key = readKey(r);
      return { kind: "expire", key, expiresAtMs: r.u64(), ...envelope };
    }
    case Tag.Sweep: {
      const nowMs = envelope.nowMs;
      if (nowMs === undefined) throw new MalformedCommandError("sweep without nowMs", 2);
      const keys = readList(r, readSweepKey);
      return { kind: "sweep", keys, ...envelope, nowMs };
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
  let expiresAtMs: number | undefined;
  if (expires) {
    expiresAtMs = r.u64();
    if (expiresAtMs === 0) throw new MalformedCommandError("expiresAtMs 0", at + 1);
  }
  return {
    kind: "put", key, value,
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    ...(keepTtl ? { keepTtl } : {}),
    ...(ifAbsent ? { condition: "absent" as const } : {}),
    ...(ifPresent ? { condition: "present" as const } : {}),
  };
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
