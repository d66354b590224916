// Proves the reply encoder: every reply kind has its exact RESP2 and RESP3 bytes (null bulk
// `$-1` vs `_`, maps as flat arrays in RESP2), bulk lengths count UTF-8 bytes, simple
// strings and errors never carry CR/LF, and a writer batches replies and starts over after
// take() without overwriting bytes already handed out.

import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeReply, ReplyWriter } from "../../../src/server/resp/encoder.js";
import {
  array,
  bulk,
  errorReply,
  integer,
  nullArray,
  nullReply,
  ok,
  type Reply,
  simple,
  textMap,
} from "../../../src/server/resp/reply.js";

const table: [string, Reply, string, string][] = [
  ["ok", ok, "+OK\r\n", "+OK\r\n"],
  ["simple", simple("PONG"), "+PONG\r\n", "+PONG\r\n"],
  ["error", errorReply("ERR bad"), "-ERR bad\r\n", "-ERR bad\r\n"],
  ["error with newlines", errorReply("ERR a\r\nb"), "-ERR a  b\r\n", "-ERR a  b\r\n"],
  ["integer", integer(-42), ":-42\r\n", ":-42\r\n"],
  ["bigint", integer(9223372036854775807n), ":9223372036854775807\r\n", ":9223372036854775807\r\n"],
  ["bulk", bulk("héllo"), "$6\r\nhéllo\r\n", "$6\r\nhéllo\r\n"],
  ["empty bulk", bulk(""), "$0\r\n\r\n", "$0\r\n\r\n"],
  ["binary bulk", bulk(Buffer.from([0, 13, 10])), "$3\r\n\u0000\r\n\r\n", "$3\r\n\u0000\r\n\r\n"],
  ["null", nullReply, "$-1\r\n", "_\r\n"],
  ["null array", nullArray, "*-1\r\n", "_\r\n"],
  ["empty array", array([]), "*0\r\n", "*0\r\n"],
  [
    "nested array",
    array([bulk("a"), array([integer(1), nullReply])]),
    "*2\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n",
    "*2\r\n$1\r\na\r\n*2\r\n:1\r\n_\r\n",
  ],
  [
    "map",
    textMap({ proto: integer(3), mode: bulk("standalone") }),
    "*4\r\n$5\r\nproto\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n",
    "%2\r\n$5\r\nproto\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n",
  ],
];

test("every reply kind encodes to its exact RESP2 and RESP3 bytes", () => {
  for (const [name, reply, resp2, resp3] of table) {
    assert.equal(encodeReply(reply, 2).toString("utf8"), resp2, `${name} (RESP2)`);
    assert.equal(encodeReply(reply, 3).toString("utf8"), resp3, `${name} (RESP3)`);
  }
});

test("a writer batches replies into one buffer and take() starts it over", () => {
  const writer = new ReplyWriter();
  writer.write(ok, 2);
  writer.write(integer(1), 2);
  assert.equal(writer.byteLength, 9);
  const first = writer.take();
  assert.equal(writer.byteLength, 0);
  writer.write(simple("XXXXXXX"), 2);
  assert.equal(first.toString(), "+OK\r\n:1\r\n");
  assert.equal(writer.take().toString(), "+XXXXXXX\r\n");
});

test("a writer grows past its initial size for large and many replies", () => {
  const writer = new ReplyWriter();
  const big = "v".repeat(100_000);
  for (let i = 0; i < 1000; i++) writer.write(integer(i), 2);
  writer.write(bulk(big), 2);
  const bytes = writer.take().toString();
  assert.ok(bytes.startsWith(":0\r\n:1\r\n"));
  assert.ok(bytes.endsWith(`$100000\r\n${big}\r\n`));
});

test("a writer's first buffer is cut from node's shared pool (no allocation of its own)", () => {
  const writer = new ReplyWriter();
  writer.write(ok, 2);
  const bytes = writer.take();
  assert.equal(bytes.toString(), "+OK\r\n");
  assert.equal(bytes.buffer.byteLength, Buffer.poolSize);
});
