// Proves that a receiver refuses a snapshot stream that is corrupt or breaks the protocol, sent
// over a raw socket: a data frame changed in transit, an end frame whose checksum or length does
// not match the data, a header speaking for another node, and a stream past snapshotBytesMax.
// Each time the connection is closed, a warning is logged, the handler's iteration throws
// SnapshotTransferError, nothing throws out of the transport, and no ack is sent. It also shows
// that a well-formed raw stream is acknowledged (so the refusals are for the faults alone).

import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c } from "@node-rs/crc32";
import { nodeId } from "../../../src/core/types.js";
import { SnapshotTransferError } from "../../../src/transport/errors.js";
import { FrameKind, frameHeaderBytes } from "../../../src/transport/tcp/frame.js";
import { decodeHelloReply, helloFrame } from "../../../src/transport/tcp/handshake.js";
import {
  decodeSnapshotAck,
  snapshotDataFrame,
  snapshotEndFrame,
  snapshotHeaderFrame,
} from "../../../src/transport/tcp/snapshot-frames.js";
import type { SnapshotOffer } from "../../../src/transport/transport.js";
import { RawPeer, waitFor } from "./helpers.js";
import { offer, recorder } from "./snapshot-helpers.js";
import { type TestNode, startNode, stopAll } from "./tcp-cluster.js";

type Body = (raw: RawPeer, target: TestNode, rec: ReturnType<typeof recorder>) => Promise<void>;

/** Node 1 receives; the raw socket plays node 2 and has passed the snapshot handshake. */
async function withRawStream(body: Body, options = {}): Promise<void> {
  const rec = recorder();
  const target = await startNode(1, { acceptUnknownPeers: true, ...options }, rec.handler);
  const raw = await RawPeer.connect(target.address);
  try {
    const hello = { clusterId: "test-cluster", senderId: nodeId(2), targetId: nodeId(1) };
    raw.socket.write(helloFrame(hello, undefined, FrameKind.SnapshotHello));
    const reply = decodeHelloReply((await raw.nextFrame("the hello reply")).payload);
    assert.equal(reply.accepted, true, reply.reason);
    await body(raw, target, rec);
  } finally {
    raw.socket.destroy();
    await stopAll([target]);
  }
}

const data = [Buffer.from("first chunk of the snapshot"), Buffer.from("and the second one")];
const checksum = data.reduce((crc, chunk) => crc32c(chunk, crc), 0);
const totalBytes = data.reduce((sum, chunk) => sum + chunk.length, 0);

function writeStream(raw: RawPeer, header: SnapshotOffer, frames: Buffer[]): void {
  raw.socket.write(Buffer.concat([snapshotHeaderFrame(header), ...frames]));
}

/** The connection closes without an ack, a warning names `reason`, the handler's loop threw. */
async function expectRefused(raw: RawPeer, target: TestNode, rec: ReturnType<typeof recorder>,
  reason: RegExp): Promise<void> {
  await raw.waitClosed();
  assert.equal(raw.frames.length, 0, "no ack for a refused stream");
  const warning = target.logger.warnings("inbound connection rejected")[0];
  assert.match(String(warning?.fields["reason"]), reason);
  if (rec.received.length > 0) {
    await waitFor(() => rec.received[0]?.end !== undefined, "the handler's iteration to end");
    assert.ok(rec.received[0]?.end instanceof SnapshotTransferError);
  }
}

test("a well-formed raw stream is received and acknowledged", async () => {
  await withRawStream(async (raw, _target, rec) => {
    writeStream(raw, offer(2, 1), [...data.map(snapshotDataFrame),
      snapshotEndFrame({ totalBytes, checksum })]);
    const ack = decodeSnapshotAck((await raw.nextFrame("the ack")).payload);
    assert.deepStrictEqual(ack, { accepted: true, reason: "" });
    assert.equal(rec.received[0]?.checksum, checksum);
  });
});

test("a data frame changed in transit fails its frame checksum and is refused", async () => {
  await withRawStream(async (raw, target, rec) => {
    const corrupt = snapshotDataFrame(data[1] as Buffer);
    const at = frameHeaderBytes + 3;
    corrupt.writeUInt8(corrupt.readUInt8(at) ^ 0x40, at);
    writeStream(raw, offer(2, 1), [snapshotDataFrame(data[0] as Buffer), corrupt]);
    await expectRefused(raw, target, rec, /frame checksum/);
  });
});

test("an end frame whose checksum or length does not match the data is refused", async () => {
  for (const end of [{ totalBytes, checksum: (checksum ^ 1) >>> 0 }, { totalBytes: 1, checksum }]) {
    await withRawStream(async (raw, target, rec) => {
      writeStream(raw, offer(2, 1), [...data.map(snapshotDataFrame), snapshotEndFrame(end)]);
      await expectRefused(raw, target, rec, /does not match its end frame/);
    });
  }
});

test("a header speaking for another node is refused before any data is delivered", async () => {
  await withRawStream(async (raw, target, rec) => {
    writeStream(raw, offer(3, 1), data.map(snapshotDataFrame));
    await expectRefused(raw, target, rec, /snapshot from node 3 on node 2's connection/);
    assert.equal(rec.received.length, 0, "the handler never saw the stream");
  });
});

test("a stream past snapshotBytesMax is refused", async () => {
  await withRawStream(async (raw, target, rec) => {
    writeStream(raw, offer(2, 1), data.map(snapshotDataFrame));
    await expectRefused(raw, target, rec, /exceeds snapshotBytesMax 30/);
  }, { snapshotBytesMax: 30 });
});
