// Reads a key-value snapshot stream (format in snapshot-format.ts), handing each record to a
// sink (a tree builder, or a write into a staging LMDB database) and collecting the sessions,
// checking framing, UTF-8, key order, index bounds and the trailing CRC32C. Nothing is
// returned until the last byte is verified, so a caller that swaps in what its sink built only
// on success never exposes a partial or corrupt state. Chunks may be split anywhere.

import { isAscii } from "node:buffer";
import { crc32c } from "@node-rs/crc32";
import { assert } from "../assert.js";
import { ByteReader } from "./binary.js";
import { formatLimits } from "./command.js";
import { CorruptKvSnapshotError } from "./errors.js";
import { compareKeys } from "./keys.js";
import { readResult } from "./result-codec.js";
import type { SessionEntry } from "./sessions.js";
import type { KvRecord } from "./types.js";
import {
  SNAPSHOT_VERSION,
  headerBytes,
  headerMagic,
  readSessionHead,
  recordHeaderBytes,
  trailerMagic,
} from "./snapshot-format.js";

/** A session record larger than this is garbage (a txn result of 64 Ki gets is far smaller). */
const sessionBytesMax = 256 * 1024 * 1024;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export interface ReadSnapshot {
  readonly appliedIndex: number;
  readonly recordCount: number;
  readonly sessions: [string, SessionEntry][];
}

/** Receives the records in strictly ascending key order, each checked before it is handed on. */
export type RecordSink = (record: KvRecord) => void;

function corrupt(reason: string, offset: number): CorruptKvSnapshotError {
  return new CorruptKvSnapshotError(`kv snapshot corrupt at byte ${offset}: ${reason}`);
}

/** Pulls chunks on demand; keeps only the unread tail and a running CRC of what was read. */
class StreamReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Bytes of earlier buffers, for error offsets. */
  private base = 0;
  private crc = 0;
  private crcPos = 0;

  constructor(private readonly chunks: AsyncIterator<Uint8Array>) {}

  get offset(): number {
    return this.base + this.pos;
  }

  available(): number {
    return this.buf.length - this.pos;
  }

  /** Makes `bytes` bytes readable without another await; truncation is corruption. */
  async need(bytes: number): Promise<void> {
    if (this.available() >= bytes) return;
    this.checksumRead();
    const parts: Buffer[] = [this.buf.subarray(this.pos)];
    let have = this.available();
    while (have < bytes) {
      const next = await this.chunks.next();
      if (next.done === true) {
        throw corrupt(`truncated: need ${bytes} bytes, stream ended after ${have}`, this.offset);
      }
      const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      parts.push(chunk);
      have += chunk.length;
    }
    this.base += this.pos;
    this.buf = parts.length === 2 && (parts[0] as Buffer).length === 0
      ? (parts[1] as Buffer) : Buffer.concat(parts);
    this.pos = 0;
    this.crcPos = 0;
  }

  /** A synchronous reader over the next `bytes` bytes (after `need(bytes)`). */
  take(bytes: number): ByteReader {
    assert(this.available() >= bytes, () => `take ${bytes} of ${this.available()}`);
    const start = this.pos;
    this.pos += bytes;
    const at = this.base + start;
    return new ByteReader(this.buf.subarray(start, this.pos),
      (reason, offset) => corrupt(reason, at + offset));
  }

  u16(): number {
    const value = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return value;
  }

  u32(): number {
    const value = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }

  /** A u64 holding a safe integer; anything larger is corruption. */
  u64(): number {
    const low = this.buf.readUInt32LE(this.pos);
    const high = this.buf.readUInt32LE(this.pos + 4);
    if (high > 0x1f_ffff) throw corrupt("u64 above 2^53", this.offset);
    this.pos += 8;
    return high * 0x1_0000_0000 + low;
  }

  utf8(bytes: number): string {
    const start = this.pos;
    this.pos += bytes;
    // ASCII (the common case) is valid UTF-8 and decodes faster as latin1.
    if (isAscii(this.buf.subarray(start, this.pos))) {
      return this.buf.toString("latin1", start, this.pos);
    }
    try {
      return strictUtf8.decode(this.buf.subarray(start, this.pos));
    } catch (error) {
      throw corrupt(`invalid UTF-8 (${String(error)})`, this.base + start);
    }
  }

  /** The CRC of every byte read so far. */
  checksum(): number {
    this.checksumRead();
    return this.crc;
  }

  /** After the trailer: the stream must hold nothing more. */
  async expectEnd(): Promise<void> {
    if (this.available() > 0) throw corrupt(`${this.available()} bytes after trailer`, this.offset);
    for (;;) {
      const next = await this.chunks.next();
      if (next.done === true) return;
      if (next.value.byteLength > 0) throw corrupt("bytes after trailer", this.offset);
    }
  }

  private checksumRead(): void {
    this.crc = crc32c(this.buf.subarray(this.crcPos, this.pos), this.crc);
    this.crcPos = this.pos;
  }
}

