// Proves the data commands against an in-memory KvApi on a fake clock: GET/SET and every SET
// option, the integer commands and their errors (checked before the API is called), the
// multi-key commands as single transactions, TTL arithmetic as Redis rounds it, EXPIRE's
// delete on a past time, KEYS ranging over the literal prefix, and strict UTF-8 and
// non-empty keys. SCAN is in resp-scan.test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { harness } from "./resp-harness.js";

const OK = "+OK\r\n";
const NIL = "$-1\r\n";
const notInteger = "-ERR value is not an integer or out of range\r\n";

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

test("GET answers what SET stored, or a null bulk; reads are linearizable", async () => {
  const h = harness();
  assert.equal(await h.call("SET", "k", "héllo"), OK);
  assert.equal(await h.call("get", "k"), bulk("héllo"));
  assert.equal(await h.call("GET", "missing"), NIL);
  assert.ok(h.kv.calls.includes("get linearizable k"));
});

test("SET NX and XX write only when the condition holds; GET answers the old value", async () => {
  const h = harness();
  assert.equal(await h.call("SET", "k", "1", "NX"), OK);
  assert.equal(await h.call("SET", "k", "2", "NX"), NIL);
  assert.equal(await h.call("SET", "missing", "1", "XX"), NIL);
  assert.equal(await h.call("SET", "k", "3", "XX", "GET"), bulk("1"));
  assert.equal(await h.call("SET", "k", "4", "NX", "GET"), bulk("3"));
  assert.equal(await h.call("SET", "new", "1", "GET"), NIL);
  assert.equal(await h.call("GET", "k"), bulk("3"));
});

test("SET EX, PX, EXAT, PXAT and KEEPTTL set the expiry Redis would", async () => {
  const h = harness();
  await h.call("SET", "ex", "v", "EX", "100");
  assert.equal(await h.call("PTTL", "ex"), ":100000\r\n");
  await h.call("SET", "px", "v", "px", "1500");
  assert.equal(await h.call("PTTL", "px"), ":1500\r\n");
  const at = Math.floor(h.clock.now() / 1000) + 50;
  await h.call("SET", "exat", "v", "EXAT", String(at));
  assert.equal(await h.call("PTTL", "exat"), `:${at * 1000 - h.clock.now()}\r\n`);
  await h.call("SET", "pxat", "v", "PXAT", String(h.clock.now() + 777));
  assert.equal(await h.call("PTTL", "pxat"), ":777\r\n");
  await h.call("SET", "ex", "w", "KEEPTTL");
  assert.equal(await h.call("PTTL", "ex"), ":100000\r\n");
  await h.call("SET", "ex", "x");
  assert.equal(await h.call("PTTL", "ex"), ":-1\r\n");
  h.clock.advance(1500);
  assert.equal(await h.call("GET", "px"), NIL);
});

test("SET refuses bad expire times and option combinations", async () => {
  const h = harness();
  const invalid = "-ERR invalid expire time in 'set' command\r\n";
  assert.equal(await h.call("SET", "k", "v", "EX", "0"), invalid);
  assert.equal(await h.call("SET", "k", "v", "PX", "-5"), invalid);
  assert.equal(await h.call("SET", "k", "v", "EX", "9223372036854775807"), invalid);
  assert.equal(await h.call("SET", "k", "v", "EX", "ten"), notInteger);
  for (const options of [["EX"], ["EX", "1", "PX", "1"], ["NX", "XX"], ["EX", "1", "KEEPTTL"],
    ["GET", "GET"], ["BOGUS"]]) {
    assert.equal(await h.call("SET", "k", "v", ...options), "-ERR syntax error\r\n", `${options}`);
  }
  assert.deepEqual(h.kv.calls, []);
});

test("SET EXAT or PXAT in the past deletes the key, respecting NX and XX", async () => {
  const h = harness();
  const past = String(h.clock.now() - 1);
  await h.call("SET", "k", "1");
  assert.equal(await h.call("SET", "k", "2", "PXAT", past, "NX"), NIL);
  assert.equal(await h.call("GET", "k"), bulk("1"));
  assert.equal(await h.call("SET", "missing", "2", "PXAT", past, "XX"), NIL);
  assert.equal(await h.call("SET", "k", "2", "PXAT", past, "XX", "GET"), bulk("1"));
  assert.equal(await h.call("EXISTS", "k"), ":0\r\n");
  assert.equal(await h.call("SET", "fresh", "2", "EXAT", "1", "NX"), OK);
  assert.equal(await h.call("EXISTS", "fresh"), ":0\r\n");
});

