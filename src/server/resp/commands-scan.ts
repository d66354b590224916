// Listings over RangeRequest: SCAN (one page per call; the cursor names a resume position in
// the server's table, see scan-cursor.ts), KEYS (every matching key) and DBSIZE (a count).
// A glob's literal prefix ("user:" for "user:*") becomes the range prefix, so only keys that
// can match are read. KEYS and DBSIZE read page after page: each page is read at the
// connection's consistency, but the pages are not one snapshot (writes between pages may or
// may not be seen), unlike Redis's atomic KEYS.

import type { KvEntry } from "../api.js";
import { int64Arg, text, word } from "./args.js";
import type { CommandContext, CommandSpec } from "./context.js";
import { CommandError, syntaxError } from "./errors.js";
import { compileGlob, globPrefix, matchCompiled } from "./glob.js";
import { array, bulk, integer, type Reply } from "./reply.js";
import { parseScanCursor } from "./scan-cursor.js";

const invalidCursor = "ERR invalid cursor";
const redisTypes = new Set(["string", "list", "set", "zset", "hash", "stream"]);

interface ScanOptions {
  readonly pattern: string | null;
  readonly count: number;
  readonly type: string | null;
}

function parseScanOptions(args: readonly Buffer[], countMax: number): ScanOptions {
  let pattern: string | null = null;
  let count = 10;
  let type: string | null = null;
  for (let i = 2; i < args.length; i += 2) {
    const option = word(args[i] ?? Buffer.alloc(0));
    const value = args[i + 1];
    if (value === undefined) throw new CommandError(syntaxError);
    if (option === "match") {
      pattern = text(value, "pattern");
    } else if (option === "count") {
      const requested = int64Arg(value);
      if (requested < 1n) throw new CommandError(syntaxError);
      count = Number(requested < BigInt(countMax) ? requested : BigInt(countMax));
    } else if (option === "type") {
      type = word(value);
      if (!redisTypes.has(type)) {
        throw new CommandError(`ERR unknown type name '${value.toString("latin1")}'`);
      }
    } else {
      throw new CommandError(syntaxError);
    }
  }
  return { pattern, count, type };
}

async function scan(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const cursor = parseScanCursor((args[1] ?? Buffer.alloc(0)).toString("latin1"));
  if (cursor === undefined) throw new CommandError(invalidCursor);
  const after = cursor === 0 ? null : context.scanCursors.lookup(cursor);
  if (after === undefined) throw new CommandError(invalidCursor);
  const options = parseScanOptions(args, context.limits.scanCountMax);
  // Every key is a string: TYPE anything else matches nothing, and the scan is over.
  if (options.type !== null && options.type !== "string") {
    context.scanCursors.release(cursor);
    return scanReply(0, []);
  }
  const prefix = options.pattern === null ? "" : globPrefix(options.pattern);
  const response = await context.kv.range({
    prefix,
    after,
    limit: options.count,
    consistency: context.connection.consistency,
    keysOnly: true,
  });
  // Only a page read spends the cursor: after a failure (-TRYAGAIN) it can be retried.
  context.scanCursors.release(cursor);
  const last = response.entries.at(-1);
  const next = response.more && last !== undefined ? context.scanCursors.issue(last.key) : 0;
  return scanReply(next, filterKeys(response.entries, options.pattern));
}

function scanReply(cursor: number, keys: readonly string[]): Reply {
  return array([bulk(String(cursor)), array(keys.map((key) => bulk(key)))]);
}

function filterKeys(entries: readonly KvEntry[], pattern: string | null): string[] {
  const keys = entries.map((entry) => entry.key);
  if (pattern === null) return keys;
  const tokens = compileGlob(pattern);
  return keys.filter((key) => matchCompiled(tokens, key));
}

/** Calls `visit` with each page of keys starting with `prefix`, in key order. */
async function eachPage(
  context: CommandContext,
  prefix: string,
  visit: (entries: readonly KvEntry[]) => void,
): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const response = await context.kv.range({
      prefix,
      after,
      limit: context.limits.listPageKeys,
      consistency: context.connection.consistency,
      keysOnly: true,
    });
    visit(response.entries);
    const last = response.entries.at(-1);
    if (!response.more || last === undefined) return;
    after = last.key;
  }
}

async function keys(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const pattern = text(args[1] ?? Buffer.alloc(0), "pattern");
  const tokens = compileGlob(pattern);
  const found: string[] = [];
  await eachPage(context, globPrefix(pattern), (entries) => {
    for (const entry of entries) {
      if (matchCompiled(tokens, entry.key)) found.push(entry.key);
    }
    if (found.length > context.limits.keysMax) {
      throw new CommandError(
        `ERR more than ${context.limits.keysMax} keys match; use SCAN instead of KEYS`,
      );
    }
  });
  return array(found.map((key) => bulk(key)));
}

/** Counts keys and keys with an expiry (DBSIZE, INFO keyspace). */
export async function countKeys(
  context: CommandContext,
): Promise<{ keys: number; expires: number }> {
  let count = 0;
  let expires = 0;
  await eachPage(context, "", (entries) => {
    count += entries.length;
    for (const entry of entries) if (entry.expiresAtMs !== null) expires++;
  });
  return { keys: count, expires };
}

async function dbsize(context: CommandContext): Promise<Reply> {
  return integer((await countKeys(context)).keys);
}

const read = ["readonly"];

export const scanCommands: readonly CommandSpec[] = [
  { name: "scan", arity: -2, flags: read, keys: [0, 0, 0], handler: scan },
  { name: "keys", arity: 2, flags: read, keys: [0, 0, 0], handler: keys },
  { name: "dbsize", arity: 1, flags: ["readonly", "fast"], keys: [0, 0, 0], handler: dbsize },
];
