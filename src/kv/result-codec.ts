// Binary form of a KvResult, used to keep the sessions' saved results in snapshots (and in the
// state hash). Layout: u8 kind (1 put, 2 delete, 3 txn, 4 rejected, 5 incr, 6 expire,
// 7 sweep), u64 index, then
//   put       u8 written, opt-str prevValue, opt-u64 prevModIndex
//   delete    u8 existed
//   txn       u8 succeeded, u32 count, count x (u8 op (1 put, 2 delete, 3 get), fields as above;
//             get: opt-str value, opt-u64 createIndex, opt-u64 modIndex)
//   rejected  u8 code (1 SESSION_EXPIRED, 2 STALE_SEQUENCE, 3 MALFORMED_COMMAND), str32 message
//   incr      opt-str value, u8 error (0 none, 1 NOT_INTEGER, 2 OVERFLOW)
//   expire    u8 existed
//   sweep     u64 deleted
// opt-x is a u8 presence flag (0 or 1) followed by x when present; str32 is u32 bytes + UTF-8.

import { assertNever } from "../assert.js";
import type { ByteReader, ByteWriter } from "./binary.js";
import { IncrError, type KvResult, type OpResult, RejectCode } from "./types.js";

const Kind = { Put: 1, Delete: 2, Txn: 3, Rejected: 4, Incr: 5, Expire: 6, Sweep: 7 } as const;
const Op = { Put: 1, Delete: 2, Get: 3 } as const;
const rejectCodes: readonly RejectCode[] = [
  RejectCode.SessionExpired,
  RejectCode.StaleSequence,
  RejectCode.MalformedCommand,
];
const incrErrors: readonly IncrError[] = [IncrError.NotInteger, IncrError.Overflow];

export function writeResult(w: ByteWriter, result: KvResult): void {
  switch (result.kind) {
    case "put":
      header(w, Kind.Put, result.index);
      w.u8(result.written ? 1 : 0);
      optText(w, result.prevValue);
      optU64(w, result.prevModIndex);
      break;
    case "delete":
      header(w, Kind.Delete, result.index);
      w.u8(result.existed ? 1 : 0);
      break;
    case "txn":
      header(w, Kind.Txn, result.index);
      w.u8(result.succeeded ? 1 : 0);
      w.u32(result.results.length);
      for (const op of result.results) writeOpResult(w, op);
      break;
    case "rejected":
      header(w, Kind.Rejected, result.index);
      w.u8(rejectCodes.indexOf(result.code) + 1);
      text(w, result.message);
      break;
    case "incr":
      header(w, Kind.Incr, result.index);
      optText(w, result.value);
      w.u8(result.error === null ? 0 : incrErrors.indexOf(result.error) + 1);
      break;
    case "expire":
      header(w, Kind.Expire, result.index);
      w.u8(result.existed ? 1 : 0);
      break;
    case "sweep":
      header(w, Kind.Sweep, result.index);
      w.u64(result.deleted);
      break;
    default:
      assertNever(result, "result");
  }
}

function writeOpResult(w: ByteWriter, op: OpResult): void {
  switch (op.op) {
    case "put":
      w.u8(Op.Put);
      optText(w, op.prevValue);
      optU64(w, op.prevModIndex);
      break;
    case "delete":
      w.u8(Op.Delete);
      w.u8(op.existed ? 1 : 0);
      break;
    case "get":
      w.u8(Op.Get);
      optText(w, op.value);
      optU64(w, op.createIndex);
      optU64(w, op.modIndex);
      break;
    default:
      assertNever(op, "op result");
  }
}

function header(w: ByteWriter, kind: number, index: number): void {
  w.u8(kind);
  w.u64(index);
}

function text(w: ByteWriter, value: string): void {
  const bytes = Buffer.byteLength(value, "utf8");
  w.u32(bytes);
  w.utf8(value, bytes);
}

function optText(w: ByteWriter, value: string | null): void {
  w.u8(value === null ? 0 : 1);
  if (value !== null) text(w, value);
}

function optU64(w: ByteWriter, value: number | null): void {
  w.u8(value === null ? 0 : 1);
  if (value !== null) w.u64(value);
}

/** Reads one result; `fail` builds the reader's typed error for anything out of format. */
export function readResult(r: ByteReader, fail: (reason: string) => Error): KvResult {
  const kind = r.u8();
  const index = r.u64();
  switch (kind) {
    case Kind.Put: {
      const written = readBool(r, fail);
      const prevValue = readOptText(r, fail);
      return { kind: "put", index, written, prevValue, prevModIndex: readOptU64(r, fail) };
    }
    case Kind.Delete:
      return { kind: "delete", index, existed: readBool(r, fail) };
    case Kind.Txn: {
      const succeeded = readBool(r, fail);
      const count = r.u32();
      if (count > r.remaining()) throw fail(`${count} op results in ${r.remaining()} bytes`);
      const results: OpResult[] = [];
      for (let i = 0; i < count; i++) results.push(readOpResult(r, fail));
      return { kind: "txn", index, succeeded, results };
    }
    case Kind.Rejected: {
      const code = rejectCodes[r.u8() - 1];
      if (code === undefined) throw fail("unknown reject code");
      return { kind: "rejected", index, code, message: r.utf8(r.u32()) };
    }
    case Kind.Incr:
      return readIncr(r, index, fail);
    case Kind.Expire:
      return { kind: "expire", index, existed: readBool(r, fail) };
    case Kind.Sweep:
      return { kind: "sweep", index, deleted: r.u64() };
    default:
      throw fail(`unknown result kind ${kind}`);
  }
}

function readIncr(r: ByteReader, index: number, fail: (reason: string) => Error): KvResult {
  const value = readOptText(r, fail);
  const code = r.u8();
  const error = code === 0 ? null : incrErrors[code - 1];
  if (error === undefined) throw fail(`unknown incr error ${code}`);
  if ((value === null) === (error === null)) throw fail("incr result needs a value or an error");
  return { kind: "incr", index, value, error };
}

function readOpResult(r: ByteReader, fail: (reason: string) => Error): OpResult {
  const op = r.u8();
  switch (op) {
    case Op.Put:
      return { op: "put", prevValue: readOptText(r, fail), prevModIndex: readOptU64(r, fail) };
    case Op.Delete:
      return { op: "delete", existed: readBool(r, fail) };
    case Op.Get: {
      const value = readOptText(r, fail);
      const createIndex = readOptU64(r, fail);
      return { op: "get", value, createIndex, modIndex: readOptU64(r, fail) };
    }
    default:
      throw fail(`unknown op result ${op}`);
  }
}

function readBool(r: ByteReader, fail: (reason: string) => Error): boolean {
  const flag = r.u8();
  if (flag > 1) throw fail(`flag ${flag} is not 0 or 1`);
  return flag === 1;
}

function readOptText(r: ByteReader, fail: (reason: string) => Error): string | null {
  return readBool(r, fail) ? r.utf8(r.u32()) : null;
}

function readOptU64(r: ByteReader, fail: (reason: string) => Error): number | null {
  return readBool(r, fail) ? r.u64() : null;
}
