// Proves snapshot streams over TCP on 127.0.0.1: a multi-MB snapshot in many chunks of uneven
// sizes (some above the data frame size) arrives byte for byte, also over mutual TLS; a slow
// handler holds the sender back so neither side buffers more than a few MB while 200 MB stream;
// Raft messages keep flowing on their own connection meanwhile; a refusing handler, a source
// that throws, a source that stalls past the idle timeout, an unknown or down peer and a node
// without handler each fail with SnapshotTransferError, and nothing is left open.

import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../../../src/core/types.js";
import { SnapshotTransferError } from "../../../src/transport/errors.js";
import { heartbeat, tlsFor, waitFor } from "./helpers.js";
import {
  mebibyte,
  offer,
  outcome,
  recorder,
  sizes,
  sleep,
  source,
} from "./snapshot-helpers.js";
import {
  type NodeOptions,
  type TestNode,
  startCluster,
  startNode,
  stopAll,
} from "./tcp-cluster.js";

const isTransferError = (error: unknown): boolean => error instanceof SnapshotTransferError;

async function pairWith(
  options: NodeOptions,
  rec: ReturnType<typeof recorder>,
): Promise<[TestNode, TestNode]> {
  const [a, b] = await startCluster(2, options, (id) => (id === 2 ? rec.handler : async () => {}));
  assert.ok(a && b);
  return [a, b];
}

test("a multi-MB snapshot in uneven chunks arrives byte for byte", async () => {
  const rec = recorder({ keep: true });
  const nodes = await pairWith({}, rec);
  try {
    const [a] = nodes;
    // 1000 chunks from 1 byte to ~1.5 MiB: some are split into 1 MiB data frames.
    const chunkSizes = Array.from({ length: 1000 }, (_, i) => {
      return i % 97 === 0 ? 1_500_000 : 1 + i * 7;
    });
    const expected: Buffer[] = [];
    const data = source(chunkSizes);
    async function* tee(): AsyncGenerator<Uint8Array> {
      for await (const chunk of data.chunks) {
        expected.push(Buffer.from(chunk));
        yield chunk;
      }
    }
    await a.transport.sendSnapshot(offer(1, 2), tee());
    const record = rec.received[0];
    assert.ok(record !== undefined && record.end === "ok");
    assert.deepStrictEqual(record.offer, offer(1, 2));
    assert.ok(data.progress.bytes > 8 * mebibyte, `streamed ${data.progress.bytes} bytes`);
    assert.equal(record.bytes, data.progress.bytes);
    assert.equal(record.checksum, data.progress.checksum);
    assert.ok(Buffer.concat(record.data).equals(Buffer.concat(expected)), "byte-exact");
  } finally {
    await stopAll(nodes);
  }
});

test("a snapshot streams over mutual TLS", async () => {
  const rec = recorder();
  const a = await startNode(1, { tls: tlsFor("node-1") });
  const b = await startNode(2, { tls: tlsFor("node-2") }, rec.handler);
  try {
    a.transport.setPeer(b.id, b.address);
    b.transport.setPeer(a.id, a.address);
    const data = source(sizes(20, 100_000));
    await a.transport.sendSnapshot(offer(1, 2), data.chunks);
    assert.equal(rec.received[0]?.checksum, data.progress.checksum);
  } finally {
    await stopAll([a, b]);
  }
});

test("a slow handler holds the sender back: 200 MB stream in bounded memory", async () => {
  let consumed = 0;
  let aheadMax = 0;
  const total = 200;
  const data = source(sizes(total, mebibyte), { reuse: true });
  const rec = recorder({ delayMs: 2 });
  const handler = rec.handler;
  const nodes = await pairWith({}, {
    ...rec,
    handler: async (incoming) => {
      const counting = {
        ...incoming,
        chunks: (async function* () {
          for await (const chunk of incoming.chunks) {
            consumed += chunk.byteLength;
            aheadMax = Math.max(aheadMax, data.progress.bytes - consumed);
            yield chunk;
          }
        })(),
      };
      await handler(counting);
    },
  });
  try {
    const before = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      const growth = now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers;
      peak = Math.max(peak, growth);
    }, 5);
    try {
      await nodes[0].transport.sendSnapshot(offer(1, 2), data.chunks);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(consumed, total * mebibyte);
    assert.equal(rec.received[0]?.checksum, data.progress.checksum);
    // Socket buffers on loopback hold a few MB; a sender not held back would be ~200 MB ahead.
    assert.ok(aheadMax <= 16 * mebibyte, `the sender ran ${aheadMax} bytes ahead`);
    assert.ok(peak <= 64 * mebibyte, `heap + arrayBuffers grew by ${peak} bytes`);
    const mb = (n: number): string => (n / mebibyte).toFixed(1);
    console.log(`# 200 MiB slow-consumer stream: ahead max ${mb(aheadMax)} MiB, ` +
      `heap+arrayBuffers peak growth ${mb(peak)} MiB`);
  } finally {
    await stopAll(nodes);
  }
});

