// Bit rot for the chaos nemesis: flip one byte of a stopped member's WAL inside a record that
// intact records follow, as a decaying sector or a misdirected write can. Unlike a torn tail,
// no crash leaves this: the record was written and synced, and may hold acknowledged entries.
// The member's recovery must refuse to open such a log (CorruptLogError naming the file and
// offset) and the member must not start; the nemesis then replaces it (nemesis.ts).
//
// Only the newest segment is damaged: recovery reads all of it, whereas a sealed segment wholly
// below the compaction point may be dropped unread (rightly: nothing in it is needed).

import { open, readFile } from "node:fs/promises";
import type { Sfc32 } from "../../src/core/prng.js";
import { intactRecords, newestSegment } from "./torn-write.js";

export interface FlipResult {
  readonly segment: string;
  /** Where the damaged record starts, and its length. */
  readonly recordOffset: number;
  readonly recordBytes: number;
  /** The offset of the flipped byte. */
  readonly flippedAt: number;
}

/**
 * Flips one byte (XOR 0x5a) of a record of the newest segment in `logDir` that is not its last
 * intact record, chosen with `random`. Returns null, with nothing changed, when no such record
 * exists (the segment holds fewer than two).
 */
export async function flipMidLog(logDir: string, random: Sfc32): Promise<FlipResult | null> {
  const segment = await newestSegment(logDir);
  if (segment === null) return null;
  const buf = await readFile(segment);
  const records = intactRecords(buf).slice(0, -1);
  if (records.length === 0) return null;
  const record = records[random.nextInt(records.length)];
  if (record === undefined) return null;
  const flippedAt = record.offset + random.nextInt(record.bytes);
  const handle = await open(segment, "r+");
  try {
    const byte = Buffer.from([(buf[flippedAt] ?? 0) ^ 0x5a]);
    await handle.write(byte, 0, 1, flippedAt);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { segment, recordOffset: record.offset, recordBytes: record.bytes, flippedAt };
}
