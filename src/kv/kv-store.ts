// What the server uses of a key-value state machine, whichever keeps the state: the in-memory
// KvStateMachine (volatile, rebuilt from the last snapshot and the log) or the
// LmdbKvStateMachine (durable, resumes after its appliedIndex()). Both run the same command
// semantics (execute.ts) and exchange the same snapshot stream format.

import { assertNever } from "../assert.js";
import type { SnapshotMeta } from "../core/types.js";
import type { AppliedEntry, StateMachine } from "../node/ports.js";
import { KvStateMachine, type KvStateMachineOptions } from "./kv-state-machine.js";
import { LmdbKvStateMachine, type LmdbKvStateMachineOptions } from "./lmdb-state-machine.js";
import type { KvRange, KvRecord, KvResult, RangeOptions, SweepKey } from "./types.js";

export interface KvStore extends StateMachine<KvResult> {
  apply(entry: AppliedEntry): KvResult;
  /** The record, unless absent or expired at `nowMs` (without it nothing is expired). */
  get(key: string, nowMs?: number): KvRecord | undefined;
  /** Up to `limit` live keys starting with `prefix` ("" for all), in key order. */
  range(prefix: string, limit: number, options?: RangeOptions): KvRange;
  /** Up to `max` keys with 0 < expiresAtMs <= nowMs, soonest expiry first (to sweep). */
  expiredKeys(nowMs: number, max: number): SweepKey[];
  snapshot(): AsyncIterable<Uint8Array>;
  restore(chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void>;
  /** SHA-256 (hex) of the records and sessions; equal on replicas that applied the same. */
  stateHash(): string;
  /** Keys stored (expired ones included until swept). */
  readonly size: number;
  readonly sessionCount: number;
  /** The index of the last entry applied, or of the snapshot restored. */
  readonly lastAppliedIndex: number;
  /** Releases files and handles (a no-op in memory). */
  close(): Promise<void>;
}

export type OpenKvStateMachineOptions =
  | ({ readonly kind: "memory" } & KvStateMachineOptions)
  | ({ readonly kind: "lmdb"; readonly dir: string } & LmdbKvStateMachineOptions);

/** The server's state: in LMDB under `dir` (durable, the default) or in memory. */
export async function openKvStateMachine(options: OpenKvStateMachineOptions): Promise<KvStore> {
  switch (options.kind) {
    case "memory":
      return new KvStateMachine(options);
    case "lmdb":
      return LmdbKvStateMachine.open(options.dir, options);
    default:
      return assertNever(options, "state machine kind");
  }
}
