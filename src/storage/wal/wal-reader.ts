// Reading entries back from a WAL segment. A record's checksum covers all its entries, so a read
// loads every record its range touches, verifies each checksum, and then slices out only the
// wanted entries (no other entry of a record is decoded). Records are split at
// recordBytesTarget, so reading one entry reads at most one record of that size (or the entry's
// own record when it is larger).

import type { FileHandle } from "node:fs/promises";
import { type Entry, type LogIndex, entryBytes } from "../../core/types.js";
import { CorruptLogError } from "../errors.js";
import { readFully } from "../fs-util.js";
import type { IndexTable } from "./index-table.js";
import {
  type RecordFault,
  type RecordLimits,
  checkRecord,
  decodeEntry,
  describeFault,
  entryHeaderBytes,
  recordHeaderBytes,
  recordLength,
} from "./record.js";

/** entryBytes() of an entry beyond its payload: what a byte budget charges per entry. */
const entryOverheadBytes = entryBytes({ term: 0, index: 0, type: 0, data: new Uint8Array(0) });

/**
 * Where a read of index..stopAt-1 stops so that the entries fit `budget` bytes (as entryBytes()
 * counts them), taking the first one regardless when `takeFirst`. Returns the stop index and
 * the budget left.
 */
export function stopWithin(
  table: IndexTable,
  index: LogIndex,
  stopAt: LogIndex,
  budget: number,
  takeFirst: boolean,
): { readonly stop: LogIndex; readonly budgetLeft: number } {
  let stop = index;
  let left = budget;
  while (stop < stopAt) {
    const bytes = table.dataBytes(stop) + entryOverheadBytes;
    if (!(takeFirst && stop === index) && bytes > left) break;
    left -= bytes;
    stop += 1;
  }
  return { stop, budgetLeft: left };
}

/** Reads entries from..to-1, all in the segment at `path`, verifying every record touched. */
export async function readSegmentRange(
  handle: FileHandle,
  segment: { readonly path: string; readonly salt: number },
  table: IndexTable,
  from: LogIndex,
  to: LogIndex,
  limits: RecordLimits,
): Promise<Entry[]> {
  const path = segment.path;
  const readStart = table.recordStart(from);
  const last = to - 1;
  const neededBytes = table.offset(last) + entryHeaderBytes + table.dataBytes(last) - readStart;
  let buf = await readFully(handle, neededBytes, readStart);
  if (buf.length < neededBytes) {
    throw new CorruptLogError(path, readStart + buf.length, `file ends before entry ${last}`);
  }
  // Verify each record the range touches; only the last one can extend past the bytes needed.
  let at = 0;
  while (at < neededBytes) {
    if (at + recordHeaderBytes > buf.length) {
      throw new CorruptLogError(path, readStart + at, "record header runs past entry " + last);
    }
    const length = recordLength(buf, at);
    if (at + length > buf.length && length <= limits.recordBytesMax) {
      const more = await readFully(handle, at + length - buf.length, readStart + buf.length);
      buf = Buffer.concat([buf, more]);
    }
    const end = checkRecord(buf, at, buf.length, limits, segment.salt);
    if (end < 0) throw new CorruptLogError(path, readStart + at, describeFault(end as RecordFault));
    at = end;
  }
  const entries: Entry[] = [];
  for (let index = from; index <= last; index += 1) {
    const position = table.offset(index) - readStart;
    const entry = decodeEntry(buf, position, index);
    if (entry.term !== table.term(index) || entry.data.length !== table.dataBytes(index)) {
      throw new CorruptLogError(path, readStart + position,
        `entry ${index} does not match the index built on open`);
    }
    entries.push(entry);
  }
  return entries;
}
