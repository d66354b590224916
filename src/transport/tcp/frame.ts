// The frame layer: every unit on a connection is
//   u32 payloadBytes | u8 kind | u32 crc32c(kind, payload) | payload
// big-endian. The length comes first so a receiver can refuse an oversized frame before it
// buffers any of it; the checksum catches corruption that TCP's 16-bit checksum lets through.

import { crc32c } from "@node-rs/crc32";
import type { Message } from "../../core/messages.js";
import { messageBytes, writeMessage } from "./codec.js";

export const FrameKind = {
  /** The dialer's handshake: magic, version, cluster id, sender id, expected target id. */
  Hello: 1,
  /** The acceptor's answer: accepted or rejected with a reason. */
  HelloReply: 2,
  /** One encoded Raft message (see codec.ts). */
  Message: 3,
  /** A Hello (same payload) opening a snapshot stream connection instead of a message one. */
  SnapshotHello: 4,
  /** The stream's first frame: an encoded InstallSnapshot message (offer and metadata). */
  SnapshotHeader: 5,
  /** A piece of the snapshot's data, raw. */
  SnapshotData: 6,
  /** The end of the data: u64 totalBytes | u32 crc32c of all data. */
  SnapshotEnd: 7,
  /** The receiver's verdict: u8 accepted | u16 n | reason (n bytes). */
  SnapshotAck: 8,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const frameHeaderBytes = 4 + 1 + 4;
/** The default bound on a frame's payload. */
export const frameBytesMaxDefault = 16 * 1024 * 1024;
/** The bound on a handshake frame: before the handshake, a peer is not trusted with more. */
export const handshakeFrameBytesMax = 1024;

export interface Frame {
  readonly kind: FrameKind;
  /** The payload, in a buffer of its own. */
  readonly payload: Buffer;
}

export function isFrameKind(value: number): value is FrameKind {
  return Number.isInteger(value) && value >= FrameKind.Hello && value <= FrameKind.SnapshotAck;
}

/** The checksum of a frame: over its kind byte, then its payload. */
export function frameChecksum(kind: number, payload: Uint8Array): number {
  return crc32c(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), kindCrc(kind));
}

const kindCrcs = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => crc32c(Buffer.of(k)));

function kindCrc(kind: number): number {
  return kindCrcs[kind] ?? crc32c(Buffer.of(kind));
}

/** Allocates a frame of `payloadBytes` and lets `writePayload` fill it at frameHeaderBytes. */
export function buildFrame(
  kind: FrameKind,
  payloadBytes: number,
  writePayload: (buf: Buffer, offset: number) => void,
): Buffer {
  const buf = Buffer.allocUnsafe(frameHeaderBytes + payloadBytes);
  writePayload(buf, frameHeaderBytes);
  buf.writeUInt32BE(payloadBytes, 0);
  buf.writeUInt8(kind, 4);
  buf.writeUInt32BE(frameChecksum(kind, buf.subarray(frameHeaderBytes)), 5);
  return buf;
}

/** A Message frame: one allocation holding header and encoded message. */
export function messageFrame(m: Message): Buffer {
  return buildFrame(FrameKind.Message, messageBytes(m), (buf, offset) => {
    writeMessage(buf, offset, m);
  });
}
