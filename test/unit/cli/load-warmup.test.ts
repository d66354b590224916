// Proves the load generator's warm-up: it is not counted, it runs until the operations it was
// asked for completed (a JIT-compiled server is slow for its first thousands of requests, and a
// 1-client case reaches that many far later than a 256-client one), and it stops at its limit.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { runLoad } from "../../../src/cli/load.js";

/** A stand-in for the HTTP API that counts the requests it answered. */
async function countingServer(): Promise<{ endpoint: string; count: () => number;
  close: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests += 1;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `127.0.0.1:${port}`,
    count: () => requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

test("the warm-up runs until its operations completed, and none of them is counted", async () => {
  const server = await countingServer();
  try {
    const result = await runLoad({ api: "http", endpoints: [server.endpoint], clients: 2,
      op: "put", valueBytes: 16, keys: 10, seconds: 0.05, warmupSeconds: 0.001,
      warmupOps: 400 });
    assert.ok(result.ops > 0, "the measured run did operations");
    assert.equal(result.errors, 0);
    assert.ok(server.count() >= 400 + result.ops,
      `${server.count()} requests, ${result.ops} counted: the warm-up did fewer than 400`);
  } finally {
    await server.close();
  }
});

test("a warm-up by operations stops at warmupSecondsMax", async () => {
  const server = await countingServer();
  try {
    const started = performance.now();
    const result = await runLoad({ api: "http", endpoints: [server.endpoint], clients: 1,
      op: "get", valueBytes: 16, keys: 10, seconds: 0.05, warmupOps: 1e12,
      warmupSecondsMax: 0.2 });
    const elapsed = (performance.now() - started) / 1000;
    assert.ok(result.ops > 0);
    assert.ok(elapsed < 5, `took ${elapsed} s: the warm-up ignored its limit`);
  } finally {
    await server.close();
  }
});
