// Little helpers for the on-disk formats: 53-bit unsigned integers stored as 64-bit little
// endian (two 32-bit halves, which is faster than BigInt), and big-endian index keys that sort
// in log order in the B-tree and LSM engines. A low half is written as `value >>> 0`: ToUint32
// is exactly value mod 2^32, and V8 compiles it inline where `%` on a double calls fmod.

import { assert } from "../assert.js";

const twoTo32 = 0x1_0000_0000;
/** The high half of Number.MAX_SAFE_INTEGER: larger values are not integers we wrote. */
const highMax = 0x1f_ffff;

export function writeU64(buf: Buffer, value: number, offset: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `u64 value ${value} out of range`);
  buf.writeUInt32LE(value >>> 0, offset);
  buf.writeUInt32LE(Math.floor(value / twoTo32), offset + 4);
}

/** Returns the value, or -1 when the high bits make it larger than a safe integer. */
export function readU64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32LE(offset + 4);
  if (high > highMax) return -1;
  return high * twoTo32 + buf.readUInt32LE(offset);
}

/** An 8-byte big-endian key, so byte order is index order. */
export function indexKey(index: number, prefix: Uint8Array = emptyPrefix): Buffer {
  assert(Number.isSafeInteger(index) && index >= 0, () => `index key ${index} out of range`);
  const key = Buffer.allocUnsafe(prefix.length + 8);
  key.set(prefix, 0);
  key.writeUInt32BE(Math.floor(index / twoTo32), prefix.length);
  key.writeUInt32BE(index >>> 0, prefix.length + 4);
  return key;
}

export function indexFromKey(key: Uint8Array, prefixBytes = 0): number {
  assert(key.length === prefixBytes + 8, () => `index key of ${key.length} bytes`);
  const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return view.readUInt32BE(prefixBytes) * twoTo32 + view.readUInt32BE(prefixBytes + 4);
}

const emptyPrefix = new Uint8Array(0);

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
