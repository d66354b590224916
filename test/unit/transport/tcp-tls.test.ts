// Proves mutual TLS: two transports with certificates from the cluster CA exchange messages,
// while a peer whose certificate comes from another CA, or that has no certificate, or that
// speaks plain TCP, is refused during the TLS handshake and logged, and never delivers anything.

import assert from "node:assert/strict";
import { connect as tlsConnect } from "node:tls";
import { test } from "node:test";
import { nodeId } from "../../../src/core/types.js";
import { helloFrame } from "../../../src/transport/tcp/handshake.js";
import { RawPeer, fixture, heartbeat, socketClosed, tlsFor, waitFor } from "./helpers.js";
import { type TestNode, peerStats, startNode, stopAll } from "./tcp-cluster.js";

/** Two nodes with cluster-CA certificates that know each other. */
async function tlsPair(): Promise<TestNode[]> {
  const a = await startNode(1, { tls: tlsFor("node-1") });
  const b = await startNode(2, { tls: tlsFor("node-2") });
  a.transport.setPeer(b.id, b.address);
  b.transport.setPeer(a.id, a.address);
  return [a, b];
}

test("two transports with cluster certificates talk over mutual TLS", async () => {
  const nodes = await tlsPair();
  const [a, b] = nodes;
  assert.ok(a && b);
  try {
    a.transport.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
    b.transport.send([heartbeat(2, 1, 3)]);
    await waitFor(() => b.received.length === 2 && a.received.length === 1, "both directions");
    assert.equal(a.transport.stats().rejectedConnections, 0);
    assert.equal(peerStats(a, 2).connected, true);
  } finally {
    await stopAll(nodes);
  }
});

test("a peer whose certificate is signed by another CA is refused", async () => {
  const nodes = await tlsPair();
  const [a] = nodes;
  assert.ok(a);
  // The intruder trusts the cluster CA but holds a certificate from another one.
  const intruder = await startNode(3, {
    tls: { ...tlsFor("other-node", "other-ca"), ca: fixture("ca.crt") },
    peers: new Map([[a.id, a.address]]),
  });
  try {
    a.transport.setPeer(nodeId(3), intruder.address);
    intruder.transport.send([heartbeat(3, 1, 7)]);
    await waitFor(() => a.transport.stats().rejectedConnections >= 1, "the TLS rejection");
    const warning = a.logger.warnings("inbound TLS handshake failed")[0];
    assert.ok(warning !== undefined, "the rejection is logged");
    assert.equal(peerStats(intruder, 1).connected, false);
    assert.ok(!a.received.some((m) => m.from === 3), "nothing from the intruder is delivered");
  } finally {
    await stopAll([...nodes, intruder]);
  }
});

test("a TLS client without a certificate is refused before any hello is read", async () => {
  const nodes = await tlsPair();
  const [a] = nodes;
  assert.ok(a);
  try {
    const [host, port] = a.address.split(":");
    const socket = tlsConnect({ host: host ?? "", port: Number(port), ca: fixture("ca.crt") });
    socket.on("error", () => {});
    socket.write(helloFrame({ clusterId: "test-cluster", senderId: nodeId(2), targetId: a.id }));
    await socketClosed(socket);
    await waitFor(() => a.transport.stats().rejectedConnections >= 1, "the TLS rejection");
    assert.equal(a.logger.warnings("inbound connection rejected").length, 0, "no hello was read");
  } finally {
    await stopAll(nodes);
  }
});

test("a plain TCP hello sent to a TLS listener is refused", async () => {
  const nodes = await tlsPair();
  const [a] = nodes;
  assert.ok(a);
  try {
    const raw = await RawPeer.connect(a.address);
    const hello = { clusterId: "test-cluster", senderId: nodeId(2), targetId: a.id };
    raw.socket.write(helloFrame(hello));
    await raw.waitClosed();
    await waitFor(() => a.transport.stats().rejectedConnections >= 1, "the TLS rejection");
  } finally {
    await stopAll(nodes);
  }
});
