// Shared pieces of the key-value tests: the seed, command arbitraries, a small applier that
// numbers entries (optionally stamping a clock), and stream helpers (collect, re-chunk).

import fc from "fast-check";
import type { SnapshotMeta } from "../../../src/core/types.js";
import { encodeCommand, formatLimits } from "../../../src/kv/command.js";
import type { KvStore } from "../../../src/kv/kv-store.js";
import type {
  ClientSession,
  Command,
  Compare,
  KvResult,
  PutCommand,
  SweepKey,
  TxnOp,
} from "../../../src/kv/types.js";

/** Plain objects, as the decoder returns (fc.record may otherwise build null prototypes). */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

export const seed = Number(process.env["SEED"] ?? 20260601);

/** Keys and values mixing ASCII, BMP and astral characters (always well-formed). */
export const arbText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", "\u{1F600}", "\uFFFF", "\uE000", "a\u0000b", "\uFEFFbom"),
);
export const arbKey = arbText.filter((k) => k.length > 0);
const arbIndex = fc.oneof(fc.nat({ max: 1000 }), fc.constantFrom(2 ** 32, 2 ** 53 - 1));
const arbPositive = fc.oneof(fc.integer({ min: 1, max: 1000 }),
  fc.constantFrom(2 ** 32, 2 ** 53 - 1));
const arbTime = fc.oneof(fc.constant(0), arbPositive);
/** Canonical int64 decimals, with the bounds and their neighbours. */
export const arbDelta = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  fc.integer({ min: -5, max: 5 }).map(String),
  fc.constantFrom("-9223372036854775808", "9223372036854775807", "0"),
);

export const arbSession: fc.Arbitrary<ClientSession> = rec({
  clientId: arbKey,
  sequence: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(2 ** 32, 2 ** 53 - 1)),
});

export const arbCompare: fc.Arbitrary<Compare> = fc.oneof(
  rec({ target: fc.constant("value" as const), key: arbKey, value: arbText }),
  rec({ target: fc.constant("absent" as const), key: arbKey }),
  rec({ target: fc.constant("modIndex" as const), key: arbKey, modIndex: arbIndex }),
);

export const arbOp: fc.Arbitrary<TxnOp> = fc.oneof(
  rec({ op: fc.constant("put" as const), key: arbKey, value: arbText }),
  rec({ op: fc.constant("delete" as const), key: arbKey }),
  rec({ op: fc.constant("get" as const), key: arbKey }),
);

/** A put with any valid combination of expiry, keepTtl and condition. */
const arbPut: fc.Arbitrary<PutCommand> = fc.tuple(
  arbKey, arbText, fc.oneof(fc.constant("none"), fc.constant("keep"), arbPositive),
  fc.constantFrom(undefined, "absent" as const, "present" as const),
).map(([key, value, ttl, condition]) => ({
  kind: "put", key, value,
  ...(typeof ttl === "number" ? { expiresAtMs: ttl } : {}),
  ...(ttl === "keep" ? { keepTtl: true } : {}),
  ...(condition === undefined ? {} : { condition }),
}));

export const arbSweepKey: fc.Arbitrary<SweepKey> = rec({ key: arbKey, modIndex: arbPositive });

const arbBody: fc.Arbitrary<Command> = fc.oneof(
  arbPut,
  rec({ kind: fc.constant("delete" as const), key: arbKey }),
  rec({
    kind: fc.constant("txn" as const),
    txn: rec({
      compare: fc.array(arbCompare, { maxLength: 4 }),
      success: fc.array(arbOp, { maxLength: 4 }),
      failure: fc.array(arbOp, { maxLength: 4 }),
    }),
  }),
  rec({ kind: fc.constant("incr" as const), key: arbKey, delta: arbDelta }),
  rec({ kind: fc.constant("expire" as const), key: arbKey, expiresAtMs: arbTime }),
  rec({ kind: fc.constant("sweep" as const), keys: fc.array(arbSweepKey, { maxLength: 4 }),
    nowMs: arbTime }),
);

export const arbCommand: fc.Arbitrary<Command> = fc
  .tuple(arbBody, fc.option(arbSession, { nil: undefined }),
    fc.option(arbTime, { nil: undefined }))
  .map(([body, session, nowMs]) => {
    const withNow = nowMs === undefined || body.kind === "sweep" ? body : { ...body, nowMs };
    return session === undefined ? withNow : { ...withNow, session };
  });

/**
 * Applies commands with consecutive indexes (or explicit ones), as the node would. When `nowMs`
 * is set, commands without a clock are stamped with it, as the server's leader does.
 */
export class Applier<S extends KvStore = KvStore> {
  nowMs: number | undefined;

  constructor(
    readonly sm: S,
    public index = 0,
  ) {}

  run(command: Command): KvResult {
    this.index++;
    const stamped = command.nowMs !== undefined || this.nowMs === undefined ? command
      : { ...command, nowMs: this.nowMs };
    return this.sm.apply({ index: this.index, term: 1,
      data: encodeCommand(stamped, formatLimits) });
  }

  put(key: string, value: string, session?: ClientSession): KvResult {
    return this.run(session === undefined ? { kind: "put", key, value }
      : { kind: "put", key, value, session });
  }

  del(key: string): KvResult {
    return this.run({ kind: "delete", key });
  }
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(Buffer.from(chunk));
  return out;
}

/** Yields `bytes` cut at the given sizes (cycled), to split records and fields anywhere. */
export async function* rechunk(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = Math.max(1, sizes[i++ % sizes.length] ?? 1);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

export function meta(index: number): SnapshotMeta {
  return { index, term: 1, configuration: { voters: [], votersOutgoing: [], learners: [] } };
}
