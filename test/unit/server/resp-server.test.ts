// Proves the RESP server over real sockets on 127.0.0.1 with the in-memory API: ioredis
// (RESP2, and RESP3 through its HELLO 3 handshake) runs the common commands, scanStream and
// a pipeline whose replies come back in order even when the API answers after varying
// delays; raw sockets get inline replies, -ERR Protocol error then a close for garbage, no
// reply for a truncated command; other connections keep being served; backpressure, QUIT,
// authentication and maxClients behave.

import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { silentLogger } from "../../../src/logger.js";
import type { KvApi } from "../../../src/server/api.js";
import { createRespServer, type RespServer } from "../../../src/server/resp/resp-server.js";
import { fixture } from "../transport/helpers.js";
import { FakeAdmin, FakeClock, FakeKv } from "./resp-fake-api.js";
import { seededRandom as prng } from "../../../src/random.js";

const seed = Number(process.env["SEED"] ?? 7);


/**
 * Each call answers after 0-20 turns of the event loop (seeded): if the server ran a
 * connection's commands concurrently, their effects and replies would come out of order.
 */
function delayed(kv: KvApi, random: () => number): KvApi {
  const wait = async (): Promise<void> => {
    const turns = Math.floor(random() * 20);
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const wrap = <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await wait();
      return f(...args);
    };
  return {
    put: wrap((r) => kv.put(r)),
    delete: wrap((k) => kv.delete(k)),
    txn: wrap((r) => kv.txn(r)),
    incrBy: wrap((k, d) => kv.incrBy(k, d)),
    expire: wrap((k, t) => kv.expire(k, t)),
    get: wrap((k, c) => kv.get(k, c)),
    range: wrap((r) => kv.range(r)),
  };
}

const servers: RespServer[] = [];
const clients: Redis[] = [];
let port = 0;

interface ServerOptions {
  readonly token?: string;
  readonly maxClients?: number;
  readonly tls?: { readonly cert: string; readonly key: string };
}

async function startServer(options: ServerOptions = {}): Promise<number> {
  const clock = new FakeClock();
  const server = createRespServer({
    kv: delayed(new FakeKv(clock), prng(seed)),
    admin: new FakeAdmin(),
    logger: silentLogger,
    serverInfo: () => ({ version: "test", startedAtMs: clock.now() }),
    now: clock.now,
    limits: { pendingCommandsMax: 16, lingerMs: 1000 },
    ...options,
  });
  servers.push(server);
  return (await server.listen("127.0.0.1", 0)).port;
}

function client(options: { protocol?: 2 | 3; password?: string } = {}, at = port): Redis {
  const redis = new Redis({
    host: "127.0.0.1",
    port: at,
    protocol: options.protocol ?? 2,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...(options.password === undefined ? {} : { password: options.password }),
  });
  clients.push(redis);
  return redis;
}

/** Writes `input` on a raw socket and collects everything until the server closes it. */
interface RawOptions {
  /** Send the end (FIN) right after the input. */
  readonly end?: boolean;
  /** The port (default: the shared server). */
  readonly at?: number;
}

function raw(input: string | Buffer, options: RawOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options.at ?? port, "127.0.0.1", () => {
      socket.write(input);
      if (options.end === true) socket.end();
    });
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

before(async () => {
  port = await startServer();
});

after(async () => {
  for (const redis of clients) redis.disconnect();
  await Promise.all(servers.map((server) => server.close()));
});

test("ioredis over RESP2 runs SET, GET, DEL, INCR, MGET and MSET", async () => {
  const redis = client();
  assert.equal(await redis.set("a", "1"), "OK");
  assert.equal(await redis.get("a"), "1");
  assert.equal(await redis.get("missing"), null);
  assert.equal(await redis.incr("n"), 1);
  assert.equal(await redis.incrby("n", 41), 42);
  assert.equal(await redis.set("a-text", "x"), "OK");
  await assert.rejects(redis.incr("a-text"), /not an integer/);
  assert.equal(await redis.mset("b", "2", "c", "3"), "OK");
  assert.deepEqual(await redis.mget("a", "b", "c", "missing"), ["1", "2", "3", null]);
  assert.equal(await redis.del("a", "b", "missing"), 2);
  assert.equal(await redis.exists("a", "c"), 1);
  assert.equal(await redis.set("ttl", "v", "EX", 100), "OK");
  assert.equal(await redis.ttl("ttl"), 100);
});

test("ioredis with its default RESP3 handshake (HELLO 3) works", async () => {
  const redis = client({ protocol: 3 });
  assert.equal(await redis.set("r3", "v"), "OK");
  assert.equal(await redis.get("r3"), "v");
  assert.equal(await redis.get("r3-missing"), null);
  const hello = await redis.call("HELLO", "3");
  assert.ok(Array.isArray(hello));
  assert.deepEqual(hello.slice(0, 4), ["server", "redis", "version", "7.2.0"]);
  assert.match(String(await redis.call("CLIENT", "INFO")), /resp=3 .*lib-name=ioredis/);
});

