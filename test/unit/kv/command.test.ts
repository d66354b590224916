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

test(`an envelope replaces the command's own session and nowMs (seed ${seed})`, () => {
  // Plain objects (fast-check's records have a null prototype, which deepStrictEqual sees).
  const arbSession = fc.tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/),
    fc.integer({ min: 1, max: 2 ** 40 })).map(([clientId, sequence]) => ({ clientId, sequence }));
  const arbEnvelope = fc.tuple(fc.option(arbSession, { nil: undefined }),
    fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }))
    .map(([session, nowMs]) => ({
      ...(session === undefined ? {} : { session }),
      ...(nowMs === undefined ? {} : { nowMs }),
    }));
  fc.assert(fc.property(arbCommand, arbEnvelope, (command, envelope) => {
    // What a proposer would otherwise build: the command without its envelope, plus `envelope`.
    const { session: _session, nowMs: _nowMs, ...body } = command;
    const merged = { ...body, ...envelope } as Command;
    if (merged.kind === "sweep" && envelope.nowMs === undefined) {
      assert.throws(() => encodeCommand(command, formatLimits, envelope), InvalidCommandError);
      return;
    }
    const bytes = encodeCommand(command, formatLimits, envelope);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(encodeCommand(merged, formatLimits))));
    assert.deepStrictEqual(decodeCommand(bytes), merged);
  }), { seed, numRuns: 300 });
});

test(`random bytes decode to a command or a MalformedCommandError (seed ${seed})`, () => {
  const arbBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([2, ...b])),
    fc.uint8Array({ maxLength: 64 }).map((b) => Uint8Array.from([2, 3, 0, ...b])),
    fc.tuple(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 64 }))
      .map(([kind, b]) => Uint8Array.from([2, kind, 0, 1, 0, 0x6b, ...b])),
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
  const sweep = Buffer.from(encodeCommand({ kind: "sweep", keys: [{ key: "k", modIndex: 1 }],
    nowMs: 5 }));
  const u64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];
  const incr = (delta: string) => Buffer.from([2, 4, 0, 1, 0, 0x6b, delta.length,
    ...Buffer.from(delta, "latin1")]);
  const putFlags = (flags: number, ...rest: number[]) =>
    Buffer.from([2, 1, 0, 1, 0, 0x6b, 0, 0, 0, 0, flags, ...rest]);
  const cases: [string, Buffer][] = [
    ["empty input", Buffer.alloc(0)],
    ["version 1 (old data is not readable)", Buffer.from([1, ...put.subarray(1)])],
    ["unknown version", Buffer.from([3, ...put.subarray(1)])],
    ["unknown kind", Buffer.from([2, 9, 0])],
    ["unknown flag", Buffer.from([2, 1, 4, ...put.subarray(3)])],
    ["empty key", Buffer.from([2, 2, 0, 0, 0])],
    ["invalid UTF-8", Buffer.from([2, 2, 0, 1, 0, 0xff])],
    ["overlong UTF-8", Buffer.from([2, 2, 0, 2, 0, 0xc0, 0xaf])],
    ["encoded surrogate", Buffer.from([2, 2, 0, 3, 0, 0xed, 0xa0, 0x80])],
    ["huge txn count", Buffer.from([2, 3, 0, 0xff, 0xff])],
    ["sequence 0", Buffer.from([2, 2, 1, 1, 0x41, ...u64(0), 1, 0, 0x6b])],
    ["u64 over 2^53", Buffer.from([2, 2, 1, 1, 0x41, 0, 0, 0, 0, 0, 0, 0x20, 0, 1, 0, 0x6b])],
    ["nowMs flag without a time", Buffer.from([2, 2, 2, 1, 0, 0x6b])],
    ["put without its flags byte", put.subarray(0, put.length - 1)],
    ["unknown put flag", putFlags(16)],
    ["expiresAtMs with keepTtl", putFlags(3, ...u64(5))],
    ["two put conditions", putFlags(12)],
    ["expiresAtMs 0", putFlags(1, ...u64(0))],
    ["expiry flag without the expiry", putFlags(1)],
    ["delta with a plus sign", incr("+1")],
    ["delta with a leading zero", incr("01")],
    ["delta -0", incr("-0")],
    ["delta with a space", incr(" 1")],
    ["empty delta", incr("")],
    ["delta above 2^63 - 1", incr("9223372036854775808")],
    ["delta below -2^63", incr("-9223372036854775809")],
    ["sweep without nowMs", Buffer.from([2, 6, 0, ...sweep.subarray(11)])],
    ["sweep modIndex 0", Buffer.from([2, 6, 2, ...u64(5), 1, 0, 1, 0, 0x6b, ...u64(0)])],
  ];
  assert.deepEqual(decodeCommand(putFlags(0)), { kind: "put", key: "k", value: "" });
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