test("SETNX, SETEX, PSETEX, GETSET and STRLEN", async () => {
  const h = harness();
  assert.equal(await h.call("SETNX", "k", "v"), ":1\r\n");
  assert.equal(await h.call("SETNX", "k", "w"), ":0\r\n");
  assert.equal(await h.call("SETEX", "e", "10", "v"), OK);
  assert.equal(await h.call("TTL", "e"), ":10\r\n");
  assert.equal(await h.call("PSETEX", "e", "0", "v"),
    "-ERR invalid expire time in 'psetex' command\r\n");
  assert.equal(await h.call("GETSET", "k", "new"), bulk("v"));
  assert.equal(await h.call("STRLEN", "k"), ":3\r\n");
  assert.equal(await h.call("SET", "u", "é"), OK);
  assert.equal(await h.call("STRLEN", "u"), ":2\r\n");
  assert.equal(await h.call("STRLEN", "none"), ":0\r\n");
});

test("INCR, DECR, INCRBY and DECRBY answer integers, 64-bit exact", async () => {
  const h = harness();
  assert.equal(await h.call("INCR", "n"), ":1\r\n");
  assert.equal(await h.call("INCRBY", "n", "41"), ":42\r\n");
  assert.equal(await h.call("DECR", "n"), ":41\r\n");
  assert.equal(await h.call("DECRBY", "n", "-9"), ":50\r\n");
  assert.equal(await h.call("SET", "big", "9223372036854775806"), OK);
  assert.equal(await h.call("INCR", "big"), ":9223372036854775807\r\n");
  assert.equal(await h.call("INCR", "big"), "-ERR increment or decrement would overflow\r\n");
});

test("INCR on a non-integer value and a non-integer increment are -ERR", async () => {
  const h = harness();
  await h.call("SET", "text", "abc");
  assert.equal(await h.call("INCR", "text"), notInteger);
  const before = h.kv.calls.length;
  for (const bad of ["x", "1.5", "+1", "01", " 1", "9223372036854775808", ""]) {
    assert.equal(await h.call("INCRBY", "n", bad), notInteger, bad);
  }
  assert.equal(await h.call("DECRBY", "n", "-9223372036854775808"),
    "-ERR decrement would overflow\r\n");
  assert.equal(h.kv.calls.length, before, "the API is not called");
});

test("MGET answers values and nulls; MSET and MSETNX are one transaction", async () => {
  const h = harness();
  assert.equal(await h.call("MSET", "a", "1", "b", "2"), OK);
  assert.deepEqual(h.kv.calls, ["txn 0/2/0"]);
  assert.equal(await h.call("MGET", "a", "missing", "b"), `*3\r\n${bulk("1")}${NIL}${bulk("2")}`);
  assert.equal(await h.call("MSET", "a", "1", "b"),
    "-ERR wrong number of arguments for 'mset' command\r\n");
  assert.equal(await h.call("MSETNX", "a", "9", "c", "3"), ":0\r\n");
  assert.equal(await h.call("MSETNX", "c", "3", "d", "4"), ":1\r\n");
  assert.equal(await h.call("MGET", "a", "c"), `*2\r\n${bulk("1")}${bulk("3")}`);
});

test("GETDEL answers the value and deletes the key in one transaction", async () => {
  const h = harness();
  await h.call("SET", "k", "v");
  assert.equal(await h.call("GETDEL", "k"), bulk("v"));
  assert.equal(await h.call("GETDEL", "k"), NIL);
  assert.deepEqual(h.kv.calls.filter((c) => c.startsWith("txn")), ["txn 0/2/0", "txn 0/2/0"]);
});

test("DEL counts a deleted key once; EXISTS counts repeats; TYPE is string or none", async () => {
  const h = harness();
  await h.call("MSET", "a", "1", "b", "2");
  assert.equal(await h.call("EXISTS", "a", "a", "b", "c"), ":3\r\n");
  assert.equal(await h.call("TYPE", "a"), "+string\r\n");
  assert.equal(await h.call("TYPE", "c"), "+none\r\n");
  assert.equal(await h.call("DEL", "a", "a", "c"), ":1\r\n");
  assert.equal(await h.call("UNLINK", "b"), ":1\r\n");
  assert.equal(await h.call("EXISTS", "a", "b"), ":0\r\n");
});

test("MEMORY USAGE answers the key's and value's UTF-8 bytes, or nil; other forms are refused",
  async () => {
    const h = harness();
    await h.call("SET", "ké", "héllo");
    assert.equal(await h.call("MEMORY", "USAGE", "ké"), ":9\r\n");
    assert.equal(await h.call("memory", "usage", "ké", "SAMPLES", "0"), ":9\r\n");
    assert.equal(await h.call("MEMORY", "USAGE", "missing"), NIL);
    assert.ok(h.kv.calls.includes("get linearizable ké"));
    assert.equal(await h.call("MEMORY", "USAGE", "ké", "SAMPLES"),
      "-ERR wrong number of arguments for 'memory|usage' command\r\n");
    assert.equal(await h.call("MEMORY", "USAGE", "ké", "COUNT", "5"), "-ERR syntax error\r\n");
    assert.equal(await h.call("MEMORY", "USAGE", "ké", "SAMPLES", "-1"),
      "-ERR syntax error\r\n");
    assert.equal(await h.call("MEMORY", "USAGE", "ké", "SAMPLES", "x"), notInteger);
    assert.equal(await h.call("MEMORY", "STATS"),
      "-ERR unknown subcommand 'STATS'. Only MEMORY USAGE is supported.\r\n");
    assert.equal(await h.call("MEMORY"),
      "-ERR wrong number of arguments for 'memory' command\r\n");
  });

