// Proves group commit in the LMDB and LevelDB log store (engine-log-store.ts) on an in-memory
// engine whose writes can be held open or made to fail: appends issued while a write is in
// flight share the next engine write, synced when any of them asked, and each resolves only
// after the write holding it; a truncation issued between appends applies in call order; an
// empty synced append makes earlier unsynced writes durable; a failed write rejects its group
// and every append behind it, and stops the store. Everything is deterministic.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Entry } from "../../../src/core/types.js";
import { makeEntries, plain } from "../../../src/storage/conformance/fixtures.js";
import { EngineLogStore } from "../../../src/storage/engine/engine-log-store.js";
import type { KvEngine, KvOperation, KvPair } from "../../../src/storage/engine/kv-engine.js";
import { StorageFailedError } from "../../../src/storage/errors.js";

interface Write {
  readonly puts: number;
  readonly dels: number;
  readonly sync: boolean;
}

/** A sorted in-memory engine. `hold()` keeps the next write open until released. */
class TestEngine implements KvEngine {
  readonly location = "test-engine";
  readonly writes: Write[] = [];
  private readonly data = new Map<string, Buffer>();
  private gate: Promise<void> | null = null;
  private failNext = false;

  hold(): () => void {
    let release = (): void => undefined;
    this.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.gate = null;
      release();
    };
  }

  failNextWrite(): void {
    this.failNext = true;
  }

  async get(key: Buffer): Promise<Uint8Array | undefined> {
    return this.data.get(key.toString("hex"));
  }

  async range(lo: Buffer, hi: Buffer, limit: number): Promise<KvPair[]> {
    return this.sorted(lo, hi).slice(0, limit);
  }

  async lastKey(lo: Buffer, hi: Buffer): Promise<Uint8Array | undefined> {
    return this.sorted(lo, hi).at(-1)?.key;
  }

  async write(operations: readonly KvOperation[], sync: boolean): Promise<void> {
    const gate = this.gate;
    if (gate !== null) await gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("EIO: injected write failure");
    }
    const puts = operations.filter((op) => op.type === "put").length;
    this.writes.push({ puts, dels: operations.length - puts, sync });
    for (const op of operations) {
      if (op.type === "put") this.data.set(op.key.toString("hex"), Buffer.from(op.value));
      else this.data.delete(op.key.toString("hex"));
    }
  }

  async clearRange(lo: Buffer, hi: Buffer): Promise<void> {
    for (const { key } of this.sorted(lo, hi)) this.data.delete(Buffer.from(key).toString("hex"));
  }

  async close(): Promise<void> {}

  private sorted(lo: Buffer, hi: Buffer): KvPair[] {
    return [...this.data.entries()]
      .map(([hex, value]) => ({ key: Buffer.from(hex, "hex"), value }))
      .filter(({ key }) => Buffer.compare(key, lo) >= 0 && Buffer.compare(key, hi) < 0)
      .sort((a, b) => Buffer.compare(a.key, b.key));
  }
}

/** Lets every pending promise callback and setImmediate turn run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

async function all(store: EngineLogStore): Promise<Entry[]> {
  return store.entries(store.firstIndex(), store.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
}

describe("engine log store group commit", () => {
  it("appends made during a write share the next one, synced if any asked", async () => {
    const engine = new TestEngine();
    const store = await EngineLogStore.open(engine, 1 << 20);
    const release = engine.hold();
    const first = store.append(makeEntries(1, 2, 1), { sync: true });
    await settle();
    const done: number[] = [];
    const later = [
      store.append(makeEntries(3, 3, 1), { sync: false }),
      store.append(makeEntries(4, 6, 1), { sync: true }),
      store.append(makeEntries(7, 7, 1), { sync: false }),
    ].map((append, i) => append.then(() => done.push(i)));
    await settle();
    assert.deepEqual(done, [], "nothing resolves while the first write is held");
    assert.equal(store.lastIndex(), 0, "lastIndex counts written entries only");
    release();
    await first;
    await Promise.all(later);
    assert.deepEqual(done, [0, 1, 2], "appends resolve in call order");
    assert.deepEqual(engine.writes, [
      { puts: 2, dels: 0, sync: true },
      { puts: 5, dels: 0, sync: true },
    ]);
    assert.equal(store.lastIndex(), 7);
    assert.deepEqual(plain(await all(store)), plain(makeEntries(1, 7, 1)));
    await store.close();
  });

  it("a sequential caller gets one write per append, unsynced when it asks so", async () => {
    const engine = new TestEngine();
    const store = await EngineLogStore.open(engine, 1 << 20);
    await store.append(makeEntries(1, 1, 1), { sync: false });
    await store.append(makeEntries(2, 3, 1), { sync: true });
    // An empty synced append after an unsynced write syncs it (a marker key, synced).
    await store.append(makeEntries(4, 4, 1), { sync: false });
    await store.append([], { sync: true });
    await store.append([], { sync: true });
    assert.deepEqual(engine.writes, [
      { puts: 1, dels: 0, sync: false },
      { puts: 2, dels: 0, sync: true },
      { puts: 1, dels: 0, sync: false },
      { puts: 1, dels: 0, sync: true },
    ]);
    await store.close();
  });

  it("a truncation between appends waits for the earlier ones and applies in order", async () => {
    const engine = new TestEngine();
    const store = await EngineLogStore.open(engine, 1 << 20);
    await store.append(makeEntries(1, 3, 1), { sync: true });
    const release = engine.hold();
    const a = store.append(makeEntries(4, 6, 1), { sync: true });
    const cut = store.truncateSuffix(5);
    const b = store.append(makeEntries(5, 5, 2), { sync: true });
    await settle();
    release();
    await Promise.all([a, cut, b]);
    assert.deepEqual(plain(await all(store)),
      plain([...makeEntries(1, 4, 1), ...makeEntries(5, 5, 2)]));
    assert.equal(await store.term(5), 2);
    // A conflicting append is checked against accepted entries, written or not.
    await assert.rejects(store.append(makeEntries(7, 7, 2), { sync: true }), /gap|7/i);
    await store.close();
  });

  it("a failed write rejects its group and the appends behind it, and stops the store",
    async () => {
      const engine = new TestEngine();
      const store = await EngineLogStore.open(engine, 1 << 20);
      await store.append(makeEntries(1, 1, 1), { sync: true });
      const release = engine.hold();
      engine.failNextWrite();
      const failing = store.append(makeEntries(2, 2, 1), { sync: true });
      await settle();
      const behind = store.append(makeEntries(3, 3, 1), { sync: true });
      await settle();
      release();
      // Every call names the engine's error, the later ones too.
      const stopped = (error: unknown): boolean => {
        assert.ok(error instanceof StorageFailedError, String(error));
        assert.match(error.message, /has stopped: EIO: injected write failure$/);
        return true;
      };
      for (const append of [failing, behind]) await assert.rejects(append, stopped);
      await assert.rejects(store.append(makeEntries(2, 2, 1), { sync: true }), stopped);
      await assert.rejects(store.term(1), stopped);
      await assert.rejects(store.truncateSuffix(1), stopped);
      assert.equal(store.lastIndex(), 1, "nothing of the failed group counts as written");
      await store.close();
    });
});
