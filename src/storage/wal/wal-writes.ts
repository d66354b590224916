// Two steps of the WAL's writes, kept apart from the store's bookkeeping: indexing records just
// written, and cutting a suffix that starts inside a record.

import type { FileHandle } from "node:fs/promises";
import { assert } from "../../assert.js";
import type { LogIndex } from "../../core/types.js";
import { CorruptLogError } from "../errors.js";
import { readFully, writeFully } from "../fs-util.js";
import type { IndexTable } from "./index-table.js";
import {
  type FramedRecord,
  encodeCutRecord,
  recordHeaderBytes,
  entryHeaderBytes,
  recordLength,
} from "./record.js";

/** Adds the entries of records just written at `fileOffset` to the index; returns their end. */
export function indexWritten(
  table: IndexTable,
  records: readonly FramedRecord[],
  fileOffset: number,
): number {
  let position = fileOffset;
  for (const record of records) {
    const recordStart = position;
    position += recordHeaderBytes;
    for (const run of record.runs) {
      // From the entries the run was encoded from: the same terms and sizes, without parsing
      // the bytes back.
      const runEnd = position + run.bytes.length;
      position = table.pushRun(run.entries, run.from, run.count, entryHeaderBytes, position,
        recordStart);
      assert(position === runEnd, () => `run entries end at ${position}, the run at ${runEnd}`);
    }
    assert(position - recordStart === record.recordBytes, () =>
      `record at ${recordStart} indexed as ${position - recordStart} bytes`);
  }
  return position;
}

/**
 * A cut at `fromIndex`, inside the record at `recordStart`, keeps that record whole (its
 * checksum covers entries on both sides of the cut) and hides its tail with a cut record. The
 * file is first cut at the record's end and fsynced, so the cut record can never land in front
 * of stale records from before. `entryEnd` is where the header of entry fromIndex ends. Returns
 * the segment's new end.
 */
export async function cutInsideRecord(
  handle: FileHandle,
  segment: { readonly path: string; readonly endOffset: number; readonly salt: number },
  recordStart: number,
  entryEnd: number,
  fromIndex: LogIndex,
): Promise<number> {
  assert(entryEnd > recordStart + recordHeaderBytes, `cut at ${fromIndex} opens its record`);
  const header = await readFully(handle, recordHeaderBytes, recordStart);
  const recordEnd = recordStart + (header.length === recordHeaderBytes
    ? recordLength(header, 0)
    : 0);
  if (recordEnd < entryEnd || recordEnd > segment.endOffset) {
    throw new CorruptLogError(segment.path, recordStart,
      `record holding entry ${fromIndex} has a bad length (ends at ${recordEnd})`);
  }
  await handle.truncate(recordEnd);
  await handle.datasync();
  const cut = encodeCutRecord(fromIndex, segment.salt);
  await writeFully(handle, cut, recordEnd);
  await handle.datasync();
  return recordEnd + cut.length;
}
