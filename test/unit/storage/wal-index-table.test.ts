// Proves the WAL's in-memory index (index-table.ts) against a plain array model: a seeded random
// run of single pushes, whole runs pushed at once (pushRun), prefix drops and suffix cuts, with
// every lookup compared after each step. With chunks of 64 entries every kind of step crosses
// chunk edges many times (runs spanning several chunks, drops emptying chunks, cuts releasing
// them); with the default chunk size the log also grows past one chunk.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Entry, EntryType } from "../../../src/core/types.js";
import { seededRandom } from "../../../src/random.js";
import { defaultChunkEntries, IndexTable } from "../../../src/storage/wal/index-table.js";

const headerBytes = 16;

interface Row {
  readonly term: number;
  readonly offset: number;
  readonly recordStart: number;
  readonly dataBytes: number;
}

function entry(term: number, index: number, dataBytes: number): Entry {
  return { term, index, type: EntryType.Normal, data: new Uint8Array(dataBytes) };
}

function check(table: IndexTable, base: number, rows: readonly Row[], step: number): void {
  assert.equal(table.firstIndex, base, `step ${step}: firstIndex`);
  assert.equal(table.lastIndex, base + rows.length - 1, `step ${step}: lastIndex`);
  rows.forEach((row, i) => {
    const index = base + i;
    const found = { term: table.term(index), offset: table.offset(index),
      recordStart: table.recordStart(index), dataBytes: table.dataBytes(index) };
    if (found.term !== row.term || found.offset !== row.offset ||
      found.recordStart !== row.recordStart || found.dataBytes !== row.dataBytes) {
      assert.deepEqual(found, row, `step ${step}: index ${index}`);
    }
  });
}

function modelRun(seed: number, chunkEntries: number, steps: number): number {
  const random = seededRandom(seed);
  const pick = (n: number) => Math.floor(random() * n);
  let base = 1;
  let rows: Row[] = [];
  const table = new IndexTable(base, chunkEntries);
  let term = 1;
  let offset = 32;
  let grown = 0;
  for (let step = 0; step < steps; step += 1) {
    const choice = random();
    if (choice < 0.45) {
      // A record of several entries at once, as the WAL indexes a write.
      const count = 1 + pick(300);
      const recordStart = offset;
      const start = offset + 24;
      const entries = Array.from({ length: count + 2 }, (_, k) => entry(term, k, pick(40)));
      const end = table.pushRun(entries, 1, count, headerBytes, start, recordStart);
      let position = start;
      for (const e of entries.slice(1, 1 + count)) {
        rows.push({ term, offset: position, recordStart, dataBytes: e.data.length });
        position += headerBytes + e.data.length;
      }
      assert.equal(end, position, `step ${step}: end of the run`);
      offset = end;
      grown += count;
    } else if (choice < 0.65) {
      const dataBytes = pick(40);
      const recordStart = offset - pick(10);
      table.push(term, offset, recordStart, dataBytes);
      rows.push({ term, offset, recordStart, dataBytes });
      offset += headerBytes + dataBytes;
      grown += 1;
    } else if (choice < 0.8 && rows.length > 0) {
      // A compaction: drop a prefix, sometimes everything (and past the end).
      const upTo = base + pick(rows.length + 2);
      table.dropBefore(upTo);
      rows = upTo - base >= rows.length ? [] : rows.slice(upTo - base);
      base = upTo;
    } else if (choice < 0.9 && rows.length > 0) {
      const from = base + pick(rows.length + 1);
      table.truncateFrom(from);
      rows = rows.slice(0, from - base);
      term += 1;
    } else {
      term += 1;
    }
    check(table, base, rows, step);
  }
  return grown;
}

describe("WAL index table", () => {
  it("matches a plain array model, in chunks of 64 entries", () => {
    for (const seed of [20261127, 7, 42]) modelRun(seed, 64, 1500);
  });

  it("matches a plain array model, in default chunks", () => {
    const grown = modelRun(20261128, defaultChunkEntries, 5000);
    assert.ok(grown > 2 * defaultChunkEntries, `only ${grown} entries pushed`);
  });

  it("refuses a chunk size that is not a power of two", () => {
    assert.throws(() => new IndexTable(1, 100), /chunk of 100 entries/);
    assert.throws(() => new IndexTable(1, 0), /chunk of 0 entries/);
  });
});
