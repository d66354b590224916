// SCAN cursors: a per-server table from cursor ids to the position where a scan resumes.
//
// Why a table: every client must be able to hold a cursor. go-redis parses it as a uint64
// and redis-cli --scan with strtoull, and JavaScript clients may turn it into a Number, so a
// cursor is a decimal integer in [1, 2^53). A key does not fit in 53 bits, so the position
// stays here and the client holds only its id. "0" means the start (in a request) and the
// end (in a reply), as in Redis.
//
// The position is the last key a page returned: a place in the whole key order, not in one
// MATCH's range, so a SCAN may change MATCH between calls (Redis allows it) and go on with
// the keys after that place whatever the new pattern. That is why no range is stored.
//
// Lifetime: a SCAN that succeeds spends its cursor (a finished scan, reply "0", leaves
// nothing), so each scan in progress holds one entry; a failed SCAN (-TRYAGAIN) leaves its
// cursor for the retry. Bounded: past `cursorsMax` entries or `keyBytesMax` bytes of keys
// the least recently used are evicted, and an evicted or unknown cursor is "-ERR invalid
// cursor". Cursors are valid only on the member that issued them (the table is in memory
// and not replicated); ids start at a random offset so that a cursor from another member or
// an earlier process is very unlikely to name an entry here.

import { assert } from "../../assert.js";

/** Cursor ids are below this (2^53): exact as a JavaScript number, and as a uint64. */
export const scanCursorIdLimit = 2 ** 53;

export interface ScanCursorLimits {
  /** Live cursors kept; the least recently used beyond this are evicted. */
  readonly cursorsMax: number;
  /** UTF-8 bytes of resume keys kept; the least recently used beyond this are evicted. */
  readonly keyBytesMax: number;
}

/** The cursor id a request names: 0 for the start, undefined when not a valid id. */
export function parseScanCursor(cursor: string): number | undefined {
  // Leading zeros are allowed, as Redis's strtoull-style parse allows them.
  if (!/^[0-9]{1,20}$/.test(cursor)) return undefined;
  const value = BigInt(cursor);
  return value < BigInt(scanCursorIdLimit) ? Number(value) : undefined;
}

/** A random first id in [1, 2^52]: a counter from there has 2^52 ids before it wraps. */
export function randomFirstScanCursorId(): number {
  return 1 + Math.floor(Math.random() * 2 ** 52);
}

interface Position {
  readonly lastKey: string;
  readonly keyBytes: number;
}

export class ScanCursorTable {
  /** Map order is use order: the first entry is the least recently used. */
  private readonly positions = new Map<number, Position>();
  private keyBytes = 0;
  private nextId: number;

  constructor(
    private readonly limits: ScanCursorLimits,
    firstId: number,
  ) {
    assert(limits.cursorsMax >= 1, `cursorsMax ${limits.cursorsMax} < 1`);
    assert(Number.isSafeInteger(firstId), `firstId ${firstId} is not a safe integer`);
    assert(firstId >= 1, `firstId ${firstId} < 1`);
    this.nextId = firstId;
  }

  /** Live cursors. */
  get size(): number {
    return this.positions.size;
  }

  /** The key to resume after for cursor `id` (> 0), or undefined when unknown or evicted. */
  lookup(id: number): string | undefined {
    assert(id > 0, `lookup(${id}): cursor 0 has no entry`);
    const position = this.positions.get(id);
    if (position === undefined) return undefined;
    // Move to the end: most recently used.
    this.positions.delete(id);
    this.positions.set(id, position);
    return position.lastKey;
  }

  /** Drops cursor `id` (a SCAN continued from it); nothing when it is 0 or gone. */
  release(id: number): void {
    const position = this.positions.get(id);
    if (position === undefined) return;
    this.positions.delete(id);
    this.keyBytes -= position.keyBytes;
    assert(this.keyBytes >= 0, `scan cursor keyBytes ${this.keyBytes} < 0`);
  }

  /** A new cursor resuming after `lastKey`; evicts the least recently used over the limits. */
  issue(lastKey: string): number {
    assert(lastKey.length > 0, "a scan cursor needs a non-empty key");
    let id = this.nextId;
    // Only after a wrap-around (2^52 ids) can the counter meet a cursor still held.
    while (this.positions.has(id)) id = following(id);
    this.nextId = following(id);
    const keyBytes = Buffer.byteLength(lastKey, "utf8");
    this.positions.set(id, { lastKey, keyBytes });
    this.keyBytes += keyBytes;
    this.evict();
    const size = this.positions.size;
    assert(size <= this.limits.cursorsMax, `scan cursors ${size} > ${this.limits.cursorsMax}`);
    assert(this.positions.has(id), `scan cursor ${id} evicted as it was issued`);
    return id;
  }

  /** Evicts from the least recently used; the newest entry always stays. */
  private evict(): void {
    for (const id of this.positions.keys()) {
      const overCount = this.positions.size > this.limits.cursorsMax;
      const overBytes = this.keyBytes > this.limits.keyBytesMax && this.positions.size > 1;
      if (!overCount && !overBytes) return;
      this.release(id);
    }
  }
}

function following(id: number): number {
  assert(id >= 1, `scan cursor id ${id} < 1`);
  assert(id < scanCursorIdLimit, `scan cursor id ${id} >= 2^53`);
  return id + 1 < scanCursorIdLimit ? id + 1 : 1;
}
