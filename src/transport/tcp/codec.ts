// The binary encoding of a Raft message (codec version 1). Every message starts with
//   u8 codecVersion | u8 type | u64 from | u64 to | u64 term
// followed by the fields of its type, all big-endian. Encoding sizes the message first and
// writes it into one buffer; decoding checks every byte and throws CodecError for anything that
// is not exactly one valid message. Adding a message type means one case in bodyBytes, writeBody
// and readBody; changing an existing layout means a new codec version.

import { assert, assertNever } from "../../assert.js";
import { type AppendRequest, type Message, MessageType } from "../../core/messages.js";
import { type Entry, EntryType, type NodeId, type SnapshotMeta, nodeId } from "../../core/types.js";
import { CodecError } from "../errors.js";
import { ByteReader, ByteWriter } from "./binary.js";

export const CODEC_VERSION = 1;

/** codecVersion, type, from, to, term. */
const headerBytes = 1 + 1 + 8 + 8 + 8;
/** Per entry: u64 term, u8 type, u32 data length (the index is implied by prevIndex). */
const entryHeaderBytes = 8 + 1 + 4;
const u32Max = 0xffff_ffff;

/** The exact encoded size of a message. */
export function messageBytes(m: Message): number {
  return headerBytes + bodyBytes(m);
}

function bodyBytes(m: Message): number {
  switch (m.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      return 8 + 8 + 1;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
      return 1;
    case MessageType.Append: {
      let bytes = 8 + 8 + 8 + 4;
      for (const entry of m.entries) bytes += entryHeaderBytes + entry.data.length;
      return bytes;
    }
    case MessageType.AppendResponse:
      return 1 + 8 + 8 + 8;
    case MessageType.Heartbeat:
      return 8 + 8;
    case MessageType.HeartbeatResponse:
      return 8;
    case MessageType.TimeoutNow:
      return 0;
    case MessageType.InstallSnapshot:
      return snapshotMetaBytes(m.meta);
    default:
      return assertNever(m, "message");
  }
}

// InstallSnapshot: index u64, term u64, then voters, outgoing voters and learners (u32 count,
// u64 ids each), then the members' addresses (u32 count; u64 id, u16 length, UTF-8 each).

function addressesOf(meta: SnapshotMeta): [string, string][] {
  const addresses = meta.configuration.addresses ?? {};
  return Object.entries(addresses);
}

function snapshotMetaBytes(meta: SnapshotMeta): number {
  const c = meta.configuration;
  let bytes = 8 + 8 + 4 * 3 + 8 * (c.voters.length + c.votersOutgoing.length + c.learners.length);
  bytes += 4;
  for (const [, address] of addressesOf(meta)) bytes += 8 + 2 + Buffer.byteLength(address, "utf8");
  return bytes;
}

function writeSnapshotMeta(w: ByteWriter, meta: SnapshotMeta): void {
  w.u64(meta.index);
  w.u64(meta.term);
  const c = meta.configuration;
  for (const ids of [c.voters, c.votersOutgoing, c.learners]) {
    w.u32(ids.length);
    for (const id of ids) w.u64(id);
  }
  const addresses = addressesOf(meta);
  w.u32(addresses.length);
  for (const [id, address] of addresses) {
    const bytes = Buffer.from(address, "utf8");
    assert(bytes.length <= 0xffff, () => `address of node ${id} is ${bytes.length} bytes`);
    w.u64(Number(id));
    w.u16(bytes.length);
    w.bytes(bytes);
  }
}

function readIds(r: ByteReader, field: string): NodeId[] {
  const count = r.u32(`${field} count`);
  if (count * 8 > r.remaining()) throw new CodecError(`${field} count ${count} cannot fit`);
  return Array.from({ length: count }, () => readNodeId(r, field));
}

function readSnapshotMeta(r: ByteReader): SnapshotMeta {
  const index = r.u64("snapshot index");
  const term = r.u64("snapshot term");
  const voters = readIds(r, "voters");
  const votersOutgoing = readIds(r, "outgoing voters");
  const learners = readIds(r, "learners");
  const count = r.u32("address count");
  if (count * 10 > r.remaining()) throw new CodecError(`address count ${count} cannot fit`);
  const addresses: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const id = readNodeId(r, "address node id");
    addresses[String(id)] = r.utf8(r.u16("address length"), "address");
  }
  const configuration = { voters, votersOutgoing, learners, ...(count > 0 ? { addresses } : {}) };
  return { index, term, configuration };
}

/** Writes `m` at `offset`; `buf` must have messageBytes(m) bytes there. */
export function writeMessage(buf: Buffer, offset: number, m: Message): void {
  const end = offset + messageBytes(m);
  assert(buf.length >= end, () => `buffer of ${buf.length} bytes, message needs ${end}`);
  assert(m.from > 0 && m.to > 0, () => `message ids from=${m.from} to=${m.to} must be positive`);
  const w = new ByteWriter(buf, offset);
  w.u8(CODEC_VERSION);
  w.u8(m.type);
  w.u64(m.from);
  w.u64(m.to);
  w.u64(m.term);
  writeBody(w, m);
  w.finish(end);
}

/** Encodes a message into a buffer of its own. */
export function encodeMessage(m: Message): Buffer {
  const buf = Buffer.allocUnsafe(messageBytes(m));
  writeMessage(buf, 0, m);
  return buf;
}

function writeBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      w.u64(m.lastLogIndex);
      w.u64(m.lastLogTerm);
      w.bool(m.transfer);
      return;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
      w.bool(m.granted);
      return;
    case MessageType.Append:
      return writeAppend(w, m);
    case MessageType.AppendResponse:
      w.bool(m.success);
      w.u64(m.index);
      w.u64(m.hintIndex);
      w.u64(m.hintTerm);
      return;
    case MessageType.Heartbeat:
      w.u64(m.commit);
      w.u64(m.context);
      return;
    case MessageType.HeartbeatResponse:
      w.u64(m.context);
      return;
    case MessageType.TimeoutNow:
      return;
    case MessageType.InstallSnapshot:
      return writeSnapshotMeta(w, m.meta);
    default:
      return assertNever(m, "message");
  }
}

function writeAppend(w: ByteWriter, m: AppendRequest): void {
  w.u64(m.prevIndex);
  w.u64(m.prevTerm);
  w.u64(m.commit);
  w.u32(m.entries.length);
  for (let i = 0; i < m.entries.length; i++) {
    const entry = m.entries[i] as Entry;
    // The wire carries no per-entry index, so the entries must be contiguous after prevIndex, as
    // the core always sends them (the receiver computes lastNew = prevIndex + entries.length).
    assert(entry.index === m.prevIndex + 1 + i, () => {
      return `append entry ${i} has index ${entry.index}, expected ${m.prevIndex + 1 + i}`;
    });
    assert(entry.data.length <= u32Max, () => `entry data of ${entry.data.length} bytes`);
    w.u64(entry.term);
    w.u8(entry.type);
    w.u32(entry.data.length);
    w.bytes(entry.data);
  }
}

/**
 * Decodes exactly one message. The entries' data are views into `bytes` (no copy), so the caller
 * must hand over a buffer it will not reuse; the frame decoder gives each frame its own.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new ByteReader(bytes, "message");
  const version = r.u8("codec version");
  if (version !== CODEC_VERSION) {
    throw new CodecError(`unsupported codec version ${version} (supported: ${CODEC_VERSION})`);
  }
  const type = r.u8("type");
  if (!isMessageType(type)) throw new CodecError(`unknown message type ${type}`);
  const from = readNodeId(r, "from");
  const to = readNodeId(r, "to");
  const term = r.u64("term");
  const message = readBody(r, type, { from, to, term });
  r.end();
  return message;
}

interface Header {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

function readBody(r: ByteReader, type: MessageType, h: Header): Message {
  switch (type) {
    case MessageType.PreVote:
    case MessageType.Vote: {
      const lastLogIndex = r.u64("lastLogIndex");
      const lastLogTerm = r.u64("lastLogTerm");
      return { type, ...h, lastLogIndex, lastLogTerm, transfer: r.bool("transfer") };
    }
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
      return { type, ...h, granted: r.bool("granted") };
    case MessageType.Append:
      return readAppend(r, h);
    case MessageType.AppendResponse: {
      const success = r.bool("success");
      const index = r.u64("index");
      const hintIndex = r.u64("hintIndex");
      return { type, ...h, success, index, hintIndex, hintTerm: r.u64("hintTerm") };
    }
    case MessageType.Heartbeat: {
      const commit = r.u64("commit");
      return { type, ...h, commit, context: r.u64("context") };
    }
    case MessageType.HeartbeatResponse:
      return { type, ...h, context: r.u64("context") };
    case MessageType.TimeoutNow:
      return { type, ...h };
    case MessageType.InstallSnapshot:
      return { type, ...h, meta: readSnapshotMeta(r) };
    default:
      return assertNever(type, "message type");
  }
}

function readAppend(r: ByteReader, h: Header): AppendRequest {
  const prevIndex = r.u64("prevIndex");
  const prevTerm = r.u64("prevTerm");
  const commit = r.u64("commit");
  const count = r.u32("entry count");
  // Bound the count by the bytes present before allocating anything for it.
  if (count * entryHeaderBytes > r.remaining()) {
    throw new CodecError(`append entry count ${count} cannot fit in ${r.remaining()} bytes`);
  }
  if (prevIndex + count > Number.MAX_SAFE_INTEGER) {
    throw new CodecError(`append entries after prevIndex ${prevIndex} exceed 2^53 - 1`);
  }
  const entries: Entry[] = new Array<Entry>(count);
  for (let i = 0; i < count; i++) {
    const term = r.u64("entry term");
    const type = r.u8("entry type");
    if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
      throw new CodecError(`unknown entry type ${type} in append entry ${i}`);
    }
    const data = r.bytes(r.u32("entry data length"), "entry data");
    entries[i] = { term, index: prevIndex + 1 + i, type, data };
  }
  return { type: MessageType.Append, ...h, prevIndex, prevTerm, entries, commit };
}

function readNodeId(r: ByteReader, field: string): NodeId {
  const value = r.u64(field);
  if (value === 0) throw new CodecError(`message ${field} node id is 0`);
  return nodeId(value);
}

const messageTypes: ReadonlySet<number> = new Set(Object.values(MessageType));

function isMessageType(value: number): value is MessageType {
  return messageTypes.has(value);
}

