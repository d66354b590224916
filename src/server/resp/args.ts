// Argument decoding shared by the command handlers. Arguments arrive as bytes; the KvApi
// takes UTF-8 strings, so text is decoded strictly (invalid UTF-8 is an -ERR reply, never a
// replacement character that would silently change a key). Integers follow Redis's
// string2ll: optional "-", no "+", no leading zeros, no spaces, within 64 bits.

import { CommandError, notIntegerError } from "./errors.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** The argument as UTF-8 text; -ERR when it is not valid UTF-8. */
export function text(arg: Uint8Array, what = "argument"): string {
  try {
    return strictUtf8.decode(arg);
  } catch {
    throw new CommandError(`ERR invalid UTF-8 in ${what}`);
  }
}

/** A key: valid UTF-8 and not empty (the store refuses empty keys). */
export function keyArg(arg: Uint8Array): string {
  if (arg.length === 0) throw new CommandError("ERR empty keys are not supported");
  return text(arg, "key");
}

export function keyArgs(args: readonly Uint8Array[]): string[] {
  return args.map(keyArg);
}

/** ASCII-lowercased, for command names and option words (never for keys or values). */
export function word(arg: Uint8Array): string {
  return Buffer.from(arg).toString("latin1").toLowerCase();
}

/** A signed 64-bit decimal integer, or null when the argument is not one. */
export function parseInt64(arg: Uint8Array): bigint | null {
  if (arg.length === 0 || arg.length > 20) return null;
  const digits = Buffer.from(arg).toString("latin1");
  if (!/^(0|-?[1-9][0-9]*)$/.test(digits)) return null;
  const value = BigInt(digits);
  return value < int64Min || value > int64Max ? null : value;
}

/** A signed 64-bit integer; -ERR "value is not an integer or out of range" otherwise. */
export function int64Arg(arg: Uint8Array): bigint {
  const value = parseInt64(arg);
  if (value === null) throw new CommandError(notIntegerError);
  return value;
}

export function isInt64(value: bigint): boolean {
  return value >= int64Min && value <= int64Max;
}

/** The argument at `index`, or a syntax error when the command is too short for it. */
export function argAt(args: readonly Buffer[], index: number): Buffer {
  const arg = args[index];
  if (arg === undefined) throw new CommandError("ERR syntax error");
  return arg;
}
