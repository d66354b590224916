// String commands: GET, SET (and SETNX, SETEX, PSETEX, GETSET), GETDEL, MGET, MSET, MSETNX,
// INCR, DECR, INCRBY, DECRBY, STRLEN. Multi-key writes are one transaction (atomic).

import type { PutRequest, TxnOperation, TxnOperationResult } from "../api.js";
import { int64Arg, keyArg, keyArgs, text } from "./args.js";
import type { CommandContext, CommandSpec } from "./context.js";
import { CommandError, wrongArity } from "./errors.js";
import { array, bulkOrNull, integer, nullReply, ok, type Reply } from "./reply.js";
import { expireMs, parseSetOptions, type SetOptions } from "./set-options.js";

async function get(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const response = await context.kv.get([key], context.connection.consistency);
  return bulkOrNull(response.entries[0]?.value);
}

async function set(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const value = text(args[2] ?? Buffer.alloc(0), "value");
  const options = parseSetOptions(args, 3, "set");
  return setWith(context, key, value, options);
}

async function setWith(
  context: CommandContext,
  key: string,
  value: string,
  options: SetOptions,
): Promise<Reply> {
  let ttlMs: number | null = null;
  if (options.expiry.kind === "ttl") ttlMs = options.expiry.ms;
  if (options.expiry.kind === "at") {
    ttlMs = options.expiry.ms - context.now();
    if (ttlMs <= 0) return setExpired(context, key, options);
  }
  // Optional fields assigned, not spread: the spreads cost about a microsecond a SET.
  const request: { -readonly [K in keyof PutRequest]: PutRequest[K] } = { key, value };
  if (ttlMs !== null) request.ttlMs = ttlMs;
  if (options.expiry.kind === "keep") request.keepTtl = true;
  if (options.condition !== null) request.condition = options.condition;
  const response = await context.kv.put(request);
  if (options.get) return bulkOrNull(response.prevValue);
  return response.written ? ok : nullReply;
}

/**
 * SET with an EXAT/PXAT already past: Redis sets the key and it expires at once, so the
 * net effect is a delete (when the condition holds). One transaction keeps it atomic:
 * the comparison "absent" decides NX (holds: nothing to do) and XX (fails: delete).
 */
async function setExpired(
  context: CommandContext,
  key: string,
  options: SetOptions,
): Promise<Reply> {
  const getOp: TxnOperation = { op: "get", key };
  const deleteOp: TxnOperation = { op: "delete", key };
  const compare = options.condition === null ? [] : [{ key, absent: true as const }];
  const whenAbsent = options.condition === null ? [getOp, deleteOp] : [];
  const whenPresent = options.condition === "present" ? [getOp, deleteOp] : [getOp];
  const response = await context.kv.txn({ compare, success: whenAbsent, failure: whenPresent });
  const previous = valueOf(response.results[0]);
  if (options.get) return bulkOrNull(previous);
  const written =
    options.condition === null ||
    (options.condition === "absent") === response.succeeded;
  return written ? ok : nullReply;
}

function valueOf(result: TxnOperationResult | undefined): string | null {
  return result?.op === "get" ? result.value : null;
}

async function setnx(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const value = text(args[2] ?? Buffer.alloc(0), "value");
  const response = await context.kv.put({ key, value, condition: "absent" });
  return integer(response.written ? 1 : 0);
}

function setex(unit: number, name: string) {
  return async (context: CommandContext, args: readonly Buffer[]): Promise<Reply> => {
    const key = keyArg(args[1] ?? Buffer.alloc(0));
    const ttlMs = expireMs(args[2] ?? Buffer.alloc(0), unit, name);
    const value = text(args[3] ?? Buffer.alloc(0), "value");
    await context.kv.put({ key, value, ttlMs });
    return ok;
  };
}

async function getset(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const value = text(args[2] ?? Buffer.alloc(0), "value");
  const response = await context.kv.put({ key, value });
  return bulkOrNull(response.prevValue);
}

async function getdel(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const response = await context.kv.txn({
    compare: [],
    success: [
      { op: "get", key },
      { op: "delete", key },
    ],
    failure: [],
  });
  return bulkOrNull(valueOf(response.results[0]));
}

async function mget(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const keys = keyArgs(args.slice(1));
  const response = await context.kv.get(keys, context.connection.consistency);
  return array(response.entries.map((entry) => bulkOrNull(entry?.value)));
}

function pairs(args: readonly Buffer[], name: string): TxnOperation[] {
  if (args.length < 3 || args.length % 2 === 0) throw wrongArity(name);
  const puts: TxnOperation[] = [];
  for (let i = 1; i < args.length; i += 2) {
    const key = keyArg(args[i] ?? Buffer.alloc(0));
    const value = text(args[i + 1] ?? Buffer.alloc(0), "value");
    puts.push({ op: "put", key, value });
  }
  return puts;
}

async function mset(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const puts = pairs(args, "mset");
  await context.kv.txn({ compare: [], success: puts, failure: [] });
  return ok;
}

async function msetnx(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const puts = pairs(args, "msetnx");
  const keys = new Set(puts.map((put) => put.key));
  const compare = [...keys].map((key) => ({ key, absent: true as const }));
  const response = await context.kv.txn({ compare, success: puts, failure: [] });
  return integer(response.succeeded ? 1 : 0);
}

const int64Min = -(2n ** 63n);

function incrBy(sign: 1n | -1n, fixed: bigint | null) {
  return async (context: CommandContext, args: readonly Buffer[]): Promise<Reply> => {
    const key = keyArg(args[1] ?? Buffer.alloc(0));
    const amount = fixed ?? int64Arg(args[2] ?? Buffer.alloc(0));
    if (sign < 0n && amount === int64Min) {
      throw new CommandError("ERR decrement would overflow");
    }
    const response = await context.kv.incrBy(key, String(sign * amount));
    return integer(BigInt(response.value));
  };
}

async function strlen(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const response = await context.kv.get([key], context.connection.consistency);
  const value = response.entries[0]?.value;
  return integer(value === undefined ? 0 : Buffer.byteLength(value, "utf8"));
}

const write = ["write"];
const read = ["readonly", "fast"];
const one: readonly [number, number, number] = [1, 1, 1];

export const stringCommands: readonly CommandSpec[] = [
  { name: "get", arity: 2, flags: read, keys: one, handler: get },
  { name: "set", arity: -3, flags: write, keys: one, handler: set },
  { name: "setnx", arity: 3, flags: write, keys: one, handler: setnx },
  { name: "setex", arity: 4, flags: write, keys: one, handler: setex(1000, "setex") },
  { name: "psetex", arity: 4, flags: write, keys: one, handler: setex(1, "psetex") },
  { name: "getset", arity: 3, flags: write, keys: one, handler: getset },
  { name: "getdel", arity: 2, flags: write, keys: one, handler: getdel },
  { name: "mget", arity: -2, flags: read, keys: [1, -1, 1], handler: mget },
  { name: "mset", arity: -3, flags: write, keys: [1, -1, 2], handler: mset },
  { name: "msetnx", arity: -3, flags: write, keys: [1, -1, 2], handler: msetnx },
  { name: "incr", arity: 2, flags: write, keys: one, handler: incrBy(1n, 1n) },
  { name: "decr", arity: 2, flags: write, keys: one, handler: incrBy(-1n, 1n) },
  { name: "incrby", arity: 3, flags: write, keys: one, handler: incrBy(1n, null) },
  { name: "decrby", arity: 3, flags: write, keys: one, handler: incrBy(-1n, null) },
  { name: "strlen", arity: 2, flags: read, keys: one, handler: strlen },
];
