// The binary command format (version 2), shared by the encoder (command.ts) and the decoder
// (command-decode.ts). A command is small and hot (one per client write), so it is a fixed
// little-endian layout rather than JSON or MessagePack: nothing to guess about types, one pass
// to validate, and a canonical form (decode then encode gives the same bytes).
//
//   u8 version = 2 | u8 kind (1 put, 2 delete, 3 txn, 4 incr, 5 expire, 6 sweep)
//   | u8 flags (bit 0: session, bit 1: nowMs)
//   [session]  u8 clientIdBytes, clientId, u64 sequence
//   [nowMs]    u64 nowMs
//   put        str16 key, str32 value, u8 putFlags (bit 0: expiresAtMs, bit 1: keepTtl,
//              bit 2: condition absent, bit 3: condition present), [u64 expiresAtMs > 0]
//   delete     str16 key
//   txn        u16 count, compares | u16 count, success ops | u16 count, failure ops
//   incr       str16 key, u8 deltaBytes, delta (ASCII, canonical int64)
//   expire     str16 key, u64 expiresAtMs (0: remove the expiry)
//   sweep      u16 count, count x (str16 key, u64 modIndex >= 1); requires nowMs
//   compare    u8 target (1 value, 2 absent, 3 modIndex), str16 key, [str32 value | u64 modIndex]
//   op         u8 op (1 put, 2 delete, 3 get), str16 key, [str32 value]
//
// strN is a uN byte length then UTF-8 bytes; u64 holds a safe integer. Limits from `KvLimits`
// are enforced when encoding (where a client's request enters the log); decoding enforces only
// the format's own maxima, so every replica decodes the same bytes the same way whatever its
// configuration.

export const COMMAND_VERSION = 2;

export interface KvLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  /** Per list: compare, success and failure may each hold this many items. */
  readonly txnOpsMax: number;
  readonly clientIdBytesMax: number;
  /** Keys in one sweep command. */
  readonly sweepKeysMax: number;
}

/** The most the format can carry; configured limits must stay within these. */
export const formatLimits: KvLimits = {
  keyBytesMax: 0xffff,
  valueBytesMax: 64 * 1024 * 1024,
  txnOpsMax: 0xffff,
  clientIdBytesMax: 0xff,
  sweepKeysMax: 0xffff,
};

export const defaultKvLimits: KvLimits = {
  keyBytesMax: 4096,
  valueBytesMax: 1024 * 1024,
  txnOpsMax: 128,
  clientIdBytesMax: 64,
  sweepKeysMax: 1024,
};

export const Tag = { Put: 1, Delete: 2, Txn: 3, Incr: 4, Expire: 5, Sweep: 6 } as const;
export const kindTag = {
  put: Tag.Put,
  delete: Tag.Delete,
  txn: Tag.Txn,
  incr: Tag.Incr,
  expire: Tag.Expire,
  sweep: Tag.Sweep,
} as const;
export const OpTag = { Put: 1, Delete: 2, Get: 3 } as const;
export const opTag = { put: OpTag.Put, delete: OpTag.Delete, get: OpTag.Get } as const;
export const CompareTag = { Value: 1, Absent: 2, ModIndex: 3 } as const;
export const Flag = { Session: 1, Now: 2 } as const;
export const flagsKnown = Flag.Session | Flag.Now;
export const PutFlag = { ExpiresAt: 1, KeepTtl: 2, IfAbsent: 4, IfPresent: 8 } as const;
export const putFlagsKnown = PutFlag.ExpiresAt | PutFlag.KeepTtl | PutFlag.IfAbsent
  | PutFlag.IfPresent;
