// The LogStore half of the conformance suite: every backend must pass these same assertions.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { entryBytes } from "../../core/types.js";
import {
  EntryTooLargeError,
  LogCompactedError,
  LogGapError,
  LogUnavailableError,
  StorageClosedError,
} from "../errors.js";
import { makeEntries, makeEntry, plain, readAll, seededRandom } from "./fixtures.js";
import { type ConformanceBackend, backendLabel, withStorage } from "./harness.js";

export function describeLogConformance(backend: ConformanceBackend): void {
  describe(`${backendLabel(backend)} log store`, () => {
    it("an empty store has first index 1, last index 0 and term 0 at index 0", () =>
      withStorage(backend, async (context) => {
        for (let round = 0; round < 2; round += 1) {
          const log = context.storage.log;
          assert.equal(log.firstIndex(), 1);
          assert.equal(log.lastIndex(), 0);
          assert.equal(await log.term(0), 0);
          assert.deepEqual(await log.entries(1, 1, 100), []);
          await assert.rejects(log.term(1), LogUnavailableError);
          await context.reopen();
        }
      }));

    it("appended entries read back identical, before and after a reopen", () =>
      withStorage(backend, async (context) => {
        const entries = [...makeEntries(1, 10, 1), ...makeEntries(11, 25, 2, 300)];
        await context.storage.log.append(entries.slice(0, 10), { sync: true });
        await context.storage.log.append(entries.slice(10), { sync: false });
        assert.deepEqual(plain(await readAll(context.storage)), plain(entries));
        const log = (await context.reopen()).log;
        assert.equal(log.firstIndex(), 1);
        assert.equal(log.lastIndex(), 25);
        assert.deepEqual(plain(await readAll(context.storage)), plain(entries));
        assert.equal(await log.term(10), 1);
        assert.equal(await log.term(11), 2);
        assert.deepEqual(plain(await log.entries(5, 8, 1e9)), plain(entries.slice(4, 7)));
      }));

    it("an append that does not start at lastIndex + 1 is rejected and changes nothing", () =>
      withStorage(backend, async (context) => {
        const log = context.storage.log;
        await log.append(makeEntries(1, 5, 1), { sync: true });
        await assert.rejects(log.append(makeEntries(7, 8, 1), { sync: true }), LogGapError);
        await assert.rejects(log.append(makeEntries(5, 6, 2), { sync: true }), LogGapError);
        const broken = [makeEntry(6, 1), makeEntry(8, 1)];
        await assert.rejects(log.append(broken, { sync: true }), LogGapError);
        assert.equal(log.lastIndex(), 5);
        assert.equal((await context.reopen()).log.lastIndex(), 5);
        assert.deepEqual(plain(await readAll(context.storage)), plain(makeEntries(1, 5, 1)));
      }));

    it("a store holding a single entry reopens with it", () =>
      withStorage(backend, async (context) => {
        await context.storage.log.append([makeEntry(1, 1, 0)], { sync: false });
        assert.equal((await context.reopen()).log.lastIndex(), 1);
        assert.deepEqual(plain(await readAll(context.storage)), plain([makeEntry(1, 1, 0)]));
      }));

    it("an empty synced append changes nothing", () =>
      withStorage(backend, async (context) => {
        await context.storage.log.append(makeEntries(1, 3, 1), { sync: false });
        await context.storage.log.append([], { sync: true });
        assert.equal(context.storage.log.lastIndex(), 3);
        assert.equal((await context.reopen()).log.lastIndex(), 3);
      }));

    describeReads(backend);
    describeTruncation(backend);
    describeCompactionEdges(backend);
  });
}

function describeReads(backend: ConformanceBackend): void {
  it("a read with a byte limit stops at the limit but returns at least one entry", () =>
    withStorage(backend, async (context) => {
      const entries = makeEntries(1, 20, 1, 100);
      const log = context.storage.log;
      await log.append(entries, { sync: true });
      const each = entryBytes(makeEntry(1, 1, 100));
      assert.equal((await log.entries(1, 21, 0)).length, 1);
      assert.equal((await log.entries(1, 21, each - 1)).length, 1);
      assert.equal((await log.entries(1, 21, each * 3)).length, 3);
      assert.equal((await log.entries(1, 21, each * 3 + each - 1)).length, 3);
      assert.deepEqual(plain(await log.entries(4, 21, each * 5)), plain(entries.slice(3, 8)));
      assert.equal((await log.entries(1, 21, Number.MAX_SAFE_INTEGER)).length, 20);
    }));

  it("reads outside the stored range are typed errors", () =>
    withStorage(backend, async (context) => {
      const log = context.storage.log;
      await log.append(makeEntries(1, 10, 1), { sync: true });
      await log.truncatePrefix(4, 1);
      await assert.rejects(log.entries(4, 6, 1e9), LogCompactedError);
      await assert.rejects(log.entries(5, 12, 1e9), LogUnavailableError);
      await assert.rejects(log.term(3), LogCompactedError);
      await assert.rejects(log.term(11), LogUnavailableError);
    }));

  it("an entry larger than entryBytesMax is rejected", () =>
    withStorage(backend, async (context) => {
      const log = context.storage.log;
      await log.append([makeEntry(1, 1, 1000)], { sync: true });
      await assert.rejects(log.append([makeEntry(2, 1, 1001)], { sync: true }),
        EntryTooLargeError);
      assert.equal(log.lastIndex(), 1);
    }, { entryBytesMax: 1000 }));

  it("entries larger than a WAL segment round-trip among small ones", () =>
    withStorage(backend, async (context) => {
      const sizes = [10, 20_000, 5, 70_000, 0, 3, 20_000, 8];
      const entries = sizes.map((size, position) => makeEntry(position + 1, 1, size));
      for (const entry of entries) await context.storage.log.append([entry], { sync: true });
      assert.deepEqual(plain(await readAll(context.storage)), plain(entries));
      await context.reopen();
      assert.deepEqual(plain(await readAll(context.storage)), plain(entries));
      assert.equal((await context.storage.log.entries(2, 9, 1)).length, 1);
    }));

  it("reads spanning many segments return exactly what was written", () =>
    withStorage(backend, async (context) => {
      const random = seededRandom(7);
      const entries = [];
      for (let index = 1; index <= 400; index += 1) {
        entries.push(makeEntry(index, 1 + Math.floor(index / 50), Math.floor(random() * 600)));
      }
      for (let from = 0; from < entries.length; from += 13) {
        const batch = entries.slice(from, from + 13);
        await context.storage.log.append(batch, { sync: from % 2 === 0 });
      }
      await context.reopen();
      const log = context.storage.log;
      assert.deepEqual(plain(await log.entries(1, 401, 1e12)), plain(entries));
      assert.deepEqual(plain(await log.entries(97, 311, 1e12)), plain(entries.slice(96, 310)));
      for (const index of [1, 49, 50, 200, 400]) {
        assert.equal(await log.term(index), 1 + Math.floor(index / 50));
      }
    }));

}