test("TTL and PTTL: -2 when absent, -1 without expiry, TTL rounded like Redis", async () => {
  const h = harness();
  assert.equal(await h.call("TTL", "none"), ":-2\r\n");
  await h.call("SET", "k", "v");
  assert.equal(await h.call("TTL", "k"), ":-1\r\n");
  await h.call("SET", "a", "v", "PX", "1499");
  await h.call("SET", "b", "v", "PX", "1500");
  assert.equal(await h.call("TTL", "a"), ":1\r\n");
  assert.equal(await h.call("TTL", "b"), ":2\r\n");
  h.clock.advance(1000);
  assert.equal(await h.call("PTTL", "b"), ":500\r\n");
  assert.equal(await h.call("TTL", "b"), ":1\r\n");
  h.clock.advance(500);
  assert.equal(await h.call("TTL", "b"), ":-2\r\n");
});

test("EXPIRE sets a TTL, a non-positive time deletes, and PERSIST removes the TTL", async () => {
  const h = harness();
  await h.call("SET", "k", "v");
  assert.equal(await h.call("EXPIRE", "k", "100"), ":1\r\n");
  assert.equal(await h.call("TTL", "k"), ":100\r\n");
  assert.equal(await h.call("PEXPIRE", "k", "2500"), ":1\r\n");
  assert.equal(await h.call("PTTL", "k"), ":2500\r\n");
  assert.equal(await h.call("EXPIRE", "missing", "100"), ":0\r\n");
  assert.equal(await h.call("PERSIST", "k"), ":1\r\n");
  assert.equal(await h.call("PERSIST", "k"), ":0\r\n");
  assert.equal(await h.call("TTL", "k"), ":-1\r\n");
  const at = Math.floor(h.clock.now() / 1000) + 10;
  assert.equal(await h.call("EXPIREAT", "k", String(at)), ":1\r\n");
  assert.equal(await h.call("PTTL", "k"), `:${at * 1000 - h.clock.now()}\r\n`);
  assert.equal(await h.call("EXPIRE", "k", "0"), ":1\r\n");
  assert.equal(await h.call("EXISTS", "k"), ":0\r\n");
  assert.equal(await h.call("EXPIRE", "k", "-1"), ":0\r\n");
  assert.equal(await h.call("EXPIRE", "k", "x"), notInteger);
  assert.match(await h.call("EXPIRE", "k", "1", "NX"), /^-ERR the NX, XX, GT and LT/);
  assert.match(await h.call("EXPIRE", "k", "1", "FOO"), /^-ERR Unsupported option FOO/);
});

test("KEYS lists every match across pages over the literal prefix; DBSIZE counts", async () => {
  const h = harness({ limits: { listPageKeys: 2 } });
  await h.call("MSET", "user:1", "a", "user:2", "b", "user:30", "c", "other", "d");
  const reply = await h.call("KEYS", "user:?");
  assert.equal(reply, `*2\r\n${bulk("user:1")}${bulk("user:2")}`);
  assert.deepEqual(h.kv.calls.filter((c) => c.startsWith("range")), [
    "range linearizable user:||2",
    "range linearizable user:|user:2|2",
  ]);
  assert.equal(await h.call("KEYS", "*"), `*4\r\n${["other", "user:1", "user:2", "user:30"]
    .map(bulk).join("")}`);
  assert.equal(await h.call("DBSIZE"), ":4\r\n");
});

test("KEYS refuses a reply over keysMax", async () => {
  const h = harness({ limits: { keysMax: 2 } });
  await h.call("MSET", "a", "1", "b", "2", "c", "3");
  assert.match(await h.call("KEYS", "*"), /^-ERR more than 2 keys match; use SCAN/);
});

test("keys and values must be UTF-8 and keys non-empty; ECHO is binary-safe", async () => {
  const h = harness();
  const invalid = Buffer.from([0x66, 0xff, 0xfe]);
  assert.equal(await h.call("SET", invalid, "v"), "-ERR invalid UTF-8 in key\r\n");
  assert.equal(await h.call("SET", "k", invalid), "-ERR invalid UTF-8 in value\r\n");
  assert.equal(await h.call("GET", ""), "-ERR empty keys are not supported\r\n");
  assert.equal(await h.call("MGET", "a", Buffer.from([0xc0, 0x80])),
    "-ERR invalid UTF-8 in key\r\n");
  assert.deepEqual(h.kv.calls, []);
  const echoed = await h.callBytes("ECHO", invalid);
  assert.ok(echoed.equals(Buffer.concat([Buffer.from("$3\r\n"), invalid, Buffer.from("\r\n")])));
});
