// The binary command codec (version 1). A command is small and hot (one per client write), so
// it is a fixed little-endian layout rather than JSON or MessagePack: nothing to guess about
// types, one pass to validate, and a canonical form (decode then encode gives the same bytes).
//
//   u8 version = 1 | u8 kind (1 put, 2 delete, 3 txn) | u8 flags (bit 0: session)
//   [session]  u8 clientIdBytes, clientId, u64 sequence
//   put        str16 key, str32 value
//   delete     str16 key
//   txn        u16 count, compares | u16 count, success ops | u16 count, failure ops
//   compare    u8 target (1 value, 2 absent, 3 modIndex), str16 key, [str32 value | u64 modIndex]
//   op         u8 op (1 put, 2 delete, 3 get), str16 key, [str32 value]
//
// strN is a uN byte length then UTF-8 bytes; u64 holds a safe integer. Limits from `KvLimits`
// are enforced when encoding (where a client's request enters the log); decoding enforces only
// the format's own maxima, so every replica decodes the same bytes the same way whatever its
// configuration.

import { assert, assertNever } from "../assert.js";
import { ConfigError } from "../errors.js";
import { ByteReader, ByteWriter, asBuffer } from "./binary.js";
import {
  InvalidCommandError,
  KeyTooLargeError,
  MalformedCommandError,
  TooManyTxnOpsError,
  ValueTooLargeError,
} from "./errors.js";
import { isWellFormed } from "./keys.js";
import type { ClientSession, Command, Compare, TxnOp } from "./types.js";

export const COMMAND_VERSION = 1;

export interface KvLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  /** Per list: compare, success and failure may each hold this many items. */
  readonly txnOpsMax: number;
  readonly clientIdBytesMax: number;
}

/** The most the format can carry; configured limits must stay within these. */
export const formatLimits: KvLimits = {
  keyBytesMax: 0xffff,
  valueBytesMax: 64 * 1024 * 1024,
  txnOpsMax: 0xffff,
  clientIdBytesMax: 0xff,
};

export const defaultKvLimits: KvLimits = {
  keyBytesMax: 4096,
  valueBytesMax: 1024 * 1024,
  txnOpsMax: 128,
  clientIdBytesMax: 64,
};

const Tag = { Put: 1, Delete: 2, Txn: 3 } as const;
const OpTag = { Put: 1, Delete: 2, Get: 3 } as const;
const kindTag = { put: Tag.Put, delete: Tag.Delete, txn: Tag.Txn } as const;
const opTag = { put: OpTag.Put, delete: OpTag.Delete, get: OpTag.Get } as const;
const CompareTag = { Value: 1, Absent: 2, ModIndex: 3 } as const;
const flagSession = 1;

/** Throws ConfigError unless every limit is a positive integer within the format's maxima. */
export function checkKvLimits(limits: KvLimits): KvLimits {
  for (const name of Object.keys(formatLimits) as (keyof KvLimits)[]) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1 || value > formatLimits[name]) {
      throw new ConfigError(`${name} ${value} must be an integer in [1, ${formatLimits[name]}]`);
    }
  }
  return limits;
}

export function encodeCommand(command: Command, limits: KvLimits = defaultKvLimits): Uint8Array {
  const w = new ByteWriter(64);
  const e = new Encoder(w, limits);
  w.u8(COMMAND_VERSION);
  w.u8(kindTag[command.kind]);
  w.u8(command.session === undefined ? 0 : flagSession);
  if (command.session !== undefined) e.session(command.session);
  switch (command.kind) {
    case "put":
      e.key(command.key);
      e.value(command.value);
      break;
    case "delete":
      e.key(command.key);
      break;
    case "txn":
      e.list("compare", command.txn.compare, (c) => e.compare(c));
      e.list("success", command.txn.success, (op) => e.op(op));
      e.list("failure", command.txn.failure, (op) => e.op(op));
      break;
    default:
      assertNever(command, "command");
  }
  // The writer is not used again, so its bytes can be handed out without a copy.
  return w.view();
}

/** Validates while writing, so a command is checked once, on its way into the log. */
class Encoder {
  constructor(
    private readonly w: ByteWriter,
    private readonly limits: KvLimits,
  ) {}

