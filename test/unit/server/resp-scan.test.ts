// Proves SCAN's cursor table: a full scan with small pages over 200-byte keys visits every
// key exactly once through cursors that are decimal integers below 2^53 (so they fit any
// client's uint64 or JavaScript number), a finished or continued cursor is spent, the least
// recently used cursors are evicted past the count and byte limits and then answer
// -ERR invalid cursor, a failed page can be retried, and MATCH may change between calls.
// Over real sockets, ioredis's scanStream and redis-cli --scan (when installed) list 1000
// long keys.

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { silentLogger } from "../../../src/logger.js";
import { UnavailableError } from "../../../src/server/api.js";
import { createRespServer, type RespServer } from "../../../src/server/resp/resp-server.js";
import { parseScanCursor, ScanCursorTable } from "../../../src/server/resp/scan-cursor.js";
import { FakeAdmin, FakeClock, FakeKv } from "./resp-fake-api.js";
import { harness } from "./resp-harness.js";

const invalidCursor = "-ERR invalid cursor\r\n";

/** Parses a RESP2 SCAN reply: [cursor, [keys...]]. */
function parseScan(reply: string): { cursor: string; keys: string[] } {
  const lines = reply.split("\r\n");
  const cursor = lines[2] ?? "";
  const count = Number((lines[3] ?? "*0").slice(1));
  const keys = Array.from({ length: count }, (_, i) => lines[5 + i * 2] ?? "");
  return { cursor, keys };
}

/** A key of exactly `bytes` UTF-8 bytes: the name, then a filler that varies with it. */
function longKey(name: string, bytes = 200): string {
  const fillers = ["x", "é", "𝄞", "-"];
  let key = `${name}:`;
  const filler = fillers[name.length % fillers.length] ?? "x";
  while (Buffer.byteLength(key + filler) <= bytes) key += filler;
  return key.padEnd(key.length + bytes - Buffer.byteLength(key), "x");
}

/** Keys of `count` long keys named `prefix` and a number. */
function longKeys(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => longKey(`${prefix}${"n".repeat(i % 4)}${i}`));
}

function assertSafeCursor(cursor: string): void {
  assert.match(cursor, /^[1-9][0-9]*$/);
  assert.ok(BigInt(cursor) < 2n ** 53n, `cursor ${cursor} >= 2^53`);
  assert.ok(Number.isSafeInteger(Number(cursor)), `cursor ${cursor} is not a safe integer`);
}

test("a full SCAN with COUNT 7 visits every 200-byte key exactly once", async () => {
  const h = harness();
  const keys = longKeys("long:", 100);
  for (const key of keys) assert.equal(Buffer.byteLength(key), 200, key);
  await h.call("MSET", ...keys.flatMap((k) => [k, "v"]));
  const seen: string[] = [];
  const cursors = new Set<string>();
  let cursor = "0";
  do {
    const page = parseScan(await h.call("SCAN", cursor, "COUNT", "7"));
    seen.push(...page.keys);
    cursor = page.cursor;
    if (cursor !== "0") {
      assertSafeCursor(cursor);
      assert.ok(!cursors.has(cursor), `cursor ${cursor} handed out twice`);
      cursors.add(cursor);
      assert.equal(h.scanCursors.size, 1, "a continued cursor is spent");
    }
  } while (cursor !== "0");
  assert.equal(cursors.size, Math.ceil(keys.length / 7) - 1);
  assert.equal(seen.length, keys.length);
  assert.deepEqual(new Set(seen), new Set(keys));
  assert.equal(h.scanCursors.size, 0, "a finished scan leaves no cursor");
});

