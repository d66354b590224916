// Operating errors of the key-value state machine and its codecs. Each has a stable `code` the
// server can put in its JSON error replies; none of them is a bug in raft-store.

import { RaftStoreError } from "../errors.js";

/** Bytes that are not a valid command: truncated, extended, unknown tags, bad UTF-8. */
export class MalformedCommandError extends RaftStoreError {
  override readonly code = "MALFORMED_COMMAND";
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`malformed command at byte ${offset}: ${reason}`);
  }
}

/** A command that cannot be encoded: empty key, ill-formed UTF-16, bad session sequence. */
export class InvalidCommandError extends RaftStoreError {
  override readonly code = "INVALID_COMMAND";
}

/** A read's arguments are out of range (for example a range limit below 1). */
export class InvalidReadError extends RaftStoreError {
  override readonly code = "INVALID_READ";
}

/** A key is longer (in UTF-8 bytes) than the configured `keyBytesMax`. */
export class KeyTooLargeError extends RaftStoreError {
  override readonly code = "KEY_TOO_LARGE";
  constructor(
    readonly bytes: number,
    readonly bytesMax: number,
  ) {
    super(`key has ${bytes} bytes, more than keyBytesMax ${bytesMax}`);
  }
}

/** A value is longer (in UTF-8 bytes) than the configured `valueBytesMax`. */
export class ValueTooLargeError extends RaftStoreError {
  override readonly code = "VALUE_TOO_LARGE";
  constructor(
    readonly bytes: number,
    readonly bytesMax: number,
  ) {
    super(`value has ${bytes} bytes, more than valueBytesMax ${bytesMax}`);
  }
}

/** A transaction list (compare, success or failure) has more than `txnOpsMax` items. */
export class TooManyTxnOpsError extends RaftStoreError {
  override readonly code = "TOO_MANY_TXN_OPS";
  constructor(
    readonly list: "compare" | "success" | "failure",
    readonly count: number,
    readonly countMax: number,
  ) {
    super(`txn ${list} has ${count} items, more than txnOpsMax ${countMax}`);
  }
}

/**
 * A key-value snapshot stream that is truncated, corrupt (checksum, framing, ordering), of an
 * unknown version, or inconsistent with its metadata. The state was left untouched.
 */
export class CorruptKvSnapshotError extends RaftStoreError {
  override readonly code = "CORRUPT_KV_SNAPSHOT";
}

/**
 * The LMDB state machine's files hold something this version did not write (an unknown layout
 * version, or bytes that do not decode). Nothing is repaired: the operator restores the node
 * from its peers (a fresh data directory) or from a backup.
 */
export class KvStoreDamagedError extends RaftStoreError {
  override readonly code = "KV_STORE_DAMAGED";
}