  session(session: ClientSession): void {
    const bytes = this.text(session.clientId, "clientId");
    if (bytes === 0 || bytes > this.limits.clientIdBytesMax) {
      throw new InvalidCommandError(
        `clientId has ${bytes} bytes, outside [1, ${this.limits.clientIdBytesMax}]`);
    }
    if (!Number.isSafeInteger(session.sequence) || session.sequence < 1) {
      throw new InvalidCommandError(`sequence ${session.sequence} is not an integer >= 1`);
    }
    this.w.u8(bytes);
    this.w.utf8(session.clientId, bytes);
    this.w.u64(session.sequence);
  }

  key(key: string): void {
    const bytes = this.text(key, "key");
    if (bytes === 0) throw new InvalidCommandError("empty key");
    if (bytes > this.limits.keyBytesMax) throw new KeyTooLargeError(bytes, this.limits.keyBytesMax);
    this.w.u16(bytes);
    this.w.utf8(key, bytes);
  }

  value(value: string): void {
    const bytes = this.text(value, "value");
    if (bytes > this.limits.valueBytesMax) {
      throw new ValueTooLargeError(bytes, this.limits.valueBytesMax);
    }
    this.w.u32(bytes);
    this.w.utf8(value, bytes);
  }

  list<T>(name: "compare" | "success" | "failure", items: readonly T[], one: (t: T) => void) {
    if (items.length > this.limits.txnOpsMax) {
      throw new TooManyTxnOpsError(name, items.length, this.limits.txnOpsMax);
    }
    this.w.u16(items.length);
    for (const item of items) one(item);
  }

  compare(c: Compare): void {
    switch (c.target) {
      case "value":
        this.w.u8(CompareTag.Value);
        this.key(c.key);
        this.value(c.value);
        break;
      case "absent":
        this.w.u8(CompareTag.Absent);
        this.key(c.key);
        break;
      case "modIndex":
        if (!Number.isSafeInteger(c.modIndex) || c.modIndex < 0) {
          throw new InvalidCommandError(`modIndex ${c.modIndex} is not an integer >= 0`);
        }
        this.w.u8(CompareTag.ModIndex);
        this.key(c.key);
        this.w.u64(c.modIndex);
        break;
      default:
        assertNever(c, "compare");
    }
  }

  op(op: TxnOp): void {
    this.w.u8(opTag[op.op]);
    this.key(op.key);
    if (op.op === "put") this.value(op.value);
  }

  /** UTF-8 length of a string that must be a well-formed string (no lone surrogate). */
  private text(text: unknown, what: string): number {
    if (typeof text !== "string") throw new InvalidCommandError(`${what} is not a string`);
    if (!isWellFormed(text)) throw new InvalidCommandError(`${what} has a lone surrogate`);
    return Buffer.byteLength(text, "utf8");
  }
}

/** Strict: any deviation from the format throws MalformedCommandError, nothing else. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(asBuffer(bytes), (reason, at) => new MalformedCommandError(reason, at));
  const version = r.u8();
  if (version !== COMMAND_VERSION) throw new MalformedCommandError(`version ${version}`, 0);
  const tag = r.u8();
  const flags = r.u8();
  if ((flags & ~flagSession) !== 0) throw new MalformedCommandError(`flags ${flags}`, 2);
  const session = (flags & flagSession) !== 0 ? readSession(r) : undefined;
  const base = readBody(r, tag);
  r.end();
  return session === undefined ? base : { ...base, session };
}

function readBody(r: ByteReader, tag: number): Command {
  switch (tag) {
    case Tag.Put: {
      const key = readKey(r);
      return { kind: "put", key, value: readValue(r) };
    }
    case Tag.Delete:
      return { kind: "delete", key: readKey(r) };
    case Tag.Txn: {
      const compare = readList(r, readCompare);
      const success = readList(r, readOp);
      const failure = readList(r, readOp);
      return { kind: "txn", txn: { compare, success, failure } };
    }
    default:
      throw new MalformedCommandError(`unknown command kind ${tag}`, 1);
  }
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
