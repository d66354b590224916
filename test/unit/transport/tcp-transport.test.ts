// Proves the TCP transport between well-behaved nodes on 127.0.0.1: many messages flow in order
// on every link of two and three nodes, a peer that stops and restarts on the same port is
// reconnected to and gets what was queued meanwhile, and the per-peer queue stays within its
// message and byte limits while a peer is down, counting what it drops; a peer that stops
// reading is dropped after the write-stall timeout and redialled; an address change redials,
// and a removed peer can no longer connect.

import assert from "node:assert/strict";
import { type Socket, createServer } from "node:net";
import { test } from "node:test";
import { type Heartbeat, type Message, MessageType } from "../../../src/core/messages.js";
import { EntryType, nodeId } from "../../../src/core/types.js";
import { InsecureListenError } from "../../../src/transport/errors.js";
import { messageBytes } from "../../../src/transport/tcp/codec.js";
import { frameHeaderBytes } from "../../../src/transport/tcp/frame.js";
import { helloReplyFrame } from "../../../src/transport/tcp/handshake.js";
import { createTcpTransport } from "../../../src/transport/tcp/tcp-transport.js";
import { append, heartbeat, tlsFor, waitFor } from "./helpers.js";
import {
  type TestNode,
  connected,
  peerStats,
  startCluster,
  startNode,
  stopAll,
} from "./tcp-cluster.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The prevIndex sequence numbers of the Appends `node` received from `from`. */
function sequencesFrom(node: TestNode, from: number): number[] {
  return node.received
    .filter((m) => m.from === from && m.type === MessageType.Append)
    .map((m) => (m.type === MessageType.Append ? m.prevIndex / 10 : -1));
}

