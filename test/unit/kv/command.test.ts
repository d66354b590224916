// Proves the command codec: every command survives encode/decode unchanged and the encoding is
// canonical (seeded properties); hostile bytes (random, truncated, extended, mutated) end in
// MalformedCommandError and never in any other exception; limits and ill-formed strings are
// refused at encode time with typed errors.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ConfigError } from "../../../src/errors.js";
import {
  checkKvLimits,
  decodeCommand,
  defaultKvLimits,
  encodeCommand,
  formatLimits,
} from "../../../src/kv/command.js";
import {
  InvalidCommandError,
  KeyTooLargeError,
  MalformedCommandError,
  TooManyTxnOpsError,
  ValueTooLargeError,
} from "../../../src/kv/errors.js";
import { compareKeys } from "../../../src/kv/keys.js";
import type { Command } from "../../../src/kv/types.js";
import { arbCommand, arbText, seed } from "./helpers.js";

/** Decodes; the only allowed failure is MalformedCommandError, and success re-encodes exactly. */
function decodeOrMalformed(bytes: Uint8Array): boolean {
  let command: Command;
  try {
    command = decodeCommand(bytes);
  } catch (error) {
    if (error instanceof MalformedCommandError) return true;
    throw error;
  }
  return Buffer.from(encodeCommand(command, formatLimits)).equals(Buffer.from(bytes));
}

test(`every command round-trips through the codec unchanged (seed ${seed})`, () => {
  fc.assert(fc.property(arbCommand, (command) => {
    const bytes = encodeCommand(command, formatLimits);
    assert.deepStrictEqual(decodeCommand(bytes), command);
    assert.ok(Buffer.from(encodeCommand(decodeCommand(bytes), formatLimits)).equals(bytes));
  }), { seed, numRuns: 500 });
});

test(`random bytes decode to a command or a MalformedCommandError (seed ${seed})`, () => {
  const arbBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([1, ...b])),
    fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([1, 3, 0, ...b])),
  );
  fc.assert(fc.property(arbBytes, (bytes) => decodeOrMalformed(bytes)),
    { seed, numRuns: 2000 });
});

test(`truncated, extended and mutated commands never throw anything else (seed ${seed})`, () => {
  const arbCase = fc.tuple(arbCommand, fc.nat(), fc.nat({ max: 255 }), fc.nat({ max: 7 }));
  fc.assert(fc.property(arbCase, ([command, at, byte, bit]) => {
    const bytes = Buffer.from(encodeCommand(command, formatLimits));
    const cut = at % bytes.length;
    assert.throws(() => decodeCommand(bytes.subarray(0, cut)), MalformedCommandError);
    assert.throws(() => decodeCommand(Buffer.concat([bytes, Buffer.from([byte])])),
      MalformedCommandError);
    const flipped = Buffer.from(bytes);
    flipped[cut] = (flipped[cut] as number) ^ (1 << bit);
    assert.ok(decodeOrMalformed(flipped));
    const replaced = Buffer.from(bytes);
    replaced[cut] = byte;
    assert.ok(decodeOrMalformed(replaced));
  }), { seed, numRuns: 1000 });
});

test("specific malformed inputs are rejected with a reason", () => {
  const put = Buffer.from(encodeCommand({ kind: "put", key: "k", value: "v" }));
  const cases: [string, Buffer][] = [
    ["empty input", Buffer.alloc(0)],
    ["unknown version", Buffer.from([2, ...put.subarray(1)])],
    ["unknown kind", Buffer.from([1, 9, 0])],
    ["unknown flag", Buffer.from([1, 1, 2, ...put.subarray(3)])],
    ["empty key", Buffer.from([1, 2, 0, 0, 0])],
    ["invalid UTF-8", Buffer.from([1, 2, 0, 1, 0, 0xff])],
    ["overlong UTF-8", Buffer.from([1, 2, 0, 2, 0, 0xc0, 0xaf])],
    ["encoded surrogate", Buffer.from([1, 2, 0, 3, 0, 0xed, 0xa0, 0x80])],
    ["huge txn count", Buffer.from([1, 3, 0, 0xff, 0xff])],
    ["sequence 0", Buffer.from([1, 2, 1, 1, 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x6b])],
    ["u64 over 2^53", Buffer.from([1, 2, 1, 1, 0x41, 0, 0, 0, 0, 0, 0, 0x20, 0, 1, 0, 0x6b])],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => decodeCommand(bytes), MalformedCommandError, name);
  }
});

test("limits are enforced when encoding, with typed errors", () => {
  const limits = { ...defaultKvLimits, keyBytesMax: 4, valueBytesMax: 3, txnOpsMax: 2 };
  const txn = (n: number): Command => ({ kind: "txn", txn: { compare: [],
    success: Array.from({ length: n }, () => ({ op: "get" as const, key: "k" })), failure: [] } });
  assert.throws(() => encodeCommand({ kind: "put", key: "abcde", value: "" }, limits),
    KeyTooLargeError);
  // Limits count UTF-8 bytes, not UTF-16 units: "é" is 2 bytes.
  assert.throws(() => encodeCommand({ kind: "delete", key: "ééé" }, limits), KeyTooLargeError);
  assert.doesNotThrow(() => encodeCommand({ kind: "delete", key: "éé" }, limits));
  assert.throws(() => encodeCommand({ kind: "put", key: "k", value: "\u{1F600}" }, limits),
    ValueTooLargeError);
  assert.throws(() => encodeCommand(txn(3), limits), TooManyTxnOpsError);
  assert.doesNotThrow(() => encodeCommand(txn(2), limits));
  assert.throws(() => encodeCommand({ kind: "put", key: "k", value: "v",
    session: { clientId: "x".repeat(65), sequence: 1 } }), InvalidCommandError);
});

test("ill-formed strings, empty keys and bad sequences are refused when encoding", () => {
  const bad: Command[] = [
    { kind: "delete", key: "" },
    { kind: "delete", key: "a\uD800" },
    { kind: "put", key: "k", value: "\uDC00x" },
    { kind: "delete", key: "k", session: { clientId: "", sequence: 1 } },
    { kind: "delete", key: "k", session: { clientId: "c", sequence: 0 } },
    { kind: "delete", key: "k", session: { clientId: "c", sequence: 1.5 } },
    { kind: "txn", txn: { compare: [{ target: "modIndex", key: "k", modIndex: -1 }],
      success: [], failure: [] } },
  ];
  for (const command of bad) {
    assert.throws(() => encodeCommand(command), InvalidCommandError, JSON.stringify(command));
  }
});

test("limits outside the format's range are a ConfigError", () => {
  assert.throws(() => checkKvLimits({ ...defaultKvLimits, keyBytesMax: 0x10000 }), ConfigError);
  assert.throws(() => checkKvLimits({ ...defaultKvLimits, txnOpsMax: 0 }), ConfigError);
  assert.equal(checkKvLimits(defaultKvLimits), defaultKvLimits);
});

test(`key order is UTF-8 byte order (seed ${seed})`, () => {
  fc.assert(fc.property(arbText, arbText, (a, b) => {
    const bytes = Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
    assert.equal(Math.sign(compareKeys(a, b)), bytes);
  }), { seed, numRuns: 2000 });
  assert.ok(compareKeys("\uFFFF", "\u{10000}") < 0, "BMP U+FFFF sorts before U+10000");
});
