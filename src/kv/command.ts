// The command encoder and the limits (format in command-format.ts, decoder in
// command-decode.ts). Encoding validates everything a replica's decoder will check, plus the
// configured limits, so a bad request fails here with a typed error instead of being
// committed and rejected on every replica.

import { assert, assertNever } from "../assert.js";
import { ConfigError } from "../errors.js";
import { ByteWriter } from "./binary.js";
import {
  CompareTag,
  COMMAND_VERSION,
  Flag,
  type KvLimits,
  PutFlag,
  defaultKvLimits,
  formatLimits,
  kindTag,
  opTag,
} from "./command-format.js";
import {
  InvalidCommandError,
  KeyTooLargeError,
  TooManyTxnOpsError,
  ValueTooLargeError,
} from "./errors.js";
import { isInt64 } from "./int64.js";
import { isWellFormed } from "./keys.js";
import type {
  ClientSession,
  Command,
  CommandEnvelope,
  Compare,
  PutCommand,
  SweepKey,
  TxnOp,
} from "./types.js";

export { COMMAND_VERSION, type KvLimits, defaultKvLimits, formatLimits };
export { decodeCommand } from "./command-decode.js";

/** Throws ConfigError unless every limit is a positive integer within the format's maxima. */
export function checkKvLimits(limits: KvLimits): KvLimits {
  for (const name of Object.keys(formatLimits) as (keyof KvLimits)[]) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1 || value > formatLimits[name]) {
      throw new ConfigError(`${name} ${value} must be an integer in [1, ${formatLimits[name]}]`);
    }
  }
  return limits;
}

/**
 * The command's bytes, checked against `limits`. `envelope` (by default the command's own
 * fields) gives the session and nowMs written: a proposer adds them without copying the command.
 */
export function encodeCommand(
  command: Command,
  limits: KvLimits = defaultKvLimits,
  envelope: CommandEnvelope = command,
): Uint8Array {
  const { session, nowMs } = envelope;
  const w = new ByteWriter(initialBytes(command, session));
  const e = new Encoder(w, limits);
  w.u8(COMMAND_VERSION);
  w.u8(kindTag[command.kind]);
  const hasNow = nowMs !== undefined;
  w.u8((session === undefined ? 0 : Flag.Session) | (hasNow ? Flag.Now : 0));
  if (session !== undefined) e.session(session);
  if (nowMs !== undefined) e.time(nowMs, "nowMs", 0);
  switch (command.kind) {
    case "put":
      e.put(command);
      break;
    case "delete":
      e.key(command.key);
      break;
    case "txn":
      e.list("compare", command.txn.compare, (c) => e.compare(c));
      e.list("success", command.txn.success, (op) => e.op(op));
      e.list("failure", command.txn.failure, (op) => e.op(op));
      break;
    case "incr":
      e.key(command.key);
      e.delta(command.delta);
      break;
    case "expire":
      e.key(command.key);
      e.time(command.expiresAtMs, "expiresAtMs", 0);
      break;
    case "sweep":
      if (!hasNow) throw new InvalidCommandError("a sweep needs nowMs");
      e.sweep(command.keys);
      break;
    default:
      assertNever(command, "command");
  }
  // The writer is not used again, so its bytes can be handed out without a copy.
  return w.view();
}

/**
 * Room for the header, the session and a put's ASCII key and value, so that a put is written
 * without growing (and copying) the buffer. Unchecked input: the Encoder refuses it later.
 */
function initialBytes(command: Command, session: ClientSession | undefined): number {
  const clientId: unknown = session?.clientId;
  const put = command.kind === "put" ? textLength(command.key) + textLength(command.value) : 0;
  return 64 + textLength(clientId) + put;
}

function textLength(text: unknown): number {
  return typeof text === "string" ? text.length : 0;
}

/** Validates while writing, so a command is checked once, on its way into the log. */
class Encoder {
  constructor(
    private readonly w: ByteWriter,
    private readonly limits: KvLimits,
  ) {}

  session(session: ClientSession): void {
    const bytes = this.text(session.clientId, "clientId");
    if (bytes === 0 || bytes > this.limits.clientIdBytesMax) {
      throw new InvalidCommandError(
        `clientId has ${bytes} bytes, outside [1, ${this.limits.clientIdBytesMax}]`);
    }
    if (!Number.isSafeInteger(session.sequence) || session.sequence < 1) {
      throw new InvalidCommandError(`sequence ${session.sequence} is not an integer >= 1`);
    }
    this.w.u8(bytes);
    this.w.utf8(session.clientId, bytes);
    this.w.u64(session.sequence);
  }

