// The key-value snapshot stream (version 2), written from a point-in-time view of the records
// (a frozen tree, or an LMDB read transaction) in bounded memory and read back with every byte
// checked before anything replaces the live state.
//
//   header    "RSKV" | u16 version = 2 | u16 flags = 0 | u64 appliedIndex | u64 recordCount
//             | u32 sessionCount                                             (28 bytes)
//   records   recordCount x (u16 keyBytes | u32 valueBytes | u64 createIndex | u64 modIndex
//             | u64 expiresAtMs | key | value), keys strictly ascending in UTF-8 byte order
//   sessions  sessionCount x (u32 bodyBytes | u8 clientIdBytes | clientId | u64 sequence
//             | result (result-codec.ts)), least recently used first
//   trailer   "RSKE" | u32 CRC32C of every byte before this field
//
// All integers are little endian. Chunks are `chunkBytes` long except the last.

import { crc32c } from "@node-rs/crc32";
import { assert } from "../assert.js";
import type { ByteReader } from "./binary.js";
import { ByteWriter } from "./binary.js";
import { writeResult } from "./result-codec.js";
import type { SessionEntry } from "./sessions.js";
import type { KvRecord } from "./types.js";

export const SNAPSHOT_VERSION = 2;
export const headerMagic = Buffer.from("RSKV", "latin1");
export const trailerMagic = Buffer.from("RSKE", "latin1");
export const headerBytes = 28;
export const recordHeaderBytes = 30;
export const defaultChunkBytes = 256 * 1024;
export const chunkBytesMin = 4 * 1024;
export const chunkBytesMax = 16 * 1024 * 1024;

/** Everything a snapshot holds, captured at the moment of `snapshot()`. */
export interface SnapshotSource {
  readonly appliedIndex: number;
  readonly recordCount: number;
  /** Exactly `recordCount` records in key order, from a view no later write changes. */
  readonly records: Iterable<KvRecord>;
  readonly sessions: readonly [string, SessionEntry][];
}

export function writeRecord(w: ByteWriter, record: KvRecord): void {
  const keyBytes = Buffer.byteLength(record.key, "utf8");
  const valueBytes = Buffer.byteLength(record.value, "utf8");
  w.u16(keyBytes);
  w.u32(valueBytes);
  w.u64(record.createIndex);
  w.u64(record.modIndex);
  w.u64(record.expiresAtMs);
  w.utf8(record.key, keyBytes);
  w.utf8(record.value, valueBytes);
}

/** The session record with its u32 length prefix. */
export function writeSession(w: ByteWriter, clientId: string, entry: SessionEntry): void {
  const start = w.size;
  w.u32(0); // patched below, once the body's length is known
  const idBytes = Buffer.byteLength(clientId, "utf8");
  w.u8(idBytes);
  w.utf8(clientId, idBytes);
  w.u64(entry.sequence);
  writeResult(w, entry.result);
  w.view().writeUInt32LE(w.size - start - 4, start);
}

/** Reads a session body; the caller reads the length prefix and hands a reader over the body. */
export function readSessionHead(r: ByteReader): { clientId: string; sequence: number } {
  const clientId = r.utf8(r.u8());
  return { clientId, sequence: r.u64() };
}

/**
 * Streams `source` as chunks of `chunkBytes`. Each chunk is a fresh buffer the consumer may
 * keep; the generator itself holds one partial chunk and one record at a time.
 */
export async function* writeSnapshot(
  source: SnapshotSource,
  chunkBytes: number = defaultChunkBytes,
): AsyncGenerator<Uint8Array, void, undefined> {
  const out = new ChunkWriter(chunkBytes);
  const w = new ByteWriter(1024);
  w.utf8("RSKV", 4);
  w.u16(SNAPSHOT_VERSION);
  w.u16(0);
  w.u64(source.appliedIndex);
  w.u64(source.recordCount);
  w.u32(source.sessions.length);
  assert(w.size === headerBytes, () => `snapshot header of ${w.size} bytes`);
  yield* out.append(w.view());
  let written = 0;
  for (const record of source.records) {
    written++;
    if (out.tryRecord(record)) continue;
    w.reset();
    writeRecord(w, record);
    yield* out.append(w.view());
  }
  assert(written === source.recordCount,
    () => `wrote ${written} of ${source.recordCount} records`);
  for (const [clientId, entry] of source.sessions) {
    w.reset();
    writeSession(w, clientId, entry);
    yield* out.append(w.view());
  }
  yield* out.append(trailerMagic);
  yield* out.finish();
}

/** Packs bytes into fixed-size chunks and keeps the running CRC32C of everything it emitted. */
class ChunkWriter {
  private chunk: Buffer;
  private used = 0;
  private crc = 0;

  constructor(private readonly chunkBytes: number) {
    assert(Number.isSafeInteger(chunkBytes) && chunkBytes >= chunkBytesMin
      && chunkBytes <= chunkBytesMax, () => `chunkBytes ${chunkBytes}`);
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  /** Copies `bytes` in; returns the chunks that filled up (usually none). */
  append(bytes: Uint8Array): Buffer[] {
    const full: Buffer[] = [];
    let from = 0;
    while (from < bytes.length) {
      const n = Math.min(bytes.length - from, this.chunkBytes - this.used);
      this.chunk.set(bytes.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
      if (this.used === this.chunkBytes) full.push(this.emit());
    }
    return full;
  }

  /**
   * The fast path: writes `record` straight into the current chunk when it surely fits (3 UTF-8
   * bytes per UTF-16 unit at most) without filling it; otherwise returns false and the caller
   * goes through `append`, which splits across chunks.
   */
  tryRecord(record: KvRecord): boolean {
    const worst = recordHeaderBytes + 3 * (record.key.length + record.value.length);
    if (this.chunkBytes - this.used <= worst) return false;
    const c = this.chunk;
    const at = this.used;
    const keyBytes = c.write(record.key, at + recordHeaderBytes, "utf8");
    const valueBytes = c.write(record.value, at + recordHeaderBytes + keyBytes, "utf8");
    assert(keyBytes >= 1 && keyBytes <= 0xffff, () => `record key of ${keyBytes} bytes`);
    c.writeUInt16LE(keyBytes, at);
    c.writeUInt32LE(valueBytes, at + 2);
    putU64(c, at + 6, record.createIndex);
    putU64(c, at + 14, record.modIndex);
    putU64(c, at + 22, record.expiresAtMs);
    this.used = at + recordHeaderBytes + keyBytes + valueBytes;
    return true;
  }

  /** Appends the CRC and returns the last chunk. */
  finish(): Buffer[] {
    const crc = Buffer.allocUnsafe(4);
    crc.writeUInt32LE(crc32c(this.chunk.subarray(0, this.used), this.crc));
    const chunks = [this.chunk.subarray(0, this.used), crc];
    this.used = 0;
    return [Buffer.concat(chunks)];
  }

  private emit(): Buffer {
    const done = this.chunk;
    this.crc = crc32c(done, this.crc);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    this.used = 0;
    return done;
  }
}

function putU64(buf: Buffer, at: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, "u64 out of range");
  buf.writeUInt32LE(value >>> 0, at);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), at + 4);
}
