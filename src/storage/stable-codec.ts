// The binary form of StableState, shared by every backend: one fixed 512-byte record (a disk
// sector) with a magic number, a sequence number and a CRC32C. The WAL backend keeps two copies
// of it in its state file; lmdb and level keep one in the engine. Decoding never trusts a field:
// any value out of range is reported as CorruptStateError, never returned.

import { crc32c } from "@node-rs/crc32";
import { assert } from "../assert.js";
import { type HardState, type NodeId, nodeId } from "../core/types.js";
import { ConfigError } from "../errors.js";
import { readU64, writeU64 } from "./binary.js";
import { CorruptStateError } from "./errors.js";
import { type StableState, type StableStateUpdate, clusterIdBytesMax } from "./types.js";

export const stableRecordBytes = 512;
const magic = 0x52535354; // "RSST"
const version = 1;
const crcOffset = stableRecordBytes - 4;
const clusterIdOffset = 50;

export interface StableRecord {
  readonly sequence: number;
  readonly state: StableState;
}

export function encodeStableRecord(record: StableRecord): Buffer {
  const { hardState, clusterId, nodeId: id } = record.state;
  const buf = Buffer.alloc(stableRecordBytes);
  buf.writeUInt32LE(magic, 0);
  buf.writeUInt32LE(version, 4);
  writeU64(buf, record.sequence, 8);
  writeU64(buf, hardState.term, 16);
  writeU64(buf, hardState.vote ?? 0, 24);
  writeU64(buf, hardState.commit, 32);
  writeU64(buf, id ?? 0, 40);
  const idBytes = clusterId === null ? 0 : buf.write(clusterId, clusterIdOffset, "utf8");
  assert(idBytes <= clusterIdBytesMax, `cluster id of ${idBytes} bytes`);
  buf.writeUInt16LE(clusterId === null ? 0xffff : idBytes, 48);
  buf.writeUInt32LE(crc32c(buf.subarray(0, crcOffset)), crcOffset);
  return buf;
}

/** Decodes one record; `where` names the file (and slot) for the error message. */
export function decodeStableRecord(buf: Buffer, where: string): StableRecord {
  if (buf.length !== stableRecordBytes) {
    throw new CorruptStateError(where, `record has ${buf.length} bytes, want ${stableRecordBytes}`);
  }
  if (buf.readUInt32LE(0) !== magic) throw new CorruptStateError(where, "bad magic number");
  if (buf.readUInt32LE(crcOffset) !== crc32c(buf.subarray(0, crcOffset))) {
    throw new CorruptStateError(where, "checksum mismatch");
  }
  if (buf.readUInt32LE(4) !== version) {
    throw new CorruptStateError(where, `unknown version ${buf.readUInt32LE(4)}`);
  }
  const fields = [8, 16, 24, 32, 40].map((offset) => readU64(buf, offset));
  const [sequence, term, vote, commit, id] = fields as [number, number, number, number, number];
  if (fields.some((value) => value < 0)) throw new CorruptStateError(where, "integer out of range");
  const idLength = buf.readUInt16LE(48);
  if (idLength !== 0xffff && idLength > clusterIdBytesMax) {
    throw new CorruptStateError(where, `cluster id length ${idLength}`);
  }
  const clusterId = idLength === 0xffff
    ? null
    : buf.toString("utf8", clusterIdOffset, clusterIdOffset + idLength);
  const hardState: HardState = { term, vote: vote === 0 ? null : nodeId(vote), commit };
  return { sequence, state: { hardState, clusterId, nodeId: id === 0 ? null : nodeId(id) } };
}

/**
 * Applies an update. Raft's safety rests on the hard state moving only forward: the term never
 * decreases, a vote once cast is never changed within its term, and commit never goes back.
 */
export function applyStableUpdate(current: StableState, update: StableStateUpdate): StableState {
  const hardState = update.hardState ?? current.hardState;
  checkHardStateAdvance(current.hardState, hardState);
  const clusterId = update.clusterId ?? current.clusterId;
  if (clusterId !== null && Buffer.byteLength(clusterId, "utf8") > clusterIdBytesMax) {
    throw new ConfigError(`cluster id longer than ${clusterIdBytesMax} bytes`);
  }
  const id: NodeId | null = update.nodeId ?? current.nodeId;
  return { hardState, clusterId, nodeId: id };
}

function checkHardStateAdvance(previous: HardState, next: HardState): void {
  assert(Number.isSafeInteger(next.term) && next.term >= 0, `hard state term ${next.term}`);
  assert(Number.isSafeInteger(next.commit) && next.commit >= 0, `hard state commit ${next.commit}`);
  assert(next.term >= previous.term, () => `term ${next.term} < stored term ${previous.term}`);
  assert(next.commit >= previous.commit, () =>
    `commit ${next.commit} < stored commit ${previous.commit}`);
  const sameTerm = next.term === previous.term;
  assert(!sameTerm || previous.vote === null || next.vote === previous.vote, () =>
    `vote changed from ${previous.vote} to ${next.vote} within term ${next.term}`);
}
