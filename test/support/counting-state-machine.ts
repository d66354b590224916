// A deterministic state machine for driver tests: it records every command applied, fails
// the test on a repeated or out-of-order index, and can snapshot and restore its list.

import type { SnapshotMeta } from "../../src/core/types.js";
import type { AppliedEntry, StateMachine } from "../../src/node/ports.js";

export class CountingStateMachine implements StateMachine<number> {
  readonly commands: string[] = [];
  lastIndex = 0;
  /** Set by a test to play a state machine that keeps its state across restarts. */
  appliedIndex?: () => number;

  apply(entry: AppliedEntry): number {
    if (entry.index <= this.lastIndex) {
      throw new Error(`index ${entry.index} applied again (last ${this.lastIndex})`);
    }
    this.lastIndex = entry.index;
    this.commands.push(Buffer.from(entry.data).toString("utf8"));
    return this.commands.length;
  }

  snapshot(): AsyncIterable<Uint8Array> {
    // Taken now: applies go on while the stream is read.
    const data = Buffer.from(JSON.stringify({ commands: this.commands, lastIndex: this.lastIndex }));
    return (async function* () {
      yield data;
    })();
  }

  async restore(chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    const parts: Buffer[] = [];
    for await (const chunk of chunks) parts.push(Buffer.from(chunk));
    const state = JSON.parse(Buffer.concat(parts).toString("utf8")) as { commands: string[] };
    this.commands.length = 0;
    for (const command of state.commands) this.commands.push(command);
    this.lastIndex = meta.index;
  }
}

/** The same state machine, taking runs of committed commands through applyBatch. */
export class BatchingStateMachine extends CountingStateMachine {
  /** The size of every batch applied. */
  readonly batches: number[] = [];

  applyBatch(entries: readonly AppliedEntry[]): number[] {
    this.batches.push(entries.length);
    return entries.map((entry) => this.apply(entry));
  }
}