test("scanStream with MATCH and COUNT visits every matching key once", async () => {
  const redis = client();
  const keys = Array.from({ length: 45 }, (_, i) => `scan:${String(i).padStart(2, "0")}`);
  await redis.mset(...keys.flatMap((k) => [k, "x"]));
  await redis.set("scan-other", "x");
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const stream = redis.scanStream({ match: "scan:*", count: 7 });
    stream.on("data", (batch: string[]) => seen.push(...batch));
    stream.on("end", () => resolve());
    stream.on("error", reject);
  });
  assert.deepEqual(seen, keys);
  assert.deepEqual((await redis.keys("scan:1?")).sort(), keys.filter((k) => /^scan:1\d$/.test(k)));
});

test("a pipeline's replies come in request order while the API answers out of order", async () => {
  const redis = client();
  const pipeline = redis.pipeline();
  for (let i = 0; i < 300; i++) pipeline.set(`p${i % 10}`, String(i));
  for (let i = 0; i < 10; i++) pipeline.get(`p${i}`);
  for (let i = 0; i < 100; i++) pipeline.incr("pipe-counter");
  const results = await pipeline.exec();
  assert.ok(results !== null);
  results.slice(300, 310).forEach(([error, value], i) => {
    assert.equal(error, null);
    assert.equal(value, String(290 + i));
  });
  assert.deepEqual(results.slice(310).map(([, value]) => value), Array.from({ length: 100 },
    (_, i) => i + 1));
});

test("raw inline commands are answered, and a client's end closes after the replies", async () => {
  const input = "PING\r\nECHO hello\nSET inline \"a b\"\r\nGET inline\r\n";
  const reply = await raw(input, { end: true });
  assert.equal(reply, "+PONG\r\n$5\r\nhello\r\n+OK\r\n$3\r\na b\r\n");
});

test("many pipelined commands in one write pass the backpressure limit, in order", async () => {
  const input = Array.from({ length: 2000 }, () => "INCR raw-counter\r\n").join("");
  const reply = await raw(input, { end: true });
  const expected = Array.from({ length: 2000 }, (_, i) => `:${i + 1}\r\n`).join("");
  assert.equal(reply, expected);
});

test("garbage gets -ERR Protocol error and a close; other connections keep working", async () => {
  const redis = client();
  assert.equal(await redis.set("before", "1"), "OK");
  const cases: [string, string][] = [
    ["*2\r\n$3\r\nGET\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
    ["*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["PING\r\n*1\r\n:1\r\nPING\r\n", "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n"],
    ["GET \"x\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"],
  ];
  for (const [input, expected] of cases) assert.equal(await raw(input), expected, input);
  assert.equal(await raw("*1\r\n$3\r\nGE", { end: true }), "");
  assert.equal(await raw(Buffer.from([0x2a, 0x31, 0x0d, 0x0a, 0xff])),
    "-ERR Protocol error: expected '$', got '\\xff'\r\n");
  assert.equal(await redis.get("before"), "1");
});

test("QUIT answers OK and the server closes the connection", async () => {
  assert.equal(await raw("PING\r\nQUIT\r\nPING\r\n"), "+PONG\r\n+OK\r\n");
});

test("with a token, commands need AUTH first; ioredis with the password works", async () => {
  const at = await startServer({ token: "s3cret" });
  assert.equal(await raw("GET k\r\nAUTH nope\r\nAUTH s3cret\r\nPING\r\n", { end: true, at }),
    "-NOAUTH Authentication required.\r\n" +
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n");
  const redis = client({ password: "s3cret", protocol: 3 }, at);
  assert.equal(await redis.set("k", "v"), "OK");
  const resp2 = client({ password: "s3cret" }, at);
  assert.equal(await resp2.get("k"), "v");
});

test("connections beyond maxClients are refused with -ERR", async () => {
  const at = await startServer({ maxClients: 1 });
  const first = new net.Socket();
  await new Promise<void>((resolve) => first.connect(at, "127.0.0.1", resolve));
  try {
    assert.equal(await raw("PING\r\n", { at }), "-ERR max number of clients reached\r\n");
  } finally {
    first.destroy();
  }
});

test("over TLS, ioredis is served and a plaintext client does not disturb the server", async () => {
  const at = await startServer({ tls: { cert: fixture("node-1.crt"), key: fixture("node-1.key") } });
  assert.equal(await raw("PING\r\n", { end: true, at }).catch(() => ""), "");
  const redis = new Redis({
    host: "127.0.0.1",
    port: at,
    protocol: 2,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    tls: { ca: fixture("ca.crt") },
  });
  clients.push(redis);
  assert.equal(await redis.set("secure", "1"), "OK");
  assert.equal(await redis.get("secure"), "1");
});