function describeTruncation(backend: ConformanceBackend): void {
  it("a deleted suffix is gone, stays gone after reopen, and can be rewritten", () =>
    withStorage(backend, async (context) => {
      const log = context.storage.log;
      await log.append(makeEntries(1, 30, 1, 200), { sync: true });
      await log.truncateSuffix(12);
      assert.equal(log.lastIndex(), 11);
      await assert.rejects(log.term(12), LogUnavailableError);
      await log.append(makeEntries(12, 14, 3), { sync: true });
      await context.reopen();
      const expected = [...makeEntries(1, 11, 1, 200), ...makeEntries(12, 14, 3)];
      assert.deepEqual(plain(await readAll(context.storage)), plain(expected));
      assert.equal(await context.storage.log.term(14), 3);
    }));

  it("deleting every entry leaves an empty store that takes the next append at 1", () =>
    withStorage(backend, async (context) => {
      await context.storage.log.append(makeEntries(1, 40, 2, 200), { sync: true });
      await context.storage.log.truncateSuffix(1);
      assert.equal(context.storage.log.lastIndex(), 0);
      assert.equal((await context.reopen()).log.lastIndex(), 0);
      assert.equal(await context.storage.log.term(0), 0);
      await context.storage.log.append(makeEntries(1, 2, 5), { sync: true });
      assert.deepEqual(plain(await readAll(context.storage)), plain(makeEntries(1, 2, 5)));
    }));

  it("a deleted prefix moves the first index and keeps the term at the compaction point", () =>
    withStorage(backend, async (context) => {
      const entries = [...makeEntries(1, 20, 1, 300), ...makeEntries(21, 40, 2, 300)];
      await context.storage.log.append(entries, { sync: true });
      await context.storage.log.truncatePrefix(25, 2);
      for (let round = 0; round < 2; round += 1) {
        const log = context.storage.log;
        assert.equal(log.firstIndex(), 26);
        assert.equal(log.lastIndex(), 40);
        assert.equal(await log.term(25), 2);
        await assert.rejects(log.term(24), LogCompactedError);
        assert.deepEqual(plain(await readAll(context.storage)), plain(entries.slice(25)));
        await context.reopen();
      }
      await context.storage.log.truncatePrefix(20, 1);
      assert.equal(context.storage.log.firstIndex(), 26);
    }));

  it("after deleting a prefix past the last entry the store takes the next append there", () =>
    withStorage(backend, async (context) => {
      await context.storage.log.append(makeEntries(1, 10, 1, 500), { sync: true });
      await context.storage.log.truncatePrefix(100, 4);
      for (let round = 0; round < 2; round += 1) {
        const log = context.storage.log;
        assert.equal(log.firstIndex(), 101);
        assert.equal(log.lastIndex(), 100);
        assert.equal(await log.term(100), 4);
        assert.deepEqual(await log.entries(101, 101, 10), []);
        await context.reopen();
      }
      const log = context.storage.log;
      await assert.rejects(log.append(makeEntries(11, 11, 4), { sync: true }), LogGapError);
      await assert.rejects(log.append(makeEntries(102, 102, 4), { sync: true }), LogGapError);
      await log.append(makeEntries(101, 103, 4), { sync: true });
      await context.reopen();
      assert.deepEqual(plain(await readAll(context.storage)), plain(makeEntries(101, 103, 4)));
      await context.storage.log.truncateSuffix(101);
      assert.equal(await context.storage.log.term(100), 4);
    }));

}

function describeCompactionEdges(backend: ConformanceBackend): void {
  it("a prefix deletion at exactly the last entry empties the store", () =>
    withStorage(backend, async (context) => {
      await context.storage.log.append(makeEntries(1, 8, 3), { sync: true });
      await context.storage.log.truncatePrefix(8, 3);
      await context.reopen();
      assert.equal(context.storage.log.firstIndex(), 9);
      assert.equal(context.storage.log.lastIndex(), 8);
      assert.equal(await context.storage.log.term(8), 3);
      await context.storage.log.append(makeEntries(9, 9, 3), { sync: true });
      assert.equal(context.storage.log.lastIndex(), 9);
    }));

  it("calls after close are rejected with StorageClosedError", () =>
    withStorage(backend, async (context) => {
      const log = context.storage.log;
      await context.storage.close();
      await assert.rejects(log.append(makeEntries(1, 1, 1), { sync: true }), StorageClosedError);
      await assert.rejects(log.entries(1, 1, 10), StorageClosedError);
      await context.reopen();
    }));
}