test("heartbeats keep flowing on the message connection while a snapshot streams", async () => {
  const rec = recorder({ delayMs: 1 });
  const nodes = await pairWith({}, rec);
  try {
    const [a, b] = nodes;
    const data = source(sizes(64, mebibyte));
    let finished = false;
    const sending = outcome(a.transport.sendSnapshot(offer(1, 2), data.chunks).finally(() => {
      finished = true;
    }));
    await waitFor(() => data.progress.bytes >= 8 * mebibyte, "the stream to be under way");
    a.transport.send([heartbeat(1, 2, 42)]);
    await waitFor(() => b.received.length > 0 || finished, "the heartbeat or the stream's end");
    assert.equal(finished, false, "the heartbeat arrived before the stream ended");
    assert.ok(data.progress.bytes < 64 * mebibyte);
    assert.equal(await sending, "resolved");
  } finally {
    await stopAll(nodes);
  }
});

test("a handler that throws makes sendSnapshot reject with its reason", async () => {
  const rec = recorder({ refuse: "disk full" });
  const nodes = await pairWith({}, rec);
  try {
    const sending = nodes[0].transport.sendSnapshot(offer(1, 2), source(sizes(50, 64_000)).chunks);
    await assert.rejects(sending, (error) => {
      assert.ok(isTransferError(error));
      assert.match(String(error), /disk full/);
      return true;
    });
  } finally {
    await stopAll(nodes);
  }
});

test("a source that throws midway breaks the receiver's iteration", async () => {
  const rec = recorder();
  const nodes = await pairWith({}, rec);
  try {
    const data = source(sizes(20, 100_000), { failAt: 10 });
    await assert.rejects(nodes[0].transport.sendSnapshot(offer(1, 2), data.chunks), (error) => {
      assert.ok(isTransferError(error));
      assert.match(String(error), /source failed before chunk 10/);
      return true;
    });
    await waitFor(() => rec.received[0]?.end !== undefined, "the receiver's iteration to end");
    assert.ok(isTransferError(rec.received[0]?.end));
  } finally {
    await stopAll(nodes);
  }
});

test("a stream without progress fails after the idle timeout on both ends", async () => {
  const rec = recorder();
  const nodes = await pairWith({ snapshotIdleTimeoutMs: 150 }, rec);
  try {
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(1000);
      await sleep(600);
      yield Buffer.alloc(1000);
    }
    const sending = outcome(nodes[0].transport.sendSnapshot(offer(1, 2), stalls()));
    await waitFor(() => rec.received[0]?.end !== undefined, "the receiver to give up", 2000);
    assert.match(String(rec.received[0]?.end), /no snapshot data for 150 ms/);
    assert.ok(isTransferError(await sending));
    assert.equal(nodes[1].logger.warnings("inbound connection rejected").length, 1);
  } finally {
    await stopAll(nodes);
  }
});

test("an unknown or down peer, or one without handler, is refused promptly", async () => {
  const rec = recorder();
  const a = await startNode(1);
  const b = await startNode(2);
  try {
    a.transport.setPeer(b.id, b.address);
    b.transport.setPeer(a.id, a.address);
    const started = Date.now();
    await assert.rejects(a.transport.sendSnapshot(offer(1, 3), source([1]).chunks), /unknown peer/);
    await assert.rejects(a.transport.sendSnapshot(offer(1, 2), source([1]).chunks),
      /does not accept snapshots/);
    await b.transport.stop();
    await assert.rejects(a.transport.sendSnapshot(offer(1, 2), source([1]).chunks), (error) => {
      assert.ok(isTransferError(error));
      return true;
    });
    assert.ok(Date.now() - started < 1000, "refusals take no timeout");
    assert.equal(rec.received.length, 0);
  } finally {
    await stopAll([a, b]);
  }
});

test("stopping the sender's transport fails its stream", async () => {
  const rec = recorder({ delayMs: 1 });
  const nodes = await pairWith({}, rec);
  try {
    const data = source(sizes(100, 100_000));
    const sending = outcome(nodes[0].transport.sendSnapshot(offer(1, 2), data.chunks));
    await waitFor(() => data.progress.bytes > 0, "the stream to start");
    await nodes[0].transport.stop();
    assert.ok(isTransferError(await sending));
    await waitFor(() => rec.received[0]?.end !== undefined, "the receiver's iteration to end");
    assert.ok(isTransferError(rec.received[0]?.end));
  } finally {
    await stopAll(nodes);
  }
});

test("a snapshot sent to a node id that is not the receiver's is a bug", async () => {
  const a = await startNode(1);
  try {
    await assert.rejects(
      a.transport.sendSnapshot({ ...offer(2, 3), from: nodeId(2) }, source([1]).chunks),
      { name: "AssertionError" },
    );
  } finally {
    await stopAll([a]);
  }
});

test("a newer stream from a sender replaces its older one; past the limit, refused", async () => {
  const rec = recorder({ delayMs: 2 });
  const nodes = await startCluster(3, { snapshotsInboundMax: 1 },
    (id) => (id === 3 ? rec.handler : async () => {}));
  try {
    const [a, b] = nodes;
    assert.ok(a && b);
    const big = source(sizes(200, 100_000));
    const first = outcome(a.transport.sendSnapshot(offer(1, 3), big.chunks));
    await waitFor(() => rec.received.length === 1, "the first stream to start");
    await assert.rejects(b.transport.sendSnapshot(offer(2, 3), source([10]).chunks),
      /already receiving 1 snapshots/);
    const data = source(sizes(5, 1000));
    await a.transport.sendSnapshot(offer(1, 3), data.chunks);
    assert.ok(isTransferError(await first), "the replaced stream's sender fails");
    assert.ok(isTransferError(rec.received[0]?.end), "the replaced stream broke");
    assert.equal(rec.received[1]?.checksum, data.progress.checksum);
  } finally {
    await stopAll(nodes);
  }
});
