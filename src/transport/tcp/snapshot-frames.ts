// The frames of a snapshot stream connection (after a SnapshotHello and its HelloReply):
//   SnapshotHeader: an encoded InstallSnapshot message (codec.ts): from, to, term, meta
//   SnapshotData:   raw bytes, at most snapshotChunkBytes each
//   SnapshotEnd:    u64 totalBytes | u32 crc32c of all data bytes, in order
//   SnapshotAck:    u8 accepted | u16 n | reason (n bytes of UTF-8), receiver to sender
// Every frame also carries the frame layer's own crc32c; the end checksum covers the stream as a
// whole, so a dropped, repeated or reordered data frame is caught too.

import { assert } from "../../assert.js";
import { type InstallSnapshot, MessageType } from "../../core/messages.js";
import { CodecError } from "../errors.js";
import type { SnapshotOffer } from "../transport.js";
import { ByteReader, ByteWriter } from "./binary.js";
import { decodeMessage, messageBytes, writeMessage } from "./codec.js";
import { FrameKind, buildFrame } from "./frame.js";
import { truncateUtf8 } from "./handshake.js";

const reasonBytesMax = 512;
const endBytes = 8 + 4;

export interface SnapshotEnd {
  readonly totalBytes: number;
  readonly checksum: number;
}

export interface SnapshotAck {
  readonly accepted: boolean;
  readonly reason: string;
}

function offerMessage(offer: SnapshotOffer): InstallSnapshot {
  const { from, to, term, meta } = offer;
  return { type: MessageType.InstallSnapshot, from, to, term, meta };
}

export function snapshotHeaderFrame(offer: SnapshotOffer): Buffer {
  const message = offerMessage(offer);
  return buildFrame(FrameKind.SnapshotHeader, messageBytes(message), (buf, offset) => {
    writeMessage(buf, offset, message);
  });
}

/** Decodes a header; throws CodecError unless it is exactly one InstallSnapshot message. */
export function decodeSnapshotHeader(payload: Uint8Array): SnapshotOffer {
  const message = decodeMessage(payload);
  if (message.type !== MessageType.InstallSnapshot) {
    throw new CodecError(`snapshot header holds message type ${message.type}, not InstallSnapshot`);
  }
  const { from, to, term, meta } = message;
  return { from, to, term, meta };
}

/** A data frame holding a copy of `data` (the caller may reuse its buffer afterwards). */
export function snapshotDataFrame(data: Uint8Array): Buffer {
  return buildFrame(FrameKind.SnapshotData, data.byteLength, (buf, offset) => {
    buf.set(data, offset);
  });
}

export function snapshotEndFrame(end: SnapshotEnd): Buffer {
  assert(end.checksum >>> 0 === end.checksum, () => `checksum ${end.checksum} is not a u32`);
  return buildFrame(FrameKind.SnapshotEnd, endBytes, (buf, offset) => {
    const w = new ByteWriter(buf, offset);
    w.u64(end.totalBytes);
    w.u32(end.checksum);
    w.finish(offset + endBytes);
  });
}

export function decodeSnapshotEnd(payload: Uint8Array): SnapshotEnd {
  const r = new ByteReader(payload, "snapshot end");
  const totalBytes = r.u64("total bytes");
  const checksum = r.u32("checksum");
  r.end();
  return { totalBytes, checksum };
}

export function snapshotAckFrame(ack: SnapshotAck): Buffer {
  const reason = truncateUtf8(ack.reason, reasonBytesMax);
  const size = 1 + 2 + reason.length;
  return buildFrame(FrameKind.SnapshotAck, size, (buf, offset) => {
    const w = new ByteWriter(buf, offset);
    w.bool(ack.accepted);
    w.u16(reason.length);
    w.bytes(reason);
    w.finish(offset + size);
  });
}

export function decodeSnapshotAck(payload: Uint8Array): SnapshotAck {
  const r = new ByteReader(payload, "snapshot ack");
  const accepted = r.bool("accepted");
  const reason = r.utf8(r.u16("reason length"), "reason");
  r.end();
  return { accepted, reason };
}
