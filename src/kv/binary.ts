// Bounds-checked little-endian byte writing and reading shared by the command codec, the saved
// session results and the snapshot format. Lengths are checked before every read, so hostile
// input ends in the caller's typed error, never in a RangeError from a Buffer method.

import { isAscii } from "node:buffer";
import { assert } from "../assert.js";

const twoTo32 = 0x1_0000_0000;
/** The high half of Number.MAX_SAFE_INTEGER: anything larger is not an integer we wrote. */
const highMax = 0x1f_ffff;

/** Strict UTF-8: invalid sequences throw instead of turning into U+FFFD. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A growable output buffer. */
export class ByteWriter {
  private buf: Buffer;
  private length = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get size(): number {
    return this.length;
  }

  reset(): void {
    this.length = 0;
  }

  /** A view of the bytes written so far (valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the bytes written so far. */
  take(): Buffer {
    return Buffer.from(this.view());
  }

  u8(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, () => `u8 ${value}`);
    this.reserve(1);
    this.buf[this.length++] = value;
  }

  u16(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff, () => `u16 ${value}`);
    this.reserve(2);
    this.length = this.buf.writeUInt16LE(value, this.length);
  }

  u32(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value < twoTo32, () => `u32 ${value}`);
    this.reserve(4);
    this.length = this.buf.writeUInt32LE(value, this.length);
  }

  /** A non-negative safe integer as 64-bit little endian (two 32-bit halves, no BigInt). */
  u64(value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, () => `u64 ${value} out of range`);
    this.reserve(8);
    this.buf.writeUInt32LE(value >>> 0, this.length);
    this.length = this.buf.writeUInt32LE(Math.floor(value / twoTo32), this.length + 4);
  }

  /** Raw UTF-8 bytes of `text`, which must be well-formed (checked by the callers). */
  utf8(text: string, bytes: number): void {
    this.reserve(bytes);
    const written = this.buf.write(text, this.length, "utf8");
    assert(written === bytes, () => `utf8 wrote ${written} bytes, expected ${bytes}`);
    this.length += written;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}

/** Reads from one buffer; `fail(reason, offset)` builds the error thrown on bad input. */
export class ByteReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    private readonly fail: (reason: string, offset: number) => Error,
    start = 0,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    this.need(1, "u8");
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    this.need(2, "u16");
    const value = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return value;
  }

  u32(): number {
    this.need(4, "u32");
    const value = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }

  u64(): number {
    this.need(8, "u64");
    const low = this.buf.readUInt32LE(this.pos);
    const high = this.buf.readUInt32LE(this.pos + 4);
    if (high > highMax) throw this.fail(`u64 above 2^53 (high word ${high})`, this.pos);
    this.pos += 8;
    return high * twoTo32 + low;
  }

  utf8(bytes: number): string {
    this.need(bytes, "string");
    const start = this.pos;
    this.pos += bytes;
    // ASCII (the common case) is valid UTF-8 and decodes faster as latin1.
    const bytesView = this.buf.subarray(start, this.pos);
    if (isAscii(bytesView)) return this.buf.toString("latin1", start, this.pos);
    try {
      return strictUtf8.decode(bytesView);
    } catch (error) {
      throw this.fail(`invalid UTF-8 (${String(error)})`, start);
    }
  }

  /** The decoded value must have used every byte: trailing bytes are garbage. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw this.fail(`${this.buf.length - this.pos} trailing bytes`, this.pos);
    }
  }

  private need(bytes: number, what: string): void {
    if (this.buf.length - this.pos < bytes) {
      throw this.fail(`truncated ${what}: need ${bytes}, have ${this.buf.length - this.pos}`,
        this.pos);
    }
  }
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
