// Proves the RESP request parser: a pipelined request gives the same commands however it is
// cut into chunks (every split point, byte by byte); inline commands split like redis-cli
// input (quotes, escapes); every protocol error is returned (never thrown), with the
// commands before it, and stops the parser; every limit is enforced.

import assert from "node:assert/strict";
import { test } from "node:test";
import { splitInlineArgs } from "../../../src/server/resp/inline.js";
import {
  defaultRespParserLimits,
  type ParseResult,
  RespParser,
  type RespParserLimits,
} from "../../../src/server/resp/parser.js";

function multibulk(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

function texts(commands: readonly Buffer[][]): string[][] {
  return commands.map((args) => args.map((arg) => arg.toString("latin1")));
}

/** Feeds the chunks and collects every command and the first error. */
function feed(chunks: readonly Buffer[], limits?: RespParserLimits): ParseResult {
  const parser = new RespParser(limits);
  const commands: Buffer[][] = [];
  for (const chunk of chunks) {
    const result = parser.push(chunk);
    commands.push(...result.commands);
    if (result.error !== null) return { commands, error: result.error };
  }
  return { commands, error: null };
}

const binary = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x2a, 0x24, 0x80]);
const pipeline = Buffer.concat([
  multibulk("SET", "key", "value"),
  multibulk("GET", "key"),
  Buffer.from("PING\r\n"),
  multibulk("SET", "bin", binary),
  multibulk("ECHO", ""),
  Buffer.from("*0\r\n*-1\r\n"),
  Buffer.from("  \r\n"),
  Buffer.from('SET "a b" \'c\'\n'),
  multibulk("MGET", "a", "b", "c"),
]);
const expected = [
  ["SET", "key", "value"],
  ["GET", "key"],
  ["PING"],
  ["SET", "bin", binary.toString("latin1")],
  ["ECHO", ""],
  ["SET", "a b", "c"],
  ["MGET", "a", "b", "c"],
];

test("a pipelined request parses to its commands in order in one chunk", () => {
  const result = feed([pipeline]);
  assert.equal(result.error, null);
  assert.deepEqual(texts(result.commands), expected);
});

test("the same request cut at every byte boundary gives the same commands", () => {
  for (let cut = 0; cut <= pipeline.length; cut++) {
    const result = feed([pipeline.subarray(0, cut), pipeline.subarray(cut)]);
    assert.equal(result.error, null, `cut at ${cut}`);
    assert.deepEqual(texts(result.commands), expected, `cut at ${cut}`);
  }
});

test("the same request fed one byte at a time gives the same commands", () => {
  const chunks = [...pipeline].map((byte) => Buffer.from([byte]));
  const result = feed(chunks);
  assert.equal(result.error, null);
  assert.deepEqual(texts(result.commands), expected);
});

test("commands are returned as soon as they are complete", () => {
  const parser = new RespParser();
  const first = multibulk("GET", "a");
  const second = multibulk("GET", "b");
  const both = Buffer.concat([first, second]);
  const partial = parser.push(both.subarray(0, first.length + 3));
  assert.deepEqual(texts(partial.commands), [["GET", "a"]]);
  assert.deepEqual(texts(parser.push(both.subarray(first.length + 3)).commands), [["GET", "b"]]);
});

test("arguments are copies that later input does not overwrite", () => {
  const parser = new RespParser();
  const [command] = parser.push(multibulk("SET", "k", "v1")).commands;
  parser.push(multibulk("SET", "k", "XX"));
  assert.deepEqual(texts(command ? [command] : []), [["SET", "k", "v1"]]);
});

test("a large bulk split into many chunks arrives intact", () => {
  const value = Buffer.alloc(3 * 1024 * 1024, 0x61);
  value[12345] = 0x0d;
  const request = multibulk("SET", "big", value);
  const chunks: Buffer[] = [];
  for (let at = 0; at < request.length; at += 65536) chunks.push(request.subarray(at, at + 65536));
  const result = feed(chunks);
  assert.equal(result.error, null);
  assert.equal(result.commands.length, 1);
  assert.ok(result.commands[0]?.[2]?.equals(value));
});

