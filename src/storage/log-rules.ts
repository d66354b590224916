// Argument checks shared by every LogStore, so all backends accept and reject exactly the same
// calls. Misuse the driver can meet in operation (a gap, a compacted index) is a typed error;
// calls that only a bug can make (decreasing terms, deleting compacted entries) are assertions.

import { assert } from "../assert.js";
import { type Entry, type LogIndex, type Term, entryBytes } from "../core/types.js";
import {
  EntryTooLargeError,
  LogCompactedError,
  LogGapError,
  LogUnavailableError,
} from "./errors.js";

/** Where a log stands; every backend keeps this in memory. */
export interface LogBounds {
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  /** Term of lastIndex (the compaction term when the store is empty). */
  readonly lastTerm: Term;
}

export function checkAppend(bounds: LogBounds, entries: readonly Entry[], bytesMax: number): void {
  let expected = bounds.lastIndex + 1;
  let previousTerm = bounds.lastTerm;
  for (const entry of entries) {
    if (entry.index !== expected) throw new LogGapError(expected, entry.index);
    assert(Number.isSafeInteger(entry.term), () => `entry ${entry.index} term ${entry.term}`);
    assert(entry.term >= previousTerm, () =>
      `entry ${entry.index} term ${entry.term} < previous term ${previousTerm}`);
    if (entry.data.length > bytesMax) {
      throw new EntryTooLargeError(entry.index, entry.data.length, bytesMax);
    }
    previousTerm = entry.term;
    expected += 1;
  }
}

/** Throws unless `index` has a known term: firstIndex - 1 <= index <= lastIndex. */
export function checkTermIndex(bounds: LogBounds, index: LogIndex): void {
  assert(Number.isSafeInteger(index), `term index ${index} is not an integer`);
  if (index < bounds.firstIndex - 1) throw new LogCompactedError(index, bounds.firstIndex);
  if (index > bounds.lastIndex) throw new LogUnavailableError(index, bounds.lastIndex);
}

/** Throws unless lo..hi-1 lies within the stored entries; returns false for an empty range. */
export function checkRange(
  bounds: LogBounds,
  lo: LogIndex,
  hi: LogIndex,
  bytesMax: number,
): boolean {
  assert(Number.isSafeInteger(lo) && Number.isSafeInteger(hi), `range ${lo}..${hi}`);
  assert(lo <= hi, `range start ${lo} > end ${hi}`);
  assert(bytesMax >= 0, `bytesMax ${bytesMax} < 0`);
  if (lo < bounds.firstIndex) throw new LogCompactedError(lo, bounds.firstIndex);
  if (hi > bounds.lastIndex + 1) throw new LogUnavailableError(hi - 1, bounds.lastIndex);
  return lo < hi;
}

/** Returns whether anything is to be deleted. */
export function checkTruncateSuffix(bounds: LogBounds, fromIndex: LogIndex): boolean {
  assert(Number.isSafeInteger(fromIndex), `truncateSuffix(${fromIndex})`);
  assert(fromIndex >= bounds.firstIndex, () =>
    `truncateSuffix(${fromIndex}) would delete compacted entries (first ${bounds.firstIndex})`);
  return fromIndex <= bounds.lastIndex;
}

/**
 * Returns whether the compaction point moves. `termAt` is the stored term at upToIndex when the
 * store still knows it (else null); it must agree with the caller, or the log does not match the
 * snapshot and the caller had to delete the conflicting suffix first.
 */
export function checkTruncatePrefix(
  bounds: LogBounds,
  upToIndex: LogIndex,
  upToTerm: Term,
  termAt: Term | null,
): boolean {
  assert(Number.isSafeInteger(upToIndex) && upToIndex >= 0, `truncatePrefix(${upToIndex})`);
  assert(Number.isSafeInteger(upToTerm) && upToTerm >= 0, `truncatePrefix term ${upToTerm}`);
  assert(termAt === null || termAt === upToTerm, () =>
    `truncatePrefix(${upToIndex}, term ${upToTerm}) but the log has term ${termAt} there`);
  assert(upToIndex < bounds.firstIndex || upToIndex > bounds.lastIndex || termAt !== null,
    `truncatePrefix(${upToIndex}) needs the stored term`);
  return upToIndex >= bounds.firstIndex;
}

/** How many of `entries` fit in `bytesMax` (at least one, when there is one). */
export function countWithin(sizes: readonly number[], bytesMax: number): number {
  let total = 0;
  let count = 0;
  for (const size of sizes) {
    total += size;
    if (count > 0 && total > bytesMax) break;
    count += 1;
  }
  return count;
}

export function entriesWithin(entries: readonly Entry[], bytesMax: number): Entry[] {
  return entries.slice(0, countWithin(entries.map(entryBytes), bytesMax));
}
