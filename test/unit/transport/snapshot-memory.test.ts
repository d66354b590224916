// Proves snapshot streams on the in-memory network behave as the Transport port promises: the
// data arrives in order and intact and sendSnapshot resolves once the handler accepted; the
// sender never runs more than a few chunks ahead of a slow handler; a refusing handler, a cut
// link, a stopped receiver and a failing source each make both ends fail with
// SnapshotTransferError; and a newer stream from the same sender replaces the older one.

import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../../../src/core/types.js";
import { SnapshotTransferError } from "../../../src/transport/errors.js";
import { MemoryNetwork, type MemoryTransport } from "../../../src/transport/memory-transport.js";
import type { SnapshotHandler } from "../../../src/transport/transport.js";
import { offer, outcome, recorder, sizes, sleep, source } from "./snapshot-helpers.js";

async function pair(
  network: MemoryNetwork,
  onSnapshot?: SnapshotHandler,
): Promise<[MemoryTransport, MemoryTransport]> {
  const a = network.createTransport(nodeId(1));
  const b = network.createTransport(nodeId(2));
  await a.start(() => {});
  await b.start(() => {}, onSnapshot);
  a.setPeer(nodeId(2), "memory:2");
  b.setPeer(nodeId(1), "memory:1");
  return [a, b];
}

const isTransferError = (error: unknown): boolean => error instanceof SnapshotTransferError;

test("a snapshot streams in order and intact; sendSnapshot resolves once accepted", async () => {
  const { handler, received } = recorder({ keep: true });
  const [a] = await pair(new MemoryNetwork(), handler);
  const data = source([5, 0, 1000, 3, 70_000], { reuse: true });
  await a.sendSnapshot(offer(1, 2), data.chunks);
  assert.equal(received.length, 1);
  const record = received[0];
  assert.ok(record !== undefined);
  assert.deepStrictEqual(record.offer, offer(1, 2));
  assert.equal(record.end, "ok");
  assert.equal(record.bytes, data.progress.bytes);
  assert.equal(record.checksum, data.progress.checksum, "a reused source buffer was copied");
  assert.equal(record.chunks, 4, "empty chunks are skipped");
});

test("the sender stays within a few chunks of a slow handler", async () => {
  let consumed = 0;
  let aheadMax = 0;
  const data = source(sizes(40, 10));
  const handler: SnapshotHandler = async (incoming) => {
    for await (const chunk of incoming.chunks) {
      consumed += chunk.byteLength;
      aheadMax = Math.max(aheadMax, data.progress.bytes - consumed);
      await sleep(1);
    }
  };
  const [a] = await pair(new MemoryNetwork(), handler);
  await a.sendSnapshot(offer(1, 2), data.chunks);
  assert.equal(consumed, 400);
  assert.ok(aheadMax <= 6 * 10, `the sender ran ${aheadMax} bytes ahead`);
});

test("a handler that throws makes sendSnapshot reject with its reason", async () => {
  const { handler } = recorder({ refuse: "disk full" });
  const [a] = await pair(new MemoryNetwork(), handler);
  await assert.rejects(a.sendSnapshot(offer(1, 2), source(sizes(20, 100)).chunks), (error) => {
    assert.ok(isTransferError(error));
    assert.match(String(error), /disk full/);
    return true;
  });
});

test("a source that throws midway breaks the receiver's iteration", async () => {
  const { handler, received } = recorder();
  const [a] = await pair(new MemoryNetwork(), handler);
  const data = source(sizes(10, 100), { failAt: 5 });
  await assert.rejects(a.sendSnapshot(offer(1, 2), data.chunks), isTransferError);
  await sleep(5);
  assert.ok(isTransferError(received[0]?.end), "the handler's iteration threw");
});

test("a link cut during the stream fails both ends", async () => {
  const network = new MemoryNetwork();
  const { handler, received } = recorder({ delayMs: 1 });
  const [a] = await pair(network, handler);
  const sending = outcome(a.sendSnapshot(offer(1, 2), source(sizes(100, 10)).chunks));
  await sleep(10);
  network.cut(nodeId(1), nodeId(2));
  assert.match(String(await sending), /unreachable/);
  await sleep(5);
  assert.ok(isTransferError(received[0]?.end));
});

test("a stopped receiver, an unknown peer or a node without handler refuse at once", async () => {
  const network = new MemoryNetwork();
  const [a, b] = await pair(network);
  await assert.rejects(a.sendSnapshot(offer(1, 2), source([1]).chunks), /does not accept/);
  await assert.rejects(a.sendSnapshot(offer(1, 3), source([1]).chunks), /unknown peer 3/);
  await b.stop();
  await assert.rejects(a.sendSnapshot(offer(1, 2), source([1]).chunks), /unreachable/);
});

test("a receiver stopping mid-stream fails both ends", async () => {
  const { handler, received } = recorder({ delayMs: 1 });
  const [a, b] = await pair(new MemoryNetwork(), handler);
  const sending = outcome(a.sendSnapshot(offer(1, 2), source(sizes(100, 10)).chunks));
  await sleep(10);
  await b.stop();
  assert.ok(isTransferError(await sending));
  await sleep(5);
  assert.ok(isTransferError(received[0]?.end));
});

test("a newer stream from the same sender replaces the older one", async () => {
  const { handler, received } = recorder({ delayMs: 1 });
  const [a] = await pair(new MemoryNetwork(), handler);
  const first = outcome(a.sendSnapshot(offer(1, 2), source(sizes(50, 10)).chunks));
  await sleep(10);
  const second = a.sendSnapshot(offer(1, 2), source(sizes(5, 10)).chunks);
  assert.match(String(await first), /replaced/);
  await second;
  assert.equal(received.length, 2);
  assert.equal(received[1]?.end, "ok");
});
