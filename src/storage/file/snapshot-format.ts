// The snapshot file format. The metadata sits in a checksummed header, so list() reads only the
// head of each file; a trailer written at commit holds the data length and checksum, so a file
// cut short or grown is caught on open, and flipped data bits while it is streamed.
//
//   header:  "RSSNAP01" | u32 metaBytes | meta as JSON | u32 crc32c(all header bytes before it)
//   data:    the state machine's bytes
//   trailer: u64 dataBytes | u32 crc32c(data) | u32 crc32c(trailer bytes 0..12) | "RSSNEND1"

import { crc32c } from "@node-rs/crc32";
import type { Configuration, NodeId, SnapshotMeta } from "../../core/types.js";
import { readU64, writeU64 } from "../binary.js";
import { CorruptSnapshotError } from "../errors.js";

const headerMagic = Buffer.from("RSSNAP01", "latin1");
const trailerMagic = Buffer.from("RSSNEND1", "latin1");
export const headerFixedBytes = 12;
export const trailerBytes = 24;
/** Configurations are small; anything larger is not a header we wrote. */
export const metaBytesMax = 1024 * 1024;

export function encodeHeader(meta: SnapshotMeta): Buffer {
  const json = Buffer.from(JSON.stringify(meta), "utf8");
  const buf = Buffer.allocUnsafe(headerFixedBytes + json.length + 4);
  headerMagic.copy(buf, 0);
  buf.writeUInt32LE(json.length, 8);
  json.copy(buf, headerFixedBytes);
  buf.writeUInt32LE(crc32c(buf.subarray(0, headerFixedBytes + json.length)), buf.length - 4);
  return buf;
}

/** Validates the fixed part of a header; returns the meta JSON length. */
export function decodeHeaderStart(buf: Buffer, file: string): number {
  if (buf.length < headerFixedBytes) throw new CorruptSnapshotError(file, "header is truncated");
  if (!buf.subarray(0, 8).equals(headerMagic)) throw new CorruptSnapshotError(file, "bad magic");
  const metaBytes = buf.readUInt32LE(8);
  if (metaBytes > metaBytesMax) throw new CorruptSnapshotError(file, `meta of ${metaBytes} bytes`);
  return metaBytes;
}

/** Decodes a complete header (fixed part, meta, checksum). */
export function decodeHeader(buf: Buffer, file: string): SnapshotMeta {
  const metaBytes = decodeHeaderStart(buf, file);
  const end = headerFixedBytes + metaBytes;
  if (buf.length < end + 4) throw new CorruptSnapshotError(file, "header is truncated");
  if (buf.readUInt32LE(end) !== crc32c(buf.subarray(0, end))) {
    throw new CorruptSnapshotError(file, "header checksum mismatch");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString("utf8", headerFixedBytes, end));
  } catch (error) {
    throw new CorruptSnapshotError(file, "metadata is not JSON", { cause: error });
  }
  const meta = toSnapshotMeta(parsed);
  if (meta === null) throw new CorruptSnapshotError(file, "metadata has the wrong shape");
  return meta;
}

export function encodeTrailer(dataBytes: number, dataCrc: number): Buffer {
  const buf = Buffer.allocUnsafe(trailerBytes);
  writeU64(buf, dataBytes, 0);
  buf.writeUInt32LE(dataCrc, 8);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 12)), 12);
  trailerMagic.copy(buf, 16);
  return buf;
}

export function decodeTrailer(buf: Buffer, file: string): { dataBytes: number; dataCrc: number } {
  if (buf.length !== trailerBytes) throw new CorruptSnapshotError(file, "trailer is truncated");
  if (!buf.subarray(16).equals(trailerMagic)) {
    throw new CorruptSnapshotError(file, "trailer missing (file truncated?)");
  }
  if (buf.readUInt32LE(12) !== crc32c(buf.subarray(0, 12))) {
    throw new CorruptSnapshotError(file, "trailer checksum mismatch");
  }
  const dataBytes = readU64(buf, 0);
  if (dataBytes < 0) throw new CorruptSnapshotError(file, "data length out of range");
  return { dataBytes, dataCrc: buf.readUInt32LE(8) };
}

/** Narrows parsed JSON to SnapshotMeta, or null. Keeps only the known fields. */
export function toSnapshotMeta(value: unknown): SnapshotMeta | null {
  if (!isRecord(value)) return null;
  const { index, term, configuration } = value;
  if (!isCount(index) || !isCount(term) || !isRecord(configuration)) return null;
  const voters = toNodeIds(configuration["voters"]);
  const votersOutgoing = toNodeIds(configuration["votersOutgoing"]);
  const learners = toNodeIds(configuration["learners"]);
  if (voters === null || votersOutgoing === null || learners === null) return null;
  // The members' peer addresses travel with the configuration: a node restarted from this
  // snapshot (its configuration entries compacted away) reaches its peers, and the next
  // configuration entry it plans still names them.
  const addresses = toAddresses(configuration["addresses"]);
  if (addresses === null) return null;
  const checked: Configuration = {
    voters,
    votersOutgoing,
    learners,
    ...(addresses === undefined ? {} : { addresses }),
  };
  return { index, term, configuration: checked };
}

/** Member id → peer address; undefined when absent (older headers), null when malformed. */
function toAddresses(value: unknown): Record<string, string> | undefined | null {
  if (value === undefined) return undefined;
  if (!isRecord(value)) return null;
  const addresses: Record<string, string> = {};
  for (const [id, address] of Object.entries(value)) {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n <= 0 || String(n) !== id) return null;
    if (typeof address !== "string" || address === "") return null;
    addresses[id] = address;
  }
  return addresses;
}

function toNodeIds(value: unknown): NodeId[] | null {
  if (!Array.isArray(value)) return null;
  const ids: NodeId[] = [];
  for (const item of value as unknown[]) {
    if (!isCount(item) || item === 0) return null;
    ids.push(item as NodeId);
  }
  return ids;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