test("cursors parse as decimal integers below 2^53, and 0 means the start", () => {
  const cases: [string, number | undefined][] = [
    ["0", 0],
    ["000", 0],
    ["0012", 12],
    ["9007199254740991", 2 ** 53 - 1],
    ["9007199254740992", undefined],
    ["18446744073709551615", undefined],
    ["123456789012345678901", undefined],
    ["-1", undefined],
    ["+1", undefined],
    [" 1", undefined],
    ["1.5", undefined],
    ["abc", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of cases) assert.equal(parseScanCursor(text), expected, text);
});

test("cursor ids count up from the first id and wrap to 1 below 2^53", () => {
  const table = new ScanCursorTable({ cursorsMax: 10, keyBytesMax: 1000 }, 2 ** 53 - 2);
  assert.deepEqual(["a", "b", "c"].map((key) => table.issue(key)), [2 ** 53 - 2, 2 ** 53 - 1, 1]);
  assert.equal(table.lookup(1), "c");
  assert.equal(table.lookup(2), undefined);
});

test("SCAN refuses invalid, unknown and spent cursors, and bad options", async () => {
  const h = harness();
  for (const cursor of ["-1", "abc", "1", "16", "", "1.5", "9007199254740992"]) {
    assert.equal(await h.call("SCAN", cursor), invalidCursor, cursor);
  }
  await h.call("MSET", "a", "1", "b", "2", "c", "3");
  const first = parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor;
  const second = parseScan(await h.call("SCAN", first, "COUNT", "1"));
  assert.deepEqual(second.keys, ["b"]);
  assert.equal(await h.call("SCAN", first, "COUNT", "1"), invalidCursor);
  assert.equal(await h.call("SCAN", "0", "COUNT", "0"), "-ERR syntax error\r\n");
  assert.equal(await h.call("SCAN", "0", "COUNT"), "-ERR syntax error\r\n");
  assert.equal(await h.call("SCAN", "0", "COUNT", "x"),
    "-ERR value is not an integer or out of range\r\n");
  assert.equal(await h.call("SCAN", "0", "BOGUS", "1"), "-ERR syntax error\r\n");
});

test("over scanCursorsMax, the least recently used cursor becomes invalid", async () => {
  const h = harness({ limits: { scanCursorsMax: 2 } });
  await h.call("MSET", ...["a", "b", "c", "d", "e"].flatMap((k) => [k, "v"]));
  const scanA = parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor;
  const scanB = parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor;
  // Continuing scan A replaces its cursor with a newer one: B is now the oldest.
  const scanA2 = parseScan(await h.call("SCAN", scanA, "COUNT", "1")).cursor;
  const scanC = parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor;
  assert.equal(h.scanCursors.size, 2);
  assert.equal(await h.call("SCAN", scanB, "COUNT", "1"), invalidCursor);
  assert.deepEqual(parseScan(await h.call("SCAN", scanA2, "COUNT", "1")).keys, ["c"]);
  assert.deepEqual(parseScan(await h.call("SCAN", scanC, "COUNT", "1")).keys, ["b"]);
});

test("over scanCursorKeyBytesMax, the least recently used cursor becomes invalid", async () => {
  const h = harness({ limits: { scanCursorKeyBytesMax: 450 } });
  const keys = longKeys("k", 3);
  await h.call("MSET", ...keys.flatMap((k) => [k, "v"]));
  const cursors: string[] = [];
  for (let i = 0; i < 3; i++) {
    cursors.push(parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor);
  }
  assert.equal(h.scanCursors.size, 2, "two 200-byte keys fit in 450 bytes, three do not");
  assert.equal(await h.call("SCAN", cursors[0] ?? "", "COUNT", "1"), invalidCursor);
  assert.equal(parseScan(await h.call("SCAN", cursors[1] ?? "", "COUNT", "1")).keys.length, 1);
});

test("a SCAN that fails with -TRYAGAIN keeps its cursor for the retry", async () => {
  const h = harness();
  await h.call("MSET", "a", "1", "b", "2", "c", "3");
  const cursor = parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor;
  h.kv.failNext = new UnavailableError("no leader");
  assert.equal(await h.call("SCAN", cursor, "COUNT", "1"), "-TRYAGAIN no leader\r\n");
  assert.deepEqual(parseScan(await h.call("SCAN", cursor, "COUNT", "1")).keys, ["b"]);
});

test("SCAN MATCH ranges over the pattern's prefix and filters; TYPE hash is empty", async () => {
  const h = harness();
  await h.call("MSET", "user:1", "a", "user:22", "b", "other", "c");
  const page = parseScan(await h.call("SCAN", "0", "MATCH", "user:?", "COUNT", "100"));
  assert.deepEqual(page, { cursor: "0", keys: ["user:1"] });
  assert.ok(h.kv.calls.includes("range linearizable user:||100"));
  assert.deepEqual(parseScan(await h.call("SCAN", "0", "TYPE", "string")).keys.length, 3);
  assert.deepEqual(parseScan(await h.call("SCAN", "0", "TYPE", "hash")), { cursor: "0", keys: [] });
  assert.equal(await h.call("SCAN", "0", "TYPE", "blob"), "-ERR unknown type name 'blob'\r\n");
  const cursor = parseScan(await h.call("SCAN", "0", "COUNT", "1")).cursor;
  const typeHash = parseScan(await h.call("SCAN", cursor, "TYPE", "hash"));
  assert.deepEqual(typeHash, { cursor: "0", keys: [] });
  assert.equal(h.scanCursors.size, 0, "a scan answered 0 leaves no cursor");
});

test("with MATCH changed between calls, SCAN goes on after the last key returned", async () => {
  const h = harness();
  const keys = ["a:1", "a:2", "a:3", "a:4", "b:1", "b:2", "b:3"];
  await h.call("MSET", ...keys.flatMap((k) => [k, "v"]));
  const scan = async (cursor: string, match: string, count: number) =>
    parseScan(await h.call("SCAN", cursor, "MATCH", match, "COUNT", String(count)));
  const inA = await scan("0", "a:*", 2);
  assert.deepEqual(inA.keys, ["a:1", "a:2"]);
  assert.deepEqual(await scan(inA.cursor, "*", 100),
    { cursor: "0", keys: ["a:3", "a:4", "b:1", "b:2", "b:3"] });
  const inA2 = await scan("0", "a:*", 2);
  assert.deepEqual(await scan(inA2.cursor, "b:*", 100),
    { cursor: "0", keys: ["b:1", "b:2", "b:3"] });
  const inB = await scan("0", "b:*", 1);
  assert.deepEqual(inB.keys, ["b:1"]);
  // Every a: key comes before b:1 in key order, so a scan past b:1 finds none of them.
  assert.deepEqual(await scan(inB.cursor, "a:*", 100), { cursor: "0", keys: [] });
});

// Over real sockets.

const servers: RespServer[] = [];
const clients: Redis[] = [];

after(async () => {
  for (const redis of clients) redis.disconnect();
  await Promise.all(servers.map((server) => server.close()));
});

/** A server over the fake API holding 1000 long "long:" keys and 50 others. */
async function serverWithLongKeys(): Promise<{ port: number; keys: string[] }> {
  const clock = new FakeClock();
  const kv = new FakeKv(clock);
  const keys = longKeys("long:", 1000);
  for (const key of [...keys, ...longKeys("other:", 50)]) await kv.put({ key, value: "v" });
  const server = createRespServer({ kv, admin: new FakeAdmin(), logger: silentLogger });
  servers.push(server);
  return { port: (await server.listen("127.0.0.1", 0)).port, keys };
}

test("ioredis scanStream visits 1000 long keys exactly once", async () => {
  const { port, keys } = await serverWithLongKeys();
  const redis = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0 });
  clients.push(redis);
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const stream = redis.scanStream({ match: "long:*", count: 7 });
    stream.on("data", (batch: string[]) => seen.push(...batch));
    stream.on("end", () => resolve());
    stream.on("error", reject);
  });
  assert.equal(seen.length, keys.length);
  assert.deepEqual(new Set(seen), new Set(keys));
});

const redisCli = spawnSync("redis-cli", ["--version"]).error === undefined;

test("redis-cli --scan --pattern lists 1000 long keys exactly once", {
  skip: redisCli ? false : "redis-cli is not installed",
}, async () => {
  const { port, keys } = await serverWithLongKeys();
  const { stdout } = await promisify(execFile)(
    "redis-cli",
    ["-h", "127.0.0.1", "-p", String(port), "--scan", "--pattern", "long:*"],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const seen = stdout.split("\n").filter((line) => line !== "");
  assert.equal(seen.length, keys.length, stdout.slice(0, 500));
  assert.deepEqual(new Set(seen), new Set(keys));
});
