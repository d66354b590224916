// The connection handshake. The dialer's first frame is a Hello:
//   magic "RSTP" | u16 protocolVersion | u64 senderId | u64 targetId | u8 n | clusterId (n bytes)
// and the acceptor answers with a HelloReply before anything else flows:
//   magic "RSTP" | u16 protocolVersion | u8 accepted | u64 responderId | u16 n | reason (n bytes)
// The acceptor rejects a foreign magic, another protocol version, another cluster id, a target
// that is not itself, and (with an allow-list) an unknown sender. The magic and version come
// first so that a future version can change everything after them.

import { assert } from "../../assert.js";
import { type NodeId, nodeId } from "../../core/types.js";
import { CodecError } from "../errors.js";
import { ByteReader, ByteWriter } from "./binary.js";
import { FrameKind, buildFrame } from "./frame.js";

export const PROTOCOL_VERSION = 1;
const magic = Buffer.from("RSTP", "ascii");
export const clusterIdBytesMax = 255;
const reasonBytesMax = 512;

export interface Hello {
  readonly version: number;
  readonly clusterId: string;
  readonly senderId: NodeId;
  readonly targetId: NodeId;
}

export interface HelloReply {
  readonly accepted: boolean;
  readonly responderId: NodeId;
  readonly reason: string;
}

/**
 * A Hello frame; with `kind` SnapshotHello the same payload opens a snapshot stream connection
 * (so the acceptor knows the purpose before anything else, and never confuses the two).
 */
export function helloFrame(
  hello: Omit<Hello, "version">,
  version = PROTOCOL_VERSION,
  kind: typeof FrameKind.Hello | typeof FrameKind.SnapshotHello = FrameKind.Hello,
): Buffer {
  const clusterId = Buffer.from(hello.clusterId, "utf8");
  assert(clusterId.length <= clusterIdBytesMax, () => `cluster id of ${clusterId.length} bytes`);
  const size = magic.length + 2 + 8 + 8 + 1 + clusterId.length;
  return buildFrame(kind, size, (buf, offset) => {
    const w = new ByteWriter(buf, offset);
    w.bytes(magic);
    w.u16(version);
    w.u64(hello.senderId);
    w.u64(hello.targetId);
    w.u8(clusterId.length);
    w.bytes(clusterId);
    w.finish(offset + size);
  });
}

export function helloReplyFrame(reply: HelloReply): Buffer {
  const reason = truncateUtf8(reply.reason, reasonBytesMax);
  const size = magic.length + 2 + 1 + 8 + 2 + reason.length;
  return buildFrame(FrameKind.HelloReply, size, (buf, offset) => {
    const w = new ByteWriter(buf, offset);
    w.bytes(magic);
    w.u16(PROTOCOL_VERSION);
    w.bool(reply.accepted);
    w.u64(reply.responderId);
    w.u16(reason.length);
    w.bytes(reason);
    w.finish(offset + size);
  });
}

/** Reads magic and version, the part every protocol version shares. */
function readPreamble(r: ByteReader): number {
  const head = r.bytes(magic.length, "magic");
  if (!magic.equals(head)) {
    throw new CodecError(`bad magic 0x${Buffer.from(head).toString("hex")}: not a raft-store peer`);
  }
  return r.u16("protocol version");
}

/** Decodes a Hello; a Hello of another protocol version is returned with only its version. */
export function decodeHello(payload: Uint8Array): Hello | { readonly version: number } {
  const r = new ByteReader(payload, "hello");
  const version = readPreamble(r);
  if (version !== PROTOCOL_VERSION) return { version };
  const senderId = readId(r, "sender id");
  const targetId = readId(r, "target id");
  const clusterId = r.utf8(r.u8("cluster id length"), "cluster id");
  r.end();
  return { version, clusterId, senderId, targetId };
}

export function decodeHelloReply(payload: Uint8Array): HelloReply {
  const r = new ByteReader(payload, "hello reply");
  const version = readPreamble(r);
  if (version !== PROTOCOL_VERSION) {
    throw new CodecError(`hello reply has protocol version ${version}, sent ${PROTOCOL_VERSION}`);
  }
  const accepted = r.bool("accepted");
  const responderId = readId(r, "responder id");
  const reason = r.utf8(r.u16("reason length"), "reason");
  r.end();
  return { accepted, responderId, reason };
}

export interface AcceptorIdentity {
  readonly localId: NodeId;
  readonly clusterId: string;
  /** Whether a sender may connect (the allow-list check). */
  readonly isAllowed: (senderId: NodeId) => boolean;
}

/** Why the acceptor refuses `hello`, or null to accept it. */
export function helloRejection(
  hello: Hello | { readonly version: number },
  local: AcceptorIdentity,
): string | null {
  if (!("clusterId" in hello)) {
    return `unsupported protocol version ${hello.version} (supported: ${PROTOCOL_VERSION})`;
  }
  if (hello.clusterId !== local.clusterId) {
    const ours = local.clusterId;
    return `cluster id mismatch: peer is in "${hello.clusterId}", this node in "${ours}"`;
  }
  if (hello.targetId !== local.localId) {
    return `wrong target: peer expected node ${hello.targetId}, this is node ${local.localId}`;
  }
  if (hello.senderId === local.localId) return `sender claims this node's own id ${local.localId}`;
  if (!local.isAllowed(hello.senderId)) return `unknown sender ${hello.senderId}`;
  return null;
}

function readId(r: ByteReader, field: string): NodeId {
  const value = r.u64(field);
  if (value === 0) throw new CodecError(`${field} is 0`);
  return nodeId(value);
}

/** UTF-8 bytes of `text`, cut at a character boundary to at most `max` bytes. */
export function truncateUtf8(text: string, max: number): Buffer {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= max) return bytes;
  let end = max;
  // Back off over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
