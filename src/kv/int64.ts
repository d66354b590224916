// Canonical decimal signed 64-bit integers, as Redis INCRBY reads and writes them: no spaces,
// no '+', no leading zeros, no "-0", within [-2^63, 2^63 - 1]. BigInt does the arithmetic, so
// no value is ever rounded through a double.

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
/** Shape only: "0", or an optional '-' and 1..19 digits without a leading zero. */
const canonical = /^(?:0|-?[1-9][0-9]{0,18})$/;
/** "-9223372036854775808" is the longest canonical int64. */
export const int64TextBytesMax = 20;

/** The value of a canonical int64 decimal, or undefined when `text` is not one. */
export function parseInt64(text: string): bigint | undefined {
  if (text.length > int64TextBytesMax || !canonical.test(text)) return undefined;
  const value = BigInt(text);
  return value < int64Min || value > int64Max ? undefined : value;
}

export function isInt64(text: string): boolean {
  return parseInt64(text) !== undefined;
}

/** `a + b` when it fits in an int64, else undefined (overflow). */
export function addInt64(a: bigint, b: bigint): bigint | undefined {
  const sum = a + b;
  return sum < int64Min || sum > int64Max ? undefined : sum;
}
