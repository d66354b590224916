// Big-endian (network order) readers and writers for the wire format. Integers that the Raft
// core treats as unbounded (terms, indexes, ids) travel as 64-bit values split into two 32-bit
// halves, which is faster than BigInt. The reader checks every bound before it reads, so hostile
// bytes end in a CodecError naming the field, never in a RangeError from inside Buffer.

import { assert } from "../../assert.js";
import { CodecError } from "../errors.js";

const twoTo32 = 0x1_0000_0000;
/** The high half of Number.MAX_SAFE_INTEGER: a larger high half is not a safe integer. */
const highMax = 0x1f_ffff;

export class ByteWriter {
  private offset: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
  ) {
    this.offset = start;
  }

  u8(value: number): void {
    this.offset = this.buf.writeUInt8(value, this.offset);
  }

  u16(value: number): void {
    this.offset = this.buf.writeUInt16BE(value, this.offset);
  }

  u32(value: number): void {
    this.offset = this.buf.writeUInt32BE(value, this.offset);
  }

  u64(value: number): void {
    assert(Number.isSafeInteger(value), () => `u64 value ${value} is not a safe integer`);
    assert(value >= 0, () => `u64 value ${value} is negative`);
    this.buf.writeUInt32BE(Math.floor(value / twoTo32), this.offset);
    this.offset = this.buf.writeUInt32BE(value >>> 0, this.offset + 4);
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  bytes(value: Uint8Array): void {
    this.buf.set(value, this.offset);
    this.offset += value.length;
  }

  /** Asserts that exactly the precomputed size was written (encode side of the size check). */
  finish(expectedEnd: number): void {
    assert(this.offset === expectedEnd, () => `wrote ${this.offset} bytes, sized ${expectedEnd}`);
  }
}

export class ByteReader {
  private offset = 0;
  private readonly buf: Buffer;

  /** `what` names the structure being read, for error messages ("message", "hello"). */
  constructor(
    bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(bytes: number, field: string): void {
    if (this.remaining() < bytes) {
      throw new CodecError(
        `truncated ${this.what}: ${field} needs ${bytes} bytes at offset ${this.offset}, ` +
          `${this.remaining()} left`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf.readUInt8(this.offset++);
  }

  u16(field: string): number {
    this.need(2, field);
    const value = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** A 64-bit unsigned integer that must be at most Number.MAX_SAFE_INTEGER. */
  u64(field: string): number {
    this.need(8, field);
    const high = this.buf.readUInt32BE(this.offset);
    const low = this.buf.readUInt32BE(this.offset + 4);
    if (high > highMax) {
      throw new CodecError(`${this.what} ${field} at offset ${this.offset} exceeds 2^53 - 1`);
    }
    this.offset += 8;
    return high * twoTo32 + low;
  }

  bool(field: string): boolean {
    const value = this.u8(field);
    if (value > 1) throw new CodecError(`${this.what} ${field} is ${value}, expected 0 or 1`);
    return value === 1;
  }

  /** A plain Uint8Array view of the next `length` bytes (no copy: it shares the buffer). */
  bytes(length: number, field: string): Uint8Array {
    this.need(length, field);
    const view = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.offset, length);
    this.offset += length;
    return view;
  }

  utf8(length: number, field: string): string {
    const bytes = this.bytes(length, field);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (error) {
      throw new CodecError(`${this.what} ${field} is not valid UTF-8`, { cause: error });
    }
  }

  /** Rejects trailing bytes: a message is exactly as long as its fields. */
  end(): void {
    if (this.remaining() !== 0) {
      throw new CodecError(`${this.what} has ${this.remaining()} trailing bytes`);
    }
  }
}
