// Proves the message codec: every message type survives encode/decode unchanged (a seeded
// property), the encoding is canonical, and hostile bytes (random, truncated, extended, mutated,
// out of range) end in a CodecError and never in any other exception.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AssertionError } from "../../../src/assert.js";
import { type Message, MessageType } from "../../../src/core/messages.js";
import { EntryType, nodeId } from "../../../src/core/types.js";
import { CodecError } from "../../../src/transport/errors.js";
import {
  CODEC_VERSION,
  decodeMessage,
  encodeMessage,
  messageBytes,
} from "../../../src/transport/tcp/codec.js";
import { append, arbMessage, seed } from "./helpers.js";

/** Decodes, and checks the only allowed failure; a decoded message must re-encode to `bytes`. */
function decodeOrCodecError(bytes: Uint8Array): boolean {
  let message: Message;
  try {
    message = decodeMessage(bytes);
  } catch (error) {
    if (error instanceof CodecError) return true;
    throw error;
  }
  return Buffer.from(encodeMessage(message)).equals(Buffer.from(bytes));
}

function expectCodecError(bytes: Uint8Array, pattern: RegExp, what = "bytes"): void {
  assert.throws(() => decodeMessage(bytes), (error: unknown) => {
    assert.ok(error instanceof CodecError, `${what}: expected CodecError, got ${String(error)}`);
    assert.match(error.message, pattern, what);
    assert.equal(error.code, "BAD_FRAME");
    return true;
  });
}

test("every message type round-trips through encode and decode unchanged", () => {
  fc.assert(
    fc.property(arbMessage, (m) => {
      const bytes = encodeMessage(m);
      assert.equal(bytes.length, messageBytes(m));
      assert.deepStrictEqual(decodeMessage(bytes), m);
    }),
    { seed, numRuns: 2000 },
  );
});

test("the property generator covers every message type", () => {
  const seen = new Set(fc.sample(arbMessage, { seed, numRuns: 500 }).map((m) => m.type));
  assert.deepStrictEqual([...seen].sort(), Object.values(MessageType).sort());
});

test("random bytes decode to a message or a CodecError, never another exception", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), decodeOrCodecError),
    { seed, numRuns: 5000 },
  );
});

test("valid encodings with a byte changed, cut short or extended fail only with CodecError", () => {
  const arbDamage = fc.record({
    position: fc.nat(),
    value: fc.nat({ max: 255 }),
    cut: fc.nat(),
    extra: fc.uint8Array({ minLength: 1, maxLength: 9 }),
  });
  fc.assert(
    fc.property(arbMessage, arbDamage, (m, d) => {
      const bytes = encodeMessage(m);
      const mutated = Buffer.from(bytes);
      mutated[d.position % mutated.length] = d.value;
      const truncated = bytes.subarray(0, d.cut % bytes.length);
      const extended = Buffer.concat([bytes, d.extra]);
      assert.ok(decodeOrCodecError(mutated));
      assert.throws(() => decodeMessage(truncated), CodecError);
      assert.throws(() => decodeMessage(extended), /trailing bytes/);
    }),
    { seed, numRuns: 2000 },
  );
});

/** A Heartbeat 1 -> 2 whose bytes the table tests below damage at known offsets. */
function heartbeatBytes(): Buffer {
  const m: Message = {
    type: MessageType.Heartbeat, from: nodeId(1), to: nodeId(2), term: 5, commit: 9, context: 1,
  };
  return encodeMessage(m);
}

test("each malformed field is rejected with a CodecError naming it", () => {
  const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
    ["an unknown codec version", (b) => (b.writeUInt8(CODEC_VERSION + 1, 0), b), /codec version 2/],
    ["an unknown message type", (b) => (b.writeUInt8(200, 1), b), /unknown message type 200/],
    ["a zero sender id", (b) => b.fill(0, 2, 10), /from node id is 0/],
    ["a term above 2^53 - 1", (b) => (b.writeUInt32BE(0x0020_0000, 18), b), /term .* 2\^53/],
    ["a missing last field", (b) => b.subarray(0, b.length - 1), /truncated message: context/],
    ["an empty buffer", () => Buffer.alloc(0), /truncated message: codec version/],
  ];
  for (const [name, damage, pattern] of cases) {
    expectCodecError(damage(heartbeatBytes()), pattern, name);
  }
});

test("a boolean byte other than 0 or 1 is rejected", () => {
  const m: Message = {
    type: MessageType.VoteResponse, from: nodeId(1), to: nodeId(2), term: 1, granted: true,
  };
  const bytes = encodeMessage(m);
  bytes.writeUInt8(2, bytes.length - 1);
  expectCodecError(bytes, /granted is 2, expected 0 or 1/);
});

test("an append whose entry count cannot fit in the frame is rejected before allocating", () => {
  const bytes = encodeMessage(append(1, 2, 0, 1));
  // The entry count follows the header (26 bytes) and prevIndex, prevTerm, commit (24 bytes).
  bytes.writeUInt32BE(0xffff_ffff, 26 + 24);
  expectCodecError(bytes, /entry count 4294967295 cannot fit/);
});

test("an entry data length past the end of the message is rejected", () => {
  const bytes = encodeMessage(append(1, 2, 0, 1));
  bytes.writeUInt32BE(0x7fff_ffff, 26 + 24 + 4 + 8 + 1);
  expectCodecError(bytes, /truncated message: entry data needs 2147483647 bytes/);
});

test("an unknown entry type is rejected", () => {
  const bytes = encodeMessage(append(1, 2, 0, 1));
  bytes.writeUInt8(7, 26 + 24 + 4 + 8);
  expectCodecError(bytes, /unknown entry type 7/);
});

test("entries whose indexes would pass 2^53 - 1 are rejected", () => {
  const m = append(1, 2, 0, 2);
  const bytes = encodeMessage(m);
  bytes.writeUInt32BE(0x1f_ffff, 26);
  bytes.writeUInt32BE(0xffff_fffe, 30);
  expectCodecError(bytes, /exceed 2\^53 - 1/);
});

test("decoded entries carry their implied indexes and plain Uint8Array data", () => {
  const decoded = decodeMessage(encodeMessage(append(1, 2, 4, 3)));
  assert.equal(decoded.type, MessageType.Append);
  if (decoded.type !== MessageType.Append) return;
  assert.deepStrictEqual(decoded.entries.map((e) => e.index), [41, 42, 43]);
  assert.equal(Object.getPrototypeOf(decoded.entries[0]?.data), Uint8Array.prototype);
  assert.equal(decoded.entries[0]?.type, EntryType.Normal);
});

test("encoding an append with non-contiguous entries is a bug caught by an assertion", () => {
  const m = append(1, 2, 0, 2);
  if (m.type !== MessageType.Append) throw new Error("append() made another type");
  const gap = { ...m, entries: [m.entries[0], { ...m.entries[1], index: 5 }] } as Message;
  assert.throws(() => encodeMessage(gap), AssertionError);
});

test("encoding a term that is not a safe integer is a bug caught by an assertion", () => {
  const ids = { from: nodeId(1), to: nodeId(2) };
  const m: Message = { type: MessageType.TimeoutNow, ...ids, term: 2 ** 53 };
  assert.throws(() => encodeMessage(m), AssertionError);
});
