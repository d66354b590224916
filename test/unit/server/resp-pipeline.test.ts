// Proves how a connection runs a pipeline: consecutive reads run concurrently (200 GETs
// against an API that takes 5 ms a call have up to concurrentReadsMax calls in flight, as
// counted by the fake, not timed), while a write, or a command that changes the
// connection, runs alone: after the reads before it and before those after it, so a GET
// after a SET sees the SET. Replies come in request order even when the API answers out of
// order (seeded delays; SEED=n replays), and pending reads are answered before a protocol
// error or QUIT closes the connection.

import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { silentLogger } from "../../../src/logger.js";
import type { KvApi } from "../../../src/server/api.js";
import { createRespServer, type RespServer } from "../../../src/server/resp/resp-server.js";
import { FakeAdmin, FakeClock, FakeKv } from "./resp-fake-api.js";
import { seededRandom as prng } from "../../../src/random.js";

const seed = Number(process.env["SEED"] ?? 11);


/**
 * Wraps a KvApi: each call waits `delayMs()` before it reaches the store. Counts the calls in
 * flight (most at once in `maxInFlight`) and records a violation whenever a write starts
 * while any call runs, or a read starts while a write runs.
 */
class InFlightKv implements KvApi {
  inFlight = 0;
  writesInFlight = 0;
  maxInFlight = 0;
  readonly violations: string[] = [];

  constructor(
    private readonly kv: KvApi,
    private readonly delayMs: () => number,
  ) {}

  private async track<R>(name: string, write: boolean, call: () => Promise<R>): Promise<R> {
    if (write && this.inFlight > 0) this.violations.push(`${name} with ${this.inFlight} running`);
    if (!write && this.writesInFlight > 0) this.violations.push(`${name} during a write`);
    this.inFlight++;
    if (write) this.writesInFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(this.delayMs());
      return await call();
    } finally {
      this.inFlight--;
      if (write) this.writesInFlight--;
    }
  }

  put: KvApi["put"] = (r) => this.track("put", true, () => this.kv.put(r));
  delete: KvApi["delete"] = (k) => this.track("delete", true, () => this.kv.delete(k));
  txn: KvApi["txn"] = (r) => this.track("txn", true, () => this.kv.txn(r));
  incrBy: KvApi["incrBy"] = (k, d) => this.track("incrBy", true, () => this.kv.incrBy(k, d));
  expire: KvApi["expire"] = (k, t) => this.track("expire", true, () => this.kv.expire(k, t));
  get: KvApi["get"] = (k, c) => this.track("get", false, () => this.kv.get(k, c));
  range: KvApi["range"] = (r) => this.track("range", false, () => this.kv.range(r));
}

const servers: RespServer[] = [];
const clients: Redis[] = [];

after(async () => {
  for (const redis of clients) redis.disconnect();
  await Promise.all(servers.map((server) => server.close()));
});

interface Setup {
  readonly store: FakeKv;
  readonly kv: InFlightKv;
  readonly port: number;
}

async function setup(delayMs: () => number, concurrentReadsMax = 50): Promise<Setup> {
  const store = new FakeKv(new FakeClock());
  const kv = new InFlightKv(store, delayMs);
  const server = createRespServer({
    kv,
    admin: new FakeAdmin(),
    logger: silentLogger,
    limits: { concurrentReadsMax },
  });
  servers.push(server);
  return { store, kv, port: (await server.listen("127.0.0.1", 0)).port };
}

function client(port: number): Redis {
  const redis = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0 });
  clients.push(redis);
  return redis;
}

/** Writes `input` on a raw socket and collects everything until the server closes it. */
function raw(port: number, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(input));
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

