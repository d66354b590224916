// Proves that a running transport survives hostile peers speaking raw TCP: garbage, a frame whose
// length claims 4 GiB, a wrong cluster id, an unknown sender, a handshake that never completes, a
// corrupt frame, and messages spoofing another node or addressed elsewhere. Each time that one
// connection is closed, the reason is logged, and a well-behaved peer is still served after it.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type Message, MessageType } from "../../../src/core/messages.js";
import { nodeId } from "../../../src/core/types.js";
import { FrameKind, frameHeaderBytes, messageFrame } from "../../../src/transport/tcp/frame.js";
import { decodeHelloReply, helloFrame } from "../../../src/transport/tcp/handshake.js";
import { RawPeer, heartbeat, seed, waitFor } from "./helpers.js";
import { type TestNode, fastOptions, startCluster, stopAll } from "./tcp-cluster.js";

/** Node 1 (the target) and node 2 (a good peer); node 3 is a known peer the raw socket plays. */
type Body = (target: TestNode, good: TestNode) => Promise<void>;

async function withTarget(body: Body): Promise<void> {
  const nodes = await startCluster(2);
  const [target, good] = nodes;
  assert.ok(target && good);
  try {
    target.transport.setPeer(nodeId(3), "127.0.0.1:1");
    await body(target, good);
  } finally {
    await stopAll(nodes);
  }
}

let context = 1000;

/** The good peer's next message still gets through. */
async function expectStillServing(target: TestNode, good: TestNode): Promise<void> {
  const sent = heartbeat(good.id, target.id, ++context);
  good.transport.send([sent]);
  await waitFor(() => target.received.some((m) => isHeartbeat(m, sent)), "the good peer's message");
}

function isHeartbeat(m: Message, sent: Message): boolean {
  return m.type === MessageType.Heartbeat && sent.type === MessageType.Heartbeat &&
    m.context === sent.context;
}

/** Waits for the target's rejection warning and returns its fields. */
async function rejection(target: TestNode, count = 1) {
  const warnings = () => target.logger.warnings("inbound connection rejected");
  await waitFor(() => warnings().length >= count, "the rejection to be logged");
  assert.equal(target.transport.stats().rejectedConnections, count);
  const last = warnings()[count - 1];
  assert.ok(last !== undefined);
  return last.fields;
}

async function handshakeAs(raw: RawPeer, senderId: number, clusterId = "test-cluster") {
  raw.socket.write(helloFrame({ clusterId, senderId: nodeId(senderId), targetId: nodeId(1) }));
  const frame = await raw.nextFrame("the hello reply");
  assert.equal(frame.kind, FrameKind.HelloReply);
  return decodeHelloReply(frame.payload);
}

test("an HTTP request instead of a hello is rejected and logged", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    raw.socket.write("GET / HTTP/1.1\r\nHost: raft\r\n\r\n");
    await raw.waitClosed();
    const fields = await rejection(target);
    assert.equal(fields["code"], "FRAME_TOO_LARGE");
    assert.equal(fields["stage"], "handshake");
    await expectStillServing(target, good);
  });
});

test("random garbage connections are each closed without disturbing the node", async () => {
  await withTarget(async (target, good) => {
    const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 64 }), { seed, numRuns: 5 });
    for (const garbage of samples) {
      const raw = await RawPeer.connect(target.address);
      raw.socket.write(garbage);
      await raw.waitClosed();
    }
    await rejection(target, samples.length);
    await expectStillServing(target, good);
  });
});

test("a frame whose length prefix claims 4 GiB closes the connection at once", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    assert.equal((await handshakeAs(raw, 3)).accepted, true);
    const header = Buffer.alloc(frameHeaderBytes);
    header.writeUInt32BE(0xffff_ffff, 0);
    header.writeUInt8(FrameKind.Message, 4);
    raw.socket.write(header);
    await raw.waitClosed();
    const fields = await rejection(target);
    assert.equal(fields["code"], "FRAME_TOO_LARGE");
    assert.equal(fields["stage"], "open");
    assert.equal(fields["peer"], 3);
    await expectStillServing(target, good);
  });
});

test("a hello with another cluster id gets a rejection naming the mismatch", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    const reply = await handshakeAs(raw, 3, "other-cluster");
    assert.equal(reply.accepted, false);
    assert.match(reply.reason, /cluster id mismatch/);
    await raw.waitClosed();
    const fields = await rejection(target);
    assert.equal(fields["code"], "HANDSHAKE_FAILED");
    assert.match(String(fields["reason"]), /"other-cluster"/);
    await expectStillServing(target, good);
  });
});

test("a sender outside the peer set is rejected as unknown", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    const reply = await handshakeAs(raw, 9);
    assert.equal(reply.accepted, false);
    assert.equal(reply.reason, "unknown sender 9");
    await raw.waitClosed();
    await rejection(target);
    await expectStillServing(target, good);
  });
});

test("a connection that never sends its hello is closed after the handshake timeout", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    const started = performance.now();
    await raw.waitClosed();
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs >= fastOptions.handshakeTimeoutMs - 20, `closed after ${elapsedMs} ms`);
    const fields = await rejection(target);
    assert.match(String(fields["reason"]), /handshake not completed within 200 ms/);
    await expectStillServing(target, good);
  });
});

test("a message whose from is not the handshake's node id drops the connection", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    assert.equal((await handshakeAs(raw, 3)).accepted, true);
    raw.socket.write(messageFrame(heartbeat(2, 1, 99)));
    await raw.waitClosed();
    const fields = await rejection(target);
    assert.equal(fields["code"], "PEER_PROTOCOL");
    assert.match(String(fields["reason"]), /message from node 2 on node 3's connection/);
    await expectStillServing(target, good);
    assert.ok(!target.received.some((m) => m.type === MessageType.Heartbeat && m.context === 99));
  });
});

test("a message addressed to another node drops the connection", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    assert.equal((await handshakeAs(raw, 3)).accepted, true);
    raw.socket.write(messageFrame(heartbeat(3, 2, 98)));
    await raw.waitClosed();
    const fields = await rejection(target);
    assert.match(String(fields["reason"]), /message to node 2, this is 1/);
    await expectStillServing(target, good);
  });
});

test("a corrupt frame drops the connection after the valid messages before it", async () => {
  await withTarget(async (target, good) => {
    const raw = await RawPeer.connect(target.address);
    assert.equal((await handshakeAs(raw, 3)).accepted, true);
    const valid = messageFrame(heartbeat(3, 1, 97));
    const corrupt = messageFrame(heartbeat(3, 1, 96));
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
    raw.socket.write(valid);
    await waitFor(() => target.received.length === 1, "the valid message");
    raw.socket.write(corrupt);
    await raw.waitClosed();
    const fields = await rejection(target);
    assert.equal(fields["code"], "BAD_FRAME");
    const contexts = target.received.map((m) => (m.type === MessageType.Heartbeat ? m.context : 0));
    assert.ok(contexts.includes(97) && !contexts.includes(96));
    await expectStillServing(target, good);
  });
});