  /** A wall-clock time or index: a safe integer >= `min`. */
  time(value: number, what: string, min: number): void {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new InvalidCommandError(`${what} ${value} is not an integer >= ${min}`);
    }
    this.w.u64(value);
  }

  put(command: PutCommand): void {
    const { expiresAtMs, condition } = command;
    const keepTtl = command.keepTtl === true;
    if (expiresAtMs !== undefined && keepTtl) {
      throw new InvalidCommandError("a put cannot both set expiresAtMs and keep the TTL");
    }
    this.key(command.key);
    this.value(command.value);
    let flags = expiresAtMs === undefined ? 0 : PutFlag.ExpiresAt;
    if (keepTtl) flags |= PutFlag.KeepTtl;
    if (condition === "absent") flags |= PutFlag.IfAbsent;
    else if (condition === "present") flags |= PutFlag.IfPresent;
    else if (condition !== undefined) throw new InvalidCommandError("unknown put condition");
    this.w.u8(flags);
    if (expiresAtMs !== undefined) this.time(expiresAtMs, "expiresAtMs", 1);
  }

  delta(delta: string): void {
    if (typeof delta !== "string" || !isInt64(delta)) {
      throw new InvalidCommandError(`delta ${String(delta)} is not a canonical 64-bit integer`);
    }
    this.w.u8(delta.length);
    this.w.utf8(delta, delta.length);
  }

  sweep(keys: readonly SweepKey[]): void {
    if (keys.length > this.limits.sweepKeysMax) {
      throw new InvalidCommandError(
        `sweep of ${keys.length} keys, more than sweepKeysMax ${this.limits.sweepKeysMax}`);
    }
    this.w.u16(keys.length);
    for (const { key, modIndex } of keys) {
      this.key(key);
      this.time(modIndex, "sweep modIndex", 1);
    }
  }

  key(key: string): void {
    const bytes = this.text(key, "key");
    if (bytes === 0) throw new InvalidCommandError("empty key");
    if (bytes > this.limits.keyBytesMax) throw new KeyTooLargeError(bytes, this.limits.keyBytesMax);
    this.w.u16(bytes);
    this.w.utf8(key, bytes);
  }

  value(value: string): void {
    const bytes = this.text(value, "value");
    if (bytes > this.limits.valueBytesMax) {
      throw new ValueTooLargeError(bytes, this.limits.valueBytesMax);
    }
    this.w.u32(bytes);
    this.w.utf8(value, bytes);
  }

  list<T>(name: "compare" | "success" | "failure", items: readonly T[], one: (t: T) => void) {
    if (items.length > this.limits.txnOpsMax) {
      throw new TooManyTxnOpsError(name, items.length, this.limits.txnOpsMax);
    }
    this.w.u16(items.length);
    for (const item of items) one(item);
  }

  compare(c: Compare): void {
    switch (c.target) {
      case "value":
        this.w.u8(CompareTag.Value);
        this.key(c.key);
        this.value(c.value);
        break;
      case "absent":
        this.w.u8(CompareTag.Absent);
        this.key(c.key);
        break;
      case "modIndex":
        if (!Number.isSafeInteger(c.modIndex) || c.modIndex < 0) {
          throw new InvalidCommandError(`modIndex ${c.modIndex} is not an integer >= 0`);
        }
        this.w.u8(CompareTag.ModIndex);
        this.key(c.key);
        this.w.u64(c.modIndex);
        break;
      default:
        assertNever(c, "compare");
    }
  }

  op(op: TxnOp): void {
    this.w.u8(opTag[op.op]);
    this.key(op.key);
    if (op.op === "put") this.value(op.value);
  }

  /** UTF-8 length of a string that must be a well-formed string (no lone surrogate). */
  private text(text: unknown, what: string): number {
    if (typeof text !== "string") throw new InvalidCommandError(`${what} is not a string`);
    if (!isWellFormed(text)) throw new InvalidCommandError(`${what} has a lone surrogate`);
    const bytes = Buffer.byteLength(text, "utf8");
    assert(bytes >= text.length, () => `${what} of ${text.length} units in ${bytes} bytes`);
    return bytes;
  }
}