test("200 pipelined GETs run concurrently, concurrentReadsMax at a time, in order", async () => {
  const { store, kv, port } = await setup(() => 5, 50);
  for (let i = 0; i < 200; i++) await store.put({ key: `k${i}`, value: `v${i}` });
  // One write: the server parses all 200 at once, so how many overlap depends on no timing.
  const input = Array.from({ length: 200 }, (_, i) => `GET k${i}\r\n`).join("");
  const replies = Array.from({ length: 200 }, (_, i) => `$${`v${i}`.length}\r\nv${i}\r\n`);
  assert.equal(await raw(port, `${input}QUIT\r\n`), `${replies.join("")}+OK\r\n`);
  // One by one, the 200 calls would take 200 x 5 ms; 50 at a time they take 4 x 5 ms.
  assert.equal(kv.maxInFlight, 50);
  assert.equal(store.calls.filter((call) => call.startsWith("get")).length, 200);
  assert.deepEqual(kv.violations, []);
});

test("a GET after a SET in a pipeline sees the SET; the SET waits for earlier reads", async () => {
  const { store, kv, port } = await setup(() => 5);
  await store.put({ key: "x", value: "old" });
  const pipeline = client(port).pipeline();
  for (let i = 0; i < 10; i++) pipeline.get("x");
  pipeline.set("x", "new");
  for (let i = 0; i < 10; i++) pipeline.get("x");
  pipeline.incr("n");
  pipeline.mget("x", "n");
  pipeline.exists("x", "n", "missing");
  const results = await pipeline.exec();
  assert.ok(results !== null);
  const values = results.map(([error, value]) => {
    assert.equal(error, null);
    return value;
  });
  assert.deepEqual(values, [
    ...Array.from({ length: 10 }, () => "old"),
    "OK",
    ...Array.from({ length: 10 }, () => "new"),
    1,
    ["new", "1"],
    2,
  ]);
  assert.equal(kv.maxInFlight, 10);
  assert.deepEqual(kv.violations, []);
});

test("a mixed pipeline replies as if run one by one with the API out of order", async () => {
  const random = prng(seed);
  const { kv, port } = await setup(() => Math.floor(random() * 6), 16);
  const pipeline = client(port).pipeline();
  const model = new Map<string, string>();
  const expected: unknown[] = [];
  for (let i = 0; i < 400; i++) {
    const key = `m${Math.floor(random() * 8)}`;
    const roll = random();
    if (roll < 0.15) {
      pipeline.set(key, String(i));
      model.set(key, String(i));
      expected.push("OK");
    } else if (roll < 0.2) {
      pipeline.del(key);
      expected.push(model.delete(key) ? 1 : 0);
    } else if (roll < 0.6) {
      pipeline.get(key);
      expected.push(model.get(key) ?? null);
    } else if (roll < 0.8) {
      pipeline.exists(key);
      expected.push(model.has(key) ? 1 : 0);
    } else {
      pipeline.strlen(key);
      expected.push(model.get(key)?.length ?? 0);
    }
  }
  const results = await pipeline.exec();
  assert.ok(results !== null);
  assert.deepEqual(results.map(([, value]) => value), expected, `seed ${seed}`);
  assert.ok(kv.maxInFlight > 1, `seed ${seed}: reads never overlapped`);
  assert.ok(kv.maxInFlight <= 16, `seed ${seed}: ${kv.maxInFlight} calls in flight`);
  assert.deepEqual(kv.violations, [], `seed ${seed}`);
});

test("a consistency change between reads applies to the reads after it only", async () => {
  const { store, port } = await setup(() => 2);
  const pipeline = client(port).pipeline();
  pipeline.get("a");
  pipeline.get("b");
  pipeline.call("RAFT.CONSISTENCY", "stale");
  pipeline.get("c");
  await pipeline.exec();
  assert.deepEqual(store.calls, ["get linearizable a", "get linearizable b", "get stale c"]);
});

test("pending reads are answered before a protocol error or QUIT closes", async () => {
  const random = prng(seed);
  const { port } = await setup(() => Math.floor(random() * 5));
  const reads = "GET a\r\nEXISTS a\r\nTTL a\r\n";
  const replies = "$-1\r\n:0\r\n:-2\r\n";
  assert.equal(await raw(port, `${reads}*1\r\n:1\r\nGET a\r\n`),
    `${replies}-ERR Protocol error: expected '$', got ':'\r\n`);
  assert.equal(await raw(port, `${reads}QUIT\r\nGET a\r\n`), `${replies}+OK\r\n`);
});
