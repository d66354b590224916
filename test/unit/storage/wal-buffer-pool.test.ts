import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BufferPool } from "../../../src/storage/wal/buffer-pool.js";

describe("WAL run buffer pool", () => {
  it("reuses a buffer given back, for any size it can hold", () => {
    const pool = new BufferPool(4, 256 * 1024);
    const first = pool.take(70_000);
    assert.equal(first.length, 70_000);
    first.fill(7);
    pool.give(first);
    assert.equal(pool.kept, 1);
    const second = pool.take(60_000);
    assert.equal(second.length, 60_000);
    assert.equal(second.buffer, first.buffer, "the same memory again");
    assert.equal(pool.kept, 0);
    const third = pool.take(60_000);
    assert.notEqual(third.buffer, first.buffer, "a buffer handed out is not handed out twice");
  });

  it("ignores a buffer given back twice, or one it never made", () => {
    const pool = new BufferPool(4, 256 * 1024);
    const buffer = pool.take(8192);
    pool.give(buffer);
    pool.give(buffer);
    assert.equal(pool.kept, 1);
    pool.give(Buffer.alloc(8192));
    assert.equal(pool.kept, 1);
    const a = pool.take(8192);
    const b = pool.take(8192);
    assert.notEqual(a.buffer, b.buffer);
  });

  it("keeps at most keepMax buffers, and never pools small or oversized ones", () => {
    const pool = new BufferPool(2, 256 * 1024);
    const taken = [pool.take(5000), pool.take(5000), pool.take(5000)];
    for (const buffer of taken) pool.give(buffer);
    assert.equal(pool.kept, 2);
    const small = pool.take(100);
    const large = pool.take(300 * 1024);
    assert.equal(small.length, 100);
    assert.equal(large.length, 300 * 1024);
    pool.give(small);
    pool.give(large);
    assert.equal(pool.kept, 2);
  });
});
