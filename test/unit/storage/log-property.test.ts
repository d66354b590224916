// Proves, with seeded fast-check runs, that every backend's LogStore matches a naive in-memory
// model (an array plus a compaction point) over random sequences of appends, suffix and prefix
// deletions, byte-limited reads and reopens. SEED=n replays a run.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Entry } from "../../../src/core/types.js";
import { makeEntry, plain, readAll } from "../../../src/storage/conformance/fixtures.js";
import { StorageContext } from "../../../src/storage/conformance/harness.js";
import { entriesWithin } from "../../../src/storage/log-rules.js";
import { storageKinds } from "../../../src/storage/types.js";
import { backendFor } from "../../support/storage/backends.js";

const seed = Number(process.env["SEED"] ?? 1234);
const runsByKind = { memory: 60, wal: 40, lmdb: 15, level: 15 } as const;

type Command =
  | { readonly kind: "append"; readonly count: number; readonly size: number;
    readonly newTerm: boolean; readonly sync: boolean }
  | { readonly kind: "suffix"; readonly at: number }
  | { readonly kind: "prefix"; readonly at: number; readonly beyond: number }
  | { readonly kind: "read"; readonly from: number; readonly to: number; readonly bytesMax: number }
  | { readonly kind: "reopen" };

const arbitraryCommand: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("append" as const),
    count: fc.integer({ min: 0, max: 12 }), size: fc.integer({ min: 0, max: 3000 }),
    newTerm: fc.boolean(), sync: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("suffix" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("prefix" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }), beyond: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("read" as const),
    from: fc.double({ min: 0, max: 1, noNaN: true }),
    to: fc.double({ min: 0, max: 1, noNaN: true }),
    bytesMax: fc.integer({ min: 0, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

/** The naive oracle: entries from firstIndex on, the compaction term, the current term. */
interface Model {
  entries: Entry[];
  firstIndex: number;
  compactedTerm: number;
  term: number;
}

function lastIndex(model: Model): number {
  return model.firstIndex + model.entries.length - 1;
}

function termAt(model: Model, index: number): number {
  return index === model.firstIndex - 1
    ? model.compactedTerm
    : model.entries[index - model.firstIndex]?.term ?? -1;
}

async function run(context: StorageContext, model: Model, command: Command): Promise<void> {
  const log = context.storage.log;
  const span = model.entries.length;
  switch (command.kind) {
    case "append": {
      if (command.newTerm) model.term += 1;
      const added: Entry[] = [];
      for (let i = 1; i <= command.count; i += 1) {
        added.push(makeEntry(lastIndex(model) + i, model.term, (command.size * i) % 3001));
      }
      await log.append(added, { sync: command.sync });
      model.entries.push(...added);
      return;
    }
    case "suffix": {
      const from = model.firstIndex + Math.floor(command.at * (span + 1));
      await log.truncateSuffix(from);
      model.entries.length = Math.min(span, from - model.firstIndex);
      return;
    }
    case "prefix": {
      const upTo = model.firstIndex - 1 + Math.floor(command.at * (span + 1)) + command.beyond;
      const term = upTo > lastIndex(model) ? model.term : termAt(model, upTo);
      await log.truncatePrefix(upTo, term);
      if (upTo < model.firstIndex) return;
      model.entries = model.entries.slice(upTo - model.firstIndex + 1);
      model.firstIndex = upTo + 1;
      model.compactedTerm = term;
      return;
    }
    case "read": {
      const lo = model.firstIndex + Math.floor(Math.min(command.from, command.to) * span);
      const hi = model.firstIndex + Math.ceil(Math.max(command.from, command.to) * span);
      const expected = entriesWithin(model.entries.slice(lo - model.firstIndex,
        hi - model.firstIndex), command.bytesMax);
      assert.deepEqual(plain(await log.entries(lo, hi, command.bytesMax)), plain(expected));
      return;
    }
    case "reopen":
      await context.reopen();
      return;
  }
}

async function checkAgainst(context: StorageContext, model: Model): Promise<void> {
  const log = context.storage.log;
  assert.equal(log.firstIndex(), model.firstIndex);
  assert.equal(log.lastIndex(), lastIndex(model));
  assert.equal(await log.term(model.firstIndex - 1), model.compactedTerm);
  assert.equal(await log.term(lastIndex(model)), termAt(model, lastIndex(model)));
}

describe("log stores against a naive model", () => {
  for (const kind of storageKinds) {
    it(`${kind}: random appends, deletions, reads and reopens match the model`, async () => {
      const backend = backendFor(kind);
      const commandLists = fc.array(arbitraryCommand, { maxLength: 30 });
      await fc.assert(fc.asyncProperty(commandLists, async (commands) => {
        const place = await backend.fresh();
        const context = new StorageContext(await place.open(), place);
        try {
          const model: Model = { entries: [], firstIndex: 1, compactedTerm: 0, term: 1 };
          for (const command of commands) {
            await run(context, model, command);
            await checkAgainst(context, model);
          }
          await context.reopen();
          await checkAgainst(context, model);
          assert.deepEqual(plain(await readAll(context.storage)), plain(model.entries));
        } finally {
          await context.storage.close();
          await place.dispose();
        }
      }), { seed, numRuns: runsByKind[kind] });
    });
  }
});
