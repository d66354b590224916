// Shared pieces of the key-value tests: the seed, command arbitraries, a small applier that
// numbers entries, and stream helpers (collect, re-chunk).

import fc from "fast-check";
import type { SnapshotMeta } from "../../../src/core/types.js";
import { encodeCommand, formatLimits } from "../../../src/kv/command.js";
import type { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import type {
  ClientSession,
  Command,
  Compare,
  KvResult,
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

const arbBody: fc.Arbitrary<Command> = fc.oneof(
  rec({ kind: fc.constant("put" as const), key: arbKey, value: arbText }),
  rec({ kind: fc.constant("delete" as const), key: arbKey }),
  rec({
    kind: fc.constant("txn" as const),
    txn: rec({
      compare: fc.array(arbCompare, { maxLength: 4 }),
      success: fc.array(arbOp, { maxLength: 4 }),
      failure: fc.array(arbOp, { maxLength: 4 }),
    }),
  }),
);

export const arbCommand: fc.Arbitrary<Command> = fc
  .tuple(arbBody, fc.option(arbSession, { nil: undefined }))
  .map(([body, session]) => (session === undefined ? body : { ...body, session }));

/** Applies commands with consecutive indexes (or explicit ones), as the node would. */
export class Applier {
  constructor(
    readonly sm: KvStateMachine,
    public index = 0,
  ) {}

  run(command: Command): KvResult {
    this.index++;
    return this.sm.apply({ index: this.index, term: 1,
      data: encodeCommand(command, formatLimits) });
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