/**
 * Reads and verifies a whole snapshot, handing the records to `sink`; throws
 * CorruptKvSnapshotError on any defect (the sink may then have seen a part of the records).
 */
export async function readSnapshot(
  chunks: AsyncIterable<Uint8Array>,
  metaIndex: number,
  sink: RecordSink,
): Promise<ReadSnapshot> {
  const s = new StreamReader(chunks[Symbol.asyncIterator]());
  await s.need(headerBytes);
  const h = s.take(headerBytes);
  const magic = Buffer.from([h.u8(), h.u8(), h.u8(), h.u8()]);
  if (!magic.equals(headerMagic)) throw corrupt(`bad magic ${magic.toString("hex")}`, 0);
  const version = h.u16();
  if (version !== SNAPSHOT_VERSION) throw corrupt(`unsupported version ${version}`, 4);
  if (h.u16() !== 0) throw corrupt("unknown flags", 6);
  const appliedIndex = h.u64();
  const recordCount = h.u64();
  const sessionCount = h.u32();
  if (appliedIndex > metaIndex) {
    throw corrupt(`applied index ${appliedIndex} is after the snapshot's index ${metaIndex}`, 8);
  }
  await readRecords(s, recordCount, appliedIndex, sink);
  const sessions = await readSessions(s, sessionCount, appliedIndex);
  await s.need(8);
  const t = s.take(4);
  const end = Buffer.from([t.u8(), t.u8(), t.u8(), t.u8()]);
  if (!end.equals(trailerMagic)) throw corrupt("bad trailer magic", s.offset - 4);
  const computed = s.checksum();
  const stored = s.u32();
  if (computed !== stored) {
    throw corrupt(`checksum ${computed.toString(16)} != stored ${stored.toString(16)}`, s.offset);
  }
  await s.expectEnd();
  return { appliedIndex, recordCount, sessions };
}

async function readRecords(s: StreamReader, count: number, appliedIndex: number,
  sink: RecordSink): Promise<void> {
  let previous: string | undefined;
  for (let i = 0; i < count; i++) {
    if (s.available() < recordHeaderBytes) await s.need(recordHeaderBytes);
    const at = s.offset;
    const keyBytes = s.u16();
    const valueBytes = s.u32();
    if (keyBytes === 0) throw corrupt("empty key", at);
    if (valueBytes > formatLimits.valueBytesMax) throw corrupt(`value of ${valueBytes} bytes`, at);
    const rest = recordHeaderBytes - 6 + keyBytes + valueBytes;
    if (s.available() < rest) await s.need(rest);
    const createIndex = s.u64();
    const modIndex = s.u64();
    const expiresAtMs = s.u64();
    if (createIndex < 1 || createIndex > modIndex || modIndex > appliedIndex) {
      throw corrupt(`indexes create ${createIndex} mod ${modIndex} applied ${appliedIndex}`, at);
    }
    const key = s.utf8(keyBytes);
    if (previous !== undefined && compareKeys(previous, key) >= 0) {
      throw corrupt(`key ${JSON.stringify(key)} not after ${JSON.stringify(previous)}`, at);
    }
    previous = key;
    sink({ key, value: s.utf8(valueBytes), createIndex, modIndex, expiresAtMs });
  }
}

async function readSessions(s: StreamReader, count: number, appliedIndex: number) {
  const sessions: [string, SessionEntry][] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    await s.need(4);
    const at = s.offset;
    const bytes = s.u32();
    if (bytes > sessionBytesMax) throw corrupt(`session record of ${bytes} bytes`, at);
    await s.need(bytes);
    const r = s.take(bytes);
    const { clientId, sequence } = readSessionHead(r);
    const result = readResult(r, (reason) => corrupt(reason, at));
    r.end();
    if (clientId === "" || seen.has(clientId)) throw corrupt(`session id "${clientId}"`, at);
    if (sequence < 1) throw corrupt(`session sequence ${sequence}`, at);
    if (result.kind === "rejected" || result.index > appliedIndex) {
      throw corrupt(`session result ${result.kind} at ${result.index}`, at);
    }
    seen.add(clientId);
    sessions.push([clientId, { sequence, result }]);
  }
  return sessions;
}