function isHeartbeat(m: Message): m is Heartbeat {
  return m.type === MessageType.Heartbeat;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** A port on 127.0.0.1 with nothing listening on it. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

test("two nodes exchange 10,000 appends and their responses, in order and intact", async () => {
  const nodes = await startCluster(2, { queueMessagesMax: 20_000 });
  const [a, b] = nodes;
  assert.ok(a && b);
  try {
    const total = 10_000;
    const sent = range(total).map((i) => append(1, 2, i, 3));
    for (let i = 0; i < total; i += 500) {
      a.transport.send(sent.slice(i, i + 500));
      await turn();
    }
    await waitFor(() => b.received.length === total, "node 2 to receive every append", 15_000);
    assert.deepStrictEqual(b.received, sent);
    b.transport.send(b.received.map((m): Message => ({
      type: MessageType.AppendResponse, from: nodeId(2), to: nodeId(1), term: m.term,
      success: true, index: m.type === MessageType.Append ? m.prevIndex + 3 : 0,
      hintIndex: 0, hintTerm: 0,
    })));
    await waitFor(() => a.received.length === total, "node 1 to receive every response", 15_000);
    const indexes = a.received.map((m) => (m.type === MessageType.AppendResponse ? m.index : -1));
    assert.deepStrictEqual(indexes, range(total).map((i) => i * 10 + 3));
    assert.equal(peerStats(a, 2).droppedMessages, 0);
    assert.equal(peerStats(a, 2).sentMessages, total);
    assert.equal(b.transport.stats().receivedMessages, total);
  } finally {
    await stopAll(nodes);
  }
});

test("three nodes each send 1,000 appends to both others and every link keeps order", async () => {
  const nodes = await startCluster(3);
  try {
    for (let round = 0; round < 1000; round += 100) {
      for (const from of nodes) {
        const messages = nodes.filter((to) => to !== from).flatMap((to) =>
          range(100).map((i) => append(from.id, to.id, round + i)));
        from.transport.send(messages);
      }
      await turn();
    }
    await waitFor(() => nodes.every((n) => n.received.length === 2000), "2,000 appends each");
    for (const to of nodes) {
      for (const from of nodes) {
        if (from !== to) assert.deepStrictEqual(sequencesFrom(to, from.id), range(1000));
      }
    }
  } finally {
    await stopAll(nodes);
  }
});

test("a peer restarted on the same port is reconnected to and gets the queue", async () => {
  let nodes: (TestNode | undefined)[] = await startCluster(2);
  try {
    const [a, b] = nodes;
    assert.ok(a && b);
    a.transport.send([heartbeat(1, 2, 1)]);
    await waitFor(() => b.received.length === 1, "the first heartbeat");
    await b.transport.stop();
    await waitFor(() => !connected(a, b.id), "node 1 to see node 2 gone");
    a.transport.send([2, 3, 4].map((i) => heartbeat(1, 2, i)));
    assert.equal(peerStats(a, 2).queuedMessages, 3);
    const peers = new Map([[a.id, a.address]]);
    const restarted = await startNode(2, { listen: b.address, peers });
    nodes = [a, restarted];
    await waitFor(() => restarted.received.length === 3, "the queued heartbeats after restart");
    const contexts = restarted.received.map((m) => (isHeartbeat(m) ? m.context : 0));
    assert.deepStrictEqual(contexts, [2, 3, 4]);
    assert.ok(peerStats(a, 2).reconnects >= 1, "counted the reconnection");
    assert.equal(a.logger.warnings("disconnected from peer").length, 1);
  } finally {
    await stopAll(nodes);
  }
});

test("while a peer is down its queue keeps queueMessagesMax messages, drops the rest", async () => {
  const peers = new Map([[nodeId(2), await deadAddress()]]);
  const a = await startNode(1, { queueMessagesMax: 10, peers });
  try {
    a.transport.send(range(25).map((i) => heartbeat(1, 2, i)));
    const stats = peerStats(a, 2);
    assert.equal(stats.connected, false);
    assert.equal(stats.queuedMessages, 10);
    assert.equal(stats.droppedMessages, 15);
    await waitFor(() => peerStats(a, 2).reconnects >= 2, "redial attempts with backoff");
    assert.equal(peerStats(a, 2).queuedMessages, 10, "the queue survives failed dials");
  } finally {
    await a.transport.stop();
  }
});

test("the queue stops at queueBytesMax too; an oversized message is dropped, logged", async () => {
  const peers = new Map([[nodeId(2), await deadAddress()]]);
  const a = await startNode(1, { frameBytesMax: 1000, queueBytesMax: 2000, peers });
  try {
    const big = append(1, 2, 0, 1);
    const bigBytes = frameHeaderBytes + messageBytes(big);
    const fits = Math.floor(2000 / bigBytes);
    a.transport.send(range(fits + 3).map(() => big));
    assert.equal(peerStats(a, 2).queuedMessages, fits);
    assert.equal(peerStats(a, 2).queuedBytes, fits * bigBytes);
    assert.equal(peerStats(a, 2).droppedMessages, 3);
    const entry = { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(1000) };
    const oversized: Message = { ...big, entries: [entry] };
    a.transport.send([oversized]);
    assert.equal(peerStats(a, 2).droppedMessages, 4);
    assert.equal(a.logger.warnings("message larger than frameBytesMax dropped").length, 1);
  } finally {
    await a.transport.stop();
  }
});

test("changing a peer's address redials it there and delivers what was queued", async () => {
  const b = await startNode(2);
  const a = await startNode(1, { peers: new Map([[nodeId(2), await deadAddress()]]) });
  try {
    b.transport.setPeer(a.id, a.address);
    a.transport.send([heartbeat(1, 2, 1)]);
    a.transport.setPeer(b.id, b.address);
    await waitFor(() => b.received.length === 1, "the queued heartbeat at the new address");
    assert.equal(peerStats(a, 2).address, b.address);
  } finally {
    await stopAll([a, b]);
  }
});

test("a removed peer's inbound connection is closed and its redials are refused", async () => {
  const nodes = await startCluster(2);
  const [a, b] = nodes;
  assert.ok(a && b);
  try {
    a.transport.removePeer(b.id);
    await waitFor(() => !connected(b, a.id), "node 2's connection to be closed");
    const refused = () => a.logger.warnings("inbound connection rejected")
      .filter((w) => w.fields["reason"] === "unknown sender 2");
    await waitFor(() => refused().length >= 1, "node 2's redial to be refused");
    b.transport.send([heartbeat(2, 1, 1)]);
    await waitFor(() => peerStats(b, 1).reconnects >= 2, "another refused redial");
    assert.equal(a.received.length, 0);
  } finally {
    await stopAll(nodes);
  }
});

test("messages to a node without an address are counted as unroutable", async () => {
  const a = await startNode(1);
  try {
    a.transport.send([heartbeat(1, 5, 1)]);
    assert.equal(a.transport.stats().unroutableMessages, 1);
    a.transport.setPeer(nodeId(5), "127.0.0.1:1");
    a.transport.removePeer(nodeId(5));
    a.transport.send([heartbeat(1, 5, 2)]);
    assert.equal(a.transport.stats().unroutableMessages, 2);
  } finally {
    await a.transport.stop();
  }
});

test("start rejects with a ListenError when the port is taken", async () => {
  const a = await startNode(1);
  const b = createTcpTransport({ localId: nodeId(2), clusterId: "c", listen: a.address });
  try {
    await assert.rejects(b.start(() => {}), { code: "LISTEN_FAILED", message: /EADDRINUSE/ });
    assert.equal(b.address(), null);
  } finally {
    await stopAll([a]);
    await b.stop();
  }
});

test("listening on a non-loopback address needs TLS or an explicit insecure option", () => {
  const base = { localId: nodeId(1), clusterId: "c", listen: "0.0.0.0:0" };
  assert.throws(() => createTcpTransport(base), (error: unknown) => {
    assert.ok(error instanceof InsecureListenError);
    assert.match(error.message, /without TLS.*insecure: true/);
    return true;
  });
  assert.doesNotThrow(() => createTcpTransport({ ...base, insecure: true }));
  assert.doesNotThrow(() => createTcpTransport({ ...base, tls: tlsFor("node-1") }));
  assert.doesNotThrow(() => createTcpTransport({ ...base, listen: "127.0.0.1:0" }));
});

test("malformed addresses and inconsistent limits are refused with a ConfigError", () => {
  const base = { localId: nodeId(1), clusterId: "c" };
  const bad: [string, () => unknown][] = [
    ["a listen address without port", () => createTcpTransport({ ...base, listen: "127.0.0.1" })],
    ["a peer address with a bad port", () =>
      createTcpTransport({ ...base, peers: new Map([[nodeId(2), "h:70000"]]) })],
    ["the local id as a peer", () =>
      createTcpTransport({ ...base, peers: new Map([[nodeId(1), "h:1"]]) })],
    ["a byte queue smaller than a frame", () =>
      createTcpTransport({ ...base, frameBytesMax: 100, queueBytesMax: 50 })],
    ["an empty cluster id", () => createTcpTransport({ ...base, clusterId: "" })],
    ["a zero handshake timeout", () => createTcpTransport({ ...base, handshakeTimeoutMs: 0 })],
    ["a TLS key that is not PEM", () =>
      createTcpTransport({ ...base, tls: { ...tlsFor("node-1"), key: "not a key" } })],
    ["a TLS key that does not match the certificate", () =>
      createTcpTransport({ ...base, tls: { ...tlsFor("node-1"), key: tlsFor("node-2").key } })],
  ];
  for (const [name, create] of bad) assert.throws(create, { code: "BAD_CONFIG" }, name);
});

test("a peer that accepts but stops reading is disconnected after the stall timeout", async () => {
  // A fake node 2: it accepts the handshake, then never reads, so the kernel buffers fill up.
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.once("data", () => {
      socket.write(helloReplyFrame({ accepted: true, responderId: nodeId(2), reason: "" }));
      socket.pause();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const peers = new Map([[nodeId(2), `127.0.0.1:${port}`]]);
  const a = await startNode(1, { writeStallTimeoutMs: 300, peers });
  try {
    await waitFor(() => peerStats(a, 2).connected, "the handshake with the fake node");
    const megabyte = { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(1 << 20) };
    const bulk = { ...append(1, 2, 0, 1), entries: [megabyte] };
    a.transport.send(range(12).map(() => bulk));
    const stalled = () => a.logger.warnings("outbound connection failed")
      .filter((w) => w.fields["code"] === "PEER_STALLED");
    await waitFor(() => stalled().length === 1, "the stall to be detected");
    await waitFor(() => peerStats(a, 2).reconnects >= 1, "the redial");
  } finally {
    await a.transport.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