test("inline commands split like sdssplitargs", () => {
  const table: [string, string[] | null][] = [
    ["GET key", ["GET", "key"]],
    ["  SET\tk   v  ", ["SET", "k", "v"]],
    ['SET k "hello world"', ["SET", "k", "hello world"]],
    ['SET k "a\\nb\\x41\\"c\\\\"', ["SET", "k", "a\nbA\"c\\"]],
    ["SET k 'it\\'s'", ["SET", "k", "it's"]],
    ["SET k 'no\\nescape'", ["SET", "k", "no\\nescape"]],
    ['SET k pre"fix"', ["SET", "k", "prefix"]],
    ['SET k ""', ["SET", "k", ""]],
    ['SET k "unclosed', null],
    ["SET k 'unclosed", null],
    ['SET k "closed"x', null],
    ["", []],
  ];
  for (const [line, args] of table) {
    const split = splitInlineArgs(Buffer.from(line, "latin1"));
    assert.deepEqual(split === null ? null : texts([split])[0] ?? [], args, line);
  }
});

test("inline lines may end in LF alone or CRLF", () => {
  const result = feed([Buffer.from("PING\nECHO hi\r\n")]);
  assert.deepEqual(texts(result.commands), [["PING"], ["ECHO", "hi"]]);
});

test("every protocol error is returned with a Redis-style message", () => {
  const table: [string, string][] = [
    ["*abc\r\n", "Protocol error: invalid multibulk length"],
    ["*1x\r\n", "Protocol error: invalid multibulk length"],
    ["*01\r\n", "Protocol error: invalid multibulk length"],
    ["*1\rX", "Protocol error: invalid multibulk length"],
    ["*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"],
    ["*1\r\n$x\r\n", "Protocol error: invalid bulk length"],
    ["*1\r\n$-5\r\n", "Protocol error: invalid bulk length"],
    ["*2\r\n$3\r\nGET\r\n$-1\r\n", "Protocol error: invalid bulk length"],
    ["*1\r\n$3\r\nGETXY", "Protocol error: expected CRLF after bulk string"],
    [`*${"1".repeat(40)}`, "Protocol error: too big mbulk count string"],
    [`*1\r\n$${"1".repeat(40)}`, "Protocol error: too big bulk count string"],
    ['GET "a\r\n', "Protocol error: unbalanced quotes in request"],
  ];
  for (const [input, message] of table) {
    const result = feed([Buffer.from(input, "latin1")]);
    assert.equal(result.error?.message, message, JSON.stringify(input));
    assert.equal(result.error?.code, "PROTOCOL_ERROR");
  }
});

test("commands before a protocol error are returned with it, and the parser stays failed", () => {
  const parser = new RespParser();
  const result = parser.push(Buffer.concat([multibulk("PING"), Buffer.from("*x\r\n")]));
  assert.deepEqual(texts(result.commands), [["PING"]]);
  assert.equal(result.error?.message, "Protocol error: invalid multibulk length");
  const later = parser.push(multibulk("PING"));
  assert.deepEqual(later.commands, []);
  assert.equal(later.error, result.error);
});

test("a truncated command is not returned and is not an error", () => {
  for (const input of ["*1\r\n$3\r\nGE", "*2\r\n$3\r\nGET\r\n", "*1\r", "GET ke"]) {
    const result = feed([Buffer.from(input)]);
    assert.deepEqual(result, { commands: [], error: null }, JSON.stringify(input));
  }
});

test("the limits on bulk length, argument count, inline length and command size hold", () => {
  const limits: RespParserLimits = {
    bulkBytesMax: 10,
    argsMax: 3,
    inlineBytesMax: 16,
    commandBytesMax: 15,
  };
  const cases: [Buffer | string, string | null][] = [
    [multibulk("SET", "k", "0123456789"), null],
    [multibulk("SET", "k", "01234567890"), "Protocol error: invalid bulk length"],
    [multibulk("A", "B", "C"), null],
    [multibulk("A", "B", "C", "D"), "Protocol error: invalid multibulk length"],
    ["SET k 0123456789\n", null],
    ["SET k 01234567890\n", "Protocol error: too big inline request"],
    [`SET k ${"x".repeat(20)}`, "Protocol error: too big inline request"],
    ["A B C D\n", "Protocol error: invalid multibulk length"],
    [multibulk("SET", "0123456789", "xx"), null],
    [multibulk("SET", "0123456789", "xxx"), "Protocol error: too big request"],
  ];
  for (const [input, message] of cases) {
    const bytes = typeof input === "string" ? Buffer.from(input) : input;
    const result = feed([bytes], limits);
    assert.equal(result.error?.message ?? null, message, bytes.toString("latin1"));
  }
});

test("the default limits allow 4 MiB values and 65536 arguments", () => {
  assert.ok(defaultRespParserLimits.bulkBytesMax >= 4 * 1024 * 1024);
  assert.equal(defaultRespParserLimits.argsMax, 65536);
  assert.equal(defaultRespParserLimits.inlineBytesMax, 64 * 1024);
});
