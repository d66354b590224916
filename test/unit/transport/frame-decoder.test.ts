// Proves the frame layer: frames come out whole and in order whatever the chunk boundaries (a
// seeded property), an oversized length prefix is refused as soon as its 4 bytes arrive without
// buffering the body, and corrupt frames (bad checksum, unknown kind) are refused.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AssertionError } from "../../../src/assert.js";
import { CodecError, FrameTooLargeError } from "../../../src/transport/errors.js";
import {
  type Frame,
  FrameKind,
  buildFrame,
  frameHeaderBytes,
} from "../../../src/transport/tcp/frame.js";
import { FrameDecoder } from "../../../src/transport/tcp/frame-decoder.js";
import { seed } from "./helpers.js";

function frameOf(kind: FrameKind, payload: Uint8Array): Buffer {
  return buildFrame(kind, payload.length, (buf, offset) => buf.set(payload, offset));
}

/** Cuts `bytes` at the given positions (taken modulo the length), in order. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const arbFrames = fc.array(
  fc.record({
    kind: fc.constantFrom(FrameKind.Hello, FrameKind.HelloReply, FrameKind.Message),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
  { maxLength: 12 },
);

test("frames split at arbitrary chunk boundaries come out whole and in order", () => {
  fc.assert(
    fc.property(arbFrames, fc.array(fc.nat(), { maxLength: 40 }), (frames, cuts) => {
      const stream = Buffer.concat(frames.map((f) => frameOf(f.kind, f.payload)));
      const decoder = new FrameDecoder(300);
      const out: Frame[] = [];
      for (const chunk of split(stream, cuts)) out.push(...decoder.push(chunk));
      assert.equal(out.length, frames.length);
      out.forEach((frame, i) => {
        assert.equal(frame.kind, frames[i]?.kind);
        assert.ok(frame.payload.equals(frames[i]?.payload ?? Buffer.alloc(0)));
      });
      assert.equal(decoder.buffered(), 0);
    }),
    { seed, numRuns: 1000 },
  );
});

test("each payload is a copy that later input cannot change", () => {
  const decoder = new FrameDecoder();
  const bytes = frameOf(FrameKind.Message, Buffer.from("hello"));
  const [frame] = decoder.push(bytes);
  bytes.fill(0);
  assert.equal(frame?.payload.toString(), "hello");
});

test("a length prefix above frameBytesMax is refused as soon as its 4 bytes arrive", () => {
  const decoder = new FrameDecoder(1000);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffff_ffff, 0);
  assert.deepStrictEqual(decoder.push(header.subarray(0, 3)), []);
  assert.throws(() => decoder.push(header.subarray(3)), (error: unknown) => {
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.code, "FRAME_TOO_LARGE");
    assert.equal(error.frameBytes, 0xffff_ffff);
    return true;
  });
  assert.equal(decoder.buffered(), 4, "nothing beyond the length prefix was buffered");
});

test("a frame of exactly frameBytesMax is accepted and one byte more is refused", () => {
  assert.equal(new FrameDecoder(16).push(frameOf(FrameKind.Message, Buffer.alloc(16))).length, 1);
  assert.throws(
    () => new FrameDecoder(16).push(frameOf(FrameKind.Message, Buffer.alloc(17))),
    FrameTooLargeError,
  );
});

test("the limit can be raised between frames, as after a handshake", () => {
  const decoder = new FrameDecoder(8);
  const small = frameOf(FrameKind.Hello, Buffer.alloc(8));
  const large = frameOf(FrameKind.Message, Buffer.alloc(100));
  assert.equal(decoder.push(small).length, 1);
  decoder.setFrameBytesMax(100);
  assert.equal(decoder.push(large).length, 1);
});

test("a payload whose checksum does not match is refused", () => {
  const bytes = frameOf(FrameKind.Message, Buffer.from("payload"));
  const at = frameHeaderBytes + 2;
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
  assert.throws(() => new FrameDecoder().push(bytes), /checksum/);
});

test("a frame kind changed in transit fails the checksum, an unknown kind is refused", () => {
  const changed = frameOf(FrameKind.Message, Buffer.from("payload"));
  changed.writeUInt8(FrameKind.Hello, 4);
  assert.throws(() => new FrameDecoder().push(changed), CodecError);
  const unknown = frameOf(FrameKind.Message, Buffer.from("payload"));
  unknown.writeUInt8(77, 4);
  assert.throws(() => new FrameDecoder().push(unknown), /unknown frame kind 77/);
});

test("a decoder that failed refuses further input", () => {
  const decoder = new FrameDecoder(4);
  const tooLarge = frameOf(FrameKind.Message, Buffer.alloc(5));
  assert.throws(() => decoder.push(tooLarge), FrameTooLargeError);
  assert.throws(() => decoder.push(Buffer.alloc(1)), AssertionError);
});

test("random bytes yield frames or a FrameTooLargeError or CodecError, nothing else", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const decoder = new FrameDecoder(64);
      try {
        for (const chunk of chunks) decoder.push(chunk);
      } catch (error) {
        const expected = error instanceof CodecError || error instanceof FrameTooLargeError;
        assert.ok(expected, String(error));
      }
    }),
    { seed, numRuns: 2000 },
  );
});