test("the Redis-like commands' arguments are checked when encoding", () => {
  const bad: Command[] = [
    { kind: "put", key: "k", value: "v", expiresAtMs: 5, keepTtl: true },
    { kind: "put", key: "k", value: "v", expiresAtMs: 0 },
    { kind: "put", key: "k", value: "v", expiresAtMs: 1.5 },
    { kind: "put", key: "k", value: "v", nowMs: -1 },
    { kind: "delete", key: "k", nowMs: 2 ** 53 },
    { kind: "incr", key: "k", delta: "+1" },
    { kind: "incr", key: "k", delta: "9223372036854775808" },
    { kind: "incr", key: "k", delta: "" },
    { kind: "expire", key: "k", expiresAtMs: -1 },
    { kind: "sweep", keys: [{ key: "k", modIndex: 0 }], nowMs: 1 },
    { kind: "sweep", keys: [{ key: "", modIndex: 1 }], nowMs: 1 },
  ];
  for (const command of bad) {
    assert.throws(() => encodeCommand(command), InvalidCommandError, JSON.stringify(command));
  }
  const { nowMs: _, ...withoutNow } = { kind: "sweep" as const, keys: [], nowMs: 1 };
  assert.throws(() => encodeCommand(withoutNow as unknown as Command), InvalidCommandError);
  const keys = Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, modIndex: 1 }));
  const limits = { ...defaultKvLimits, sweepKeysMax: 2 };
  assert.throws(() => encodeCommand({ kind: "sweep", keys, nowMs: 1 }, limits),
    InvalidCommandError);
  assert.doesNotThrow(() => encodeCommand({ kind: "sweep", keys: keys.slice(1), nowMs: 1 },
    limits));
  // keepTtl: false is the same as no keepTtl (one canonical encoding).
  assert.deepEqual(encodeCommand({ kind: "put", key: "k", value: "v", keepTtl: false }),
    encodeCommand({ kind: "put", key: "k", value: "v" }));
});

test("limits outside the format's range are a ConfigError", () => {
  assert.throws(() => checkKvLimits({ ...defaultKvLimits, keyBytesMax: 0x10000 }), ConfigError);
  assert.throws(() => checkKvLimits({ ...defaultKvLimits, txnOpsMax: 0 }), ConfigError);
  assert.throws(() => checkKvLimits({ ...defaultKvLimits, sweepKeysMax: 0x10000 }), ConfigError);
  assert.equal(checkKvLimits(defaultKvLimits), defaultKvLimits);
});

test(`key order is UTF-8 byte order (seed ${seed})`, () => {
  fc.assert(fc.property(arbText, arbText, (a, b) => {
    const bytes = Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
    assert.equal(Math.sign(compareKeys(a, b)), bytes);
  }), { seed, numRuns: 2000 });
  assert.ok(compareKeys("\uFFFF", "\u{10000}") < 0, "BMP U+FFFF sorts before U+10000");
});
