// Keyspace commands: DEL/UNLINK, EXISTS, TYPE, TTL/PTTL, EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT,
// PERSIST, MEMORY USAGE. Listings (SCAN, KEYS, DBSIZE) are in commands-scan.ts.

import { int64Arg, keyArg, keyArgs, word } from "./args.js";
import type { CommandContext, CommandSpec } from "./context.js";
import { CommandError, syntaxError, wrongArity } from "./errors.js";
import { integer, nullReply, simple, type Reply } from "./reply.js";

async function del(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  // Redis counts a key named twice once (the second lookup finds it gone).
  const keys = [...new Set(keyArgs(args.slice(1)))];
  const response = await context.kv.delete(keys);
  return integer(response.deleted);
}

async function exists(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  // Redis counts a key named twice twice.
  const keys = keyArgs(args.slice(1));
  const response = await context.kv.get(keys, context.connection.consistency);
  return integer(response.entries.filter((entry) => entry !== null).length);
}

async function type(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const response = await context.kv.get([key], context.connection.consistency);
  return simple(response.entries[0] ? "string" : "none");
}

function ttl(unit: "s" | "ms") {
  return async (context: CommandContext, args: readonly Buffer[]): Promise<Reply> => {
    const key = keyArg(args[1] ?? Buffer.alloc(0));
    const response = await context.kv.get([key], context.connection.consistency);
    const entry = response.entries[0];
    if (!entry) return integer(-2);
    if (entry.expiresAtMs === null) return integer(-1);
    const remainingMs = Math.max(0, entry.expiresAtMs - context.now());
    // Redis: TTL rounds to the nearest second, (ttl + 500) / 1000.
    return integer(unit === "ms" ? remainingMs : Math.floor((remainingMs + 500) / 1000));
  };
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: unit in ms, and whether the time is absolute. */
function expire(name: string, unitMs: number, absolute: boolean) {
  return async (context: CommandContext, args: readonly Buffer[]): Promise<Reply> => {
    const key = keyArg(args[1] ?? Buffer.alloc(0));
    const amount = int64Arg(args[2] ?? Buffer.alloc(0));
    checkExpireOptions(args.slice(3));
    let ms = amount * BigInt(unitMs);
    if (absolute) ms -= BigInt(context.now());
    const bound = BigInt(Number.MAX_SAFE_INTEGER);
    if (ms > bound || ms < -bound) {
      throw new CommandError(`ERR invalid expire time in '${name}' command`);
    }
    // Redis: a time in the past deletes the key.
    if (ms <= 0n) {
      const response = await context.kv.delete([key]);
      return integer(response.deleted > 0 ? 1 : 0);
    }
    const response = await context.kv.expire(key, Number(ms));
    return integer(response.existed ? 1 : 0);
  };
}

/**
 * NX, XX, GT and LT compare with the current expiry, which the KvApi cannot do atomically
 * with the change (a read then an expire could act on a stale TTL), so they are refused.
 */
function checkExpireOptions(options: readonly Buffer[]): void {
  for (const option of options) {
    const name = word(option);
    if (["nx", "xx", "gt", "lt"].includes(name)) {
      throw new CommandError("ERR the NX, XX, GT and LT options are not supported");
    }
    throw new CommandError(`ERR Unsupported option ${option.toString("latin1")}`);
  }
}

/**
 * Replies 1 when the key had a TTL and it was removed. The read decides whether there is a
 * TTL; when there is none, nothing is written, and the PERSIST counts as done at the read.
 */
async function persist(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const key = keyArg(args[1] ?? Buffer.alloc(0));
  const read = await context.kv.get([key], "linearizable");
  const entry = read.entries[0];
  if (!entry || entry.expiresAtMs === null) return integer(0);
  const response = await context.kv.expire(key, null);
  return integer(response.existed ? 1 : 0);
}

/**
 * MEMORY USAGE key [SAMPLES count]: the bytes of the key and of its value (UTF-8), or nil when
 * the key is absent. Redis adds its allocator's overheads, which this store does not have in
 * the same form, so the figure is for ranking keys (`redis-cli --memkeys`), not for sizing a
 * machine. SAMPLES is checked and ignored: a value here is one string. Other MEMORY
 * subcommands are refused.
 */
async function memory(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const raw = args[1] ?? Buffer.alloc(0);
  if (word(raw) !== "usage") {
    const name = raw.toString("latin1");
    throw new CommandError(`ERR unknown subcommand '${name}'. Only MEMORY USAGE is supported.`);
  }
  if (args.length !== 3 && args.length !== 5) throw wrongArity("memory|usage");
  if (args.length === 5) {
    if (word(args[3] ?? Buffer.alloc(0)) !== "samples") throw new CommandError(syntaxError);
    if (int64Arg(args[4] ?? Buffer.alloc(0)) < 0n) throw new CommandError(syntaxError);
  }
  const key = keyArg(args[2] ?? Buffer.alloc(0));
  const response = await context.kv.get([key], context.connection.consistency);
  const entry = response.entries[0];
  if (!entry) return nullReply;
  return integer(Buffer.byteLength(key, "utf8") + Buffer.byteLength(entry.value, "utf8"));
}

const write = ["write", "fast"];
const read = ["readonly", "fast"];
const one: readonly [number, number, number] = [1, 1, 1];

export const keyCommands: readonly CommandSpec[] = [
  { name: "del", arity: -2, flags: ["write"], keys: [1, -1, 1], handler: del },
  { name: "unlink", arity: -2, flags: ["write"], keys: [1, -1, 1], handler: del },
  { name: "exists", arity: -2, flags: read, keys: [1, -1, 1], handler: exists },
  { name: "type", arity: 2, flags: read, keys: one, handler: type },
  { name: "memory", arity: -2, flags: ["readonly"], keys: [2, 2, 1], handler: memory },
  { name: "ttl", arity: 2, flags: read, keys: one, handler: ttl("s") },
  { name: "pttl", arity: 2, flags: read, keys: one, handler: ttl("ms") },
  { name: "expire", arity: -3, flags: write, keys: one, handler: expire("expire", 1000, false) },
  { name: "pexpire", arity: -3, flags: write, keys: one, handler: expire("pexpire", 1, false) },
  {
    name: "expireat",
    arity: -3,
    flags: write,
    keys: one,
    handler: expire("expireat", 1000, true),
  },
  {
    name: "pexpireat",
    arity: -3,
    flags: write,
    keys: one,
    handler: expire("pexpireat", 1, true),
  },
  { name: "persist", arity: 2, flags: write, keys: one, handler: persist },
];
