// The compaction point: after truncatePrefix(N, T), firstIndex is N + 1 and the term of N is T.
// It is made durable before any entry is deleted, so a crash in between leaves extra entries that
// the next open deletes. The WAL keeps it in a file written atomically (temp, fsync, rename, fsync
// dir); lmdb and level keep the same 28 bytes under a key. Encoding:
//
//   0 "RSCP"   4 u32 version (1)   8 u64 firstIndex   16 u64 compactedTerm   24 u32 crc32c(0..24)

import { crc32c } from "@node-rs/crc32";
import { join } from "node:path";
import type { LogIndex, Term } from "../core/types.js";
import { readU64, writeU64 } from "./binary.js";
import { CorruptStateError } from "./errors.js";
import { readFileIfExists, writeFileAtomic } from "./fs-util.js";

export interface CompactionPoint {
  readonly firstIndex: LogIndex;
  readonly compactedTerm: Term;
}

const fileName = "compaction";
const fileBytes = 28;
const magic = Buffer.from("RSCP", "latin1");

export function compactionPath(dir: string): string {
  return join(dir, fileName);
}

/** The stored point, or null when there has been no compaction yet. */
export async function readCompactionPoint(dir: string): Promise<CompactionPoint | null> {
  const path = compactionPath(dir);
  const buf = await readFileIfExists(path);
  return buf === null ? null : decodeCompactionPoint(buf, path);
}

export const initialCompactionPoint: CompactionPoint = { firstIndex: 1, compactedTerm: 0 };

export function decodeCompactionPoint(buf: Buffer, path: string): CompactionPoint {
  if (buf.length !== fileBytes) throw new CorruptStateError(path, `record has ${buf.length} bytes`);
  if (!buf.subarray(0, 4).equals(magic)) throw new CorruptStateError(path, "bad magic");
  if (buf.readUInt32LE(24) !== crc32c(buf.subarray(0, 24))) {
    throw new CorruptStateError(path, "checksum mismatch");
  }
  if (buf.readUInt32LE(4) !== 1) throw new CorruptStateError(path, "unknown version");
  const firstIndex = readU64(buf, 8);
  const compactedTerm = readU64(buf, 16);
  if (firstIndex < 1 || compactedTerm < 0) throw new CorruptStateError(path, "value out of range");
  return { firstIndex, compactedTerm };
}

export async function writeCompactionPoint(dir: string, point: CompactionPoint): Promise<void> {
  await writeFileAtomic(compactionPath(dir), encodeCompactionPoint(point));
}

export function encodeCompactionPoint(point: CompactionPoint): Buffer {
  const buf = Buffer.alloc(fileBytes);
  magic.copy(buf, 0);
  buf.writeUInt32LE(1, 4);
  writeU64(buf, point.firstIndex, 8);
  writeU64(buf, point.compactedTerm, 16);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 24)), 24);
  return buf;
}
