// Proves the in-memory network the driver tests rely on: delivery is asynchronous and in order
// per link, cut links lose messages (also those already in flight) until healed, each link's
// queue is bounded, and messages to unknown peers or stopped nodes are counted, not delivered.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type Message, MessageType } from "../../../src/core/messages.js";
import { nodeId } from "../../../src/core/types.js";
import { MemoryNetwork, type MemoryTransport } from "../../../src/transport/memory-transport.js";
import { heartbeat } from "./helpers.js";

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function cluster(network: MemoryNetwork, count: number) {
  const nodes: { transport: MemoryTransport; received: Message[] }[] = [];
  for (let i = 1; i <= count; i++) {
    const transport = network.createTransport(nodeId(i));
    const received: Message[] = [];
    await transport.start((m) => received.push(m));
    for (let j = 1; j <= count; j++) if (j !== i) transport.setPeer(nodeId(j), `memory:${j}`);
    nodes.push({ transport, received });
  }
  return nodes.map((n) => ({ ...n, id: n.transport.id }));
}

test("messages arrive on a later turn, in send order", async () => {
  const [a, b] = await cluster(new MemoryNetwork(), 2);
  assert.ok(a && b);
  a.transport.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2)]);
  a.transport.send([heartbeat(1, 2, 3)]);
  assert.equal(b.received.length, 0, "nothing is delivered synchronously");
  await turn();
  const contexts = b.received.map((m) => (m.type === MessageType.Heartbeat ? m.context : -1));
  assert.deepStrictEqual(contexts, [1, 2, 3]);
  assert.equal(a.transport.stats().peers[0]?.sentMessages, 3);
  assert.equal(b.transport.stats().receivedMessages, 3);
});

test("a cut link loses messages, including those in flight, until it is healed", async () => {
  const network = new MemoryNetwork();
  const [a, b] = await cluster(network, 2);
  assert.ok(a && b);
  a.transport.send([heartbeat(1, 2, 1)]);
  network.cut(a.id, b.id);
  a.transport.send([heartbeat(1, 2, 2)]);
  b.transport.send([heartbeat(2, 1, 3)]);
  await turn();
  assert.equal(b.received.length, 0);
  assert.equal(a.received.length, 1, "the cut is one-way");
  assert.equal(a.transport.stats().peers[0]?.droppedMessages, 2);
  assert.equal(a.transport.stats().peers[0]?.connected, false);
  network.heal(a.id, b.id);
  a.transport.send([heartbeat(1, 2, 4)]);
  await turn();
  assert.equal(b.received.length, 1);
});

test("isolate cuts a node off both ways and healAll restores every link", async () => {
  const network = new MemoryNetwork();
  const [a, b, c] = await cluster(network, 3);
  assert.ok(a && b && c);
  network.isolate(c.id);
  c.transport.send([heartbeat(3, 1, 1), heartbeat(3, 2, 1)]);
  a.transport.send([heartbeat(1, 3, 1), heartbeat(1, 2, 1)]);
  await turn();
  assert.equal(c.received.length + a.received.length, 0);
  assert.equal(b.received.length, 1);
  network.healAll();
  c.transport.send([heartbeat(3, 1, 2)]);
  await turn();
  assert.equal(a.received.length, 1);
});

test("a link holds at most queueMessagesMax messages in flight; the rest are dropped", async () => {
  const [a, b] = await cluster(new MemoryNetwork({ queueMessagesMax: 3 }), 2);
  assert.ok(a && b);
  a.transport.send([1, 2, 3, 4, 5].map((i) => heartbeat(1, 2, i)));
  assert.equal(a.transport.stats().peers[0]?.queuedMessages, 3);
  await turn();
  assert.equal(b.received.length, 3);
  assert.equal(a.transport.stats().peers[0]?.droppedMessages, 2);
});

test("messages to unknown peers and to stopped nodes are counted, not delivered", async () => {
  const [a, b] = await cluster(new MemoryNetwork(), 2);
  assert.ok(a && b);
  a.transport.send([heartbeat(1, 9, 1)]);
  assert.equal(a.transport.stats().unroutableMessages, 1);
  a.transport.send([heartbeat(1, 2, 1)]);
  await b.transport.stop();
  await turn();
  assert.equal(b.received.length, 0);
  assert.equal(a.transport.stats().peers[0]?.droppedMessages, 1);
  assert.equal(b.transport.address(), null);
});

test("a restarted node gets a fresh transport once the old one is stopped or removed", async () => {
  const network = new MemoryNetwork();
  const [a, b] = await cluster(network, 2);
  assert.ok(a && b);
  assert.throws(() => network.createTransport(b.id), { code: "BAD_CONFIG" });
  await b.transport.stop();
  const second = network.createTransport(b.id);
  network.remove(b.id);
  const third = network.createTransport(b.id);
  const received: Message[] = [];
  await third.start((m) => received.push(m));
  a.transport.send([heartbeat(1, 2, 1)]);
  await turn();
  assert.equal(received.length, 1);
  assert.equal(second.isStopped, true, "remove stops the transport it unregisters");
});
