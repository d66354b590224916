// Proves the handshake rules as a table: the acceptor accepts exactly a hello of its protocol
// version and cluster, addressed to it, from an allowed sender other than itself; and hello
// frames survive encode/decode.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type NodeId, nodeId } from "../../../src/core/types.js";
import { CodecError } from "../../../src/transport/errors.js";
import { FrameDecoder } from "../../../src/transport/tcp/frame-decoder.js";
import {
  PROTOCOL_VERSION,
  decodeHello,
  decodeHelloReply,
  helloFrame,
  helloRejection,
  helloReplyFrame,
} from "../../../src/transport/tcp/handshake.js";

const local = {
  localId: nodeId(1),
  clusterId: "blue",
  isAllowed: (id: NodeId) => id === 2 || id === 3,
};

const goodHello = { clusterId: "blue", senderId: nodeId(2), targetId: nodeId(1) };

function decodeFrame(frame: Buffer): Buffer {
  const [decoded] = new FrameDecoder(1024).push(frame);
  assert.ok(decoded !== undefined, "one frame");
  return decoded.payload;
}

test("a hello round-trips and a correct one is accepted", () => {
  const hello = decodeHello(decodeFrame(helloFrame({
    clusterId: "blue", senderId: nodeId(2), targetId: nodeId(1),
  })));
  assert.deepStrictEqual(hello, {
    version: PROTOCOL_VERSION, clusterId: "blue", senderId: 2, targetId: 1,
  });
  assert.equal(helloRejection(hello, local), null);
});

test("each mismatch is rejected with a reason that names it", () => {
  const cases: [string, Parameters<typeof helloFrame>, RegExp][] = [
    ["another cluster", [{ clusterId: "red", senderId: nodeId(2), targetId: nodeId(1) }],
      /cluster id mismatch: peer is in "red", this node in "blue"/],
    ["another target", [{ clusterId: "blue", senderId: nodeId(2), targetId: nodeId(4) }],
      /wrong target: peer expected node 4, this is node 1/],
    ["an unknown sender", [{ clusterId: "blue", senderId: nodeId(9), targetId: nodeId(1) }],
      /unknown sender 9/],
    ["our own id", [{ clusterId: "blue", senderId: nodeId(1), targetId: nodeId(1) }],
      /sender claims this node's own id 1/],
    ["another version", [{ clusterId: "blue", senderId: nodeId(2), targetId: nodeId(1) }, 7],
      /unsupported protocol version 7 \(supported: 1\)/],
  ];
  for (const [name, args, pattern] of cases) {
    const reason = helloRejection(decodeHello(decodeFrame(helloFrame(...args))), local);
    assert.match(reason ?? "accepted", pattern, name);
  }
});

test("a hello with a foreign magic is refused as not a raft-store peer", () => {
  const payload = decodeFrame(helloFrame(goodHello));
  payload.write("HTTP", 0, "ascii");
  assert.throws(() => decodeHello(payload), (error: unknown) => {
    return error instanceof CodecError && /not a raft-store peer/.test(error.message);
  });
});

test("a cluster id that is not valid UTF-8 is refused", () => {
  const payload = decodeFrame(helloFrame(goodHello));
  payload[payload.length - 1] = 0xff;
  assert.throws(() => decodeHello(payload), /cluster id is not valid UTF-8/);
});

test("a reply round-trips, and an overlong reason is cut at a character boundary", () => {
  const reason = "é".repeat(400);
  const reply = decodeHelloReply(decodeFrame(helloReplyFrame({
    accepted: false, responderId: nodeId(1), reason,
  })));
  assert.equal(reply.accepted, false);
  assert.equal(reply.responderId, 1);
  assert.equal(reply.reason, "é".repeat(256));
});
