// Proves the reads on every state machine: get and range hide records expired at the given
// clock (and only then), range pages with `after` (strictly greater keys, still within the
// prefix) without counting expired keys toward the limit; expiredKeys returns the soonest
// expiries first, ties in key order, at most `max`, and stays equal to a naive scan of the
// records after every apply of a seeded random workload and after a snapshot restore.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Sfc32 } from "../../../src/core/prng.js";
import { compareKeys } from "../../../src/kv/keys.js";
import { InvalidReadError } from "../../../src/kv/errors.js";
import type { KvStore } from "../../../src/kv/kv-store.js";
import type { Command, SweepKey } from "../../../src/kv/types.js";
import { Applier, meta, seed } from "./helpers.js";
import { removeStoreDirs, storeKinds } from "./stores.js";

after(removeStoreDirs);

/** The expired keys by a full scan: what the expiry index must agree with. */
function naiveExpired(sm: KvStore, nowMs: number): SweepKey[] {
  const all = sm.range("", 1_000_000).records;
  return all.filter((r) => r.expiresAtMs > 0 && r.expiresAtMs <= nowMs)
    .sort((x, y) => x.expiresAtMs - y.expiresAtMs || compareKeys(x.key, y.key))
    .map((r) => ({ key: r.key, modIndex: r.modIndex }));
}

/** A seeded mix of every command, with a clock that moves forward. */
function randomCommand(prng: Sfc32, nowMs: number): Command {
  const key = () => `k${prng.nextInt(40)}${prng.nextInt(5) === 0 ? "\u{1F600}" : ""}`;
  const ttl = () => nowMs + prng.nextInt(200);
  switch (prng.nextInt(8)) {
    case 0:
      return { kind: "put", key: key(), value: `${prng.nextInt(100)}`, expiresAtMs: ttl() };
    case 1:
      return { kind: "put", key: key(), value: "p", keepTtl: true, condition: "present" };
    case 2:
      return { kind: "put", key: key(), value: "a", condition: "absent" };
    case 3:
      return { kind: "incr", key: key(), delta: `${prng.nextInt(9) - 4}` };
    case 4:
      return { kind: "expire", key: key(), expiresAtMs: prng.nextInt(3) === 0 ? 0 : ttl() };
    case 5:
      return { kind: "delete", key: key() };
    case 6:
      return { kind: "txn", txn: { compare: [{ target: "absent", key: key() }],
        success: [{ op: "put", key: key(), value: "t" }], failure: [{ op: "get", key: key() }] } };
    default:
      return { kind: "sweep", keys: [{ key: key(), modIndex: 1 + prng.nextInt(20) }],
        nowMs };
  }
}

for (const kind of storeKinds) {
  describe(`${kind.name}: reads`, () => {
    test("get and range hide expired records only when given a clock", async () => {
      const a = new Applier(await kind.open());
      a.nowMs = 0;
      a.run({ kind: "put", key: "a/1", value: "1", expiresAtMs: 100 });
      a.put("a/2", "2");
      a.run({ kind: "put", key: "a/3", value: "3", expiresAtMs: 300 });
      const keys = (nowMs?: number) => a.sm.range("a/", 10, nowMs === undefined ? {} : { nowMs })
        .records.map((r) => r.key);
      assert.deepEqual(keys(), ["a/1", "a/2", "a/3"]);
      assert.deepEqual(keys(99), ["a/1", "a/2", "a/3"]);
      assert.deepEqual(keys(100), ["a/2", "a/3"]);
      assert.deepEqual(keys(300), ["a/2"]);
      assert.equal(a.sm.get("a/1", 100), undefined);
      assert.equal(a.sm.get("a/1", 99)?.value, "1");
      assert.equal(a.sm.get("a/1")?.value, "1");
      assert.deepEqual(a.sm.range("a/", 1, { nowMs: 100 }),
        { records: [a.sm.get("a/2")], more: true });
      assert.deepEqual(a.sm.range("a/", 1, { nowMs: 300 }),
        { records: [a.sm.get("a/2")], more: false }, "an expired key is not 'more'");
      await a.sm.close();
    });

    test("range pages with after: strictly greater keys, still within the prefix", async () => {
      const a = new Applier(await kind.open());
      for (const key of ["a", "b/1", "b/2", "b/3", "b/\u{1F600}", "b\uFFFF", "c"]) a.put(key, key);
      const page = (prefix: string, limit: number, after?: string) =>
        a.sm.range(prefix, limit, after === undefined ? {} : { after }).records.map((r) => r.key);
      assert.deepEqual(page("b/", 2, "b/1"), ["b/2", "b/3"]);
      assert.deepEqual(page("b/", 10, "b/3"), ["b/\u{1F600}"]);
      assert.deepEqual(page("b/", 10, "b/\u{1F600}"), []);
      assert.deepEqual(page("b/", 10, "a"), ["b/1", "b/2", "b/3", "b/\u{1F600}"], "after < prefix");
      assert.deepEqual(page("b/", 10, "b/"), ["b/1", "b/2", "b/3", "b/\u{1F600}"]);
      assert.deepEqual(page("b/", 10, "c"), [], "after beyond the prefix");
      assert.deepEqual(page("", 3, "b/2"), ["b/3", "b/\u{1F600}", "b\uFFFF"]);
      assert.deepEqual(page("", 10, "b/25"), ["b/3", "b/\u{1F600}", "b\uFFFF", "c"],
        "after need not be a stored key");
      assert.throws(() => a.sm.range("", 0), InvalidReadError);
      await a.sm.close();
    });

    test("expiredKeys: soonest first, ties in key order, at most max", async () => {
      const a = new Applier(await kind.open());
      a.nowMs = 0;
      const expiries: [string, number][] = [["e", 50], ["d", 20], ["c", 20], ["\u{1F600}", 20],
        ["\uFFFF", 20], ["b", 10], ["later", 5000]];
      for (const [key, expiresAtMs] of expiries) {
        a.run({ kind: "put", key, value: "v", expiresAtMs });
      }
      a.put("forever", "v");
      const keys = (nowMs: number, max: number) =>
        a.sm.expiredKeys(nowMs, max).map((k) => k.key);
      assert.deepEqual(keys(100, 10), ["b", "c", "d", "\uFFFF", "\u{1F600}", "e"]);
      assert.deepEqual(keys(100, 2), ["b", "c"]);
      assert.deepEqual(keys(19, 10), ["b"]);
      assert.deepEqual(keys(9, 10), []);
      assert.deepEqual(a.sm.expiredKeys(10, 1), [{ key: "b", modIndex: 6 }]);
      a.run({ kind: "expire", key: "b", expiresAtMs: 0 });
      a.run({ kind: "put", key: "c", value: "w" });
      assert.deepEqual(keys(100, 10), ["d", "\uFFFF", "\u{1F600}", "e"]);
      assert.throws(() => a.sm.expiredKeys(100, 0), InvalidReadError);
      assert.throws(() => a.sm.expiredKeys(-1, 1), InvalidReadError);
      await a.sm.close();
    });

    test(`expiredKeys equals a naive scan after every apply and a restore (seed ${seed})`,
      async () => {
        const prng = new Sfc32(seed);
        const a = new Applier(await kind.open());
        let nowMs = 1000;
        let seen = 0;
        for (let i = 0; i < 1500; i++) {
          nowMs += prng.nextInt(20);
          a.nowMs = nowMs;
          a.run(randomCommand(prng, nowMs));
          const probe = nowMs + prng.nextInt(100) - 50;
          const expired = a.sm.expiredKeys(probe, 1000);
          assert.deepEqual(expired, naiveExpired(a.sm, probe), `after command ${i} at ${probe}`);
          seen += expired.length;
        }
        assert.ok(seen > 1500, `the workload left expired keys around (${seen} seen)`);
        const copy = await kind.open();
        await copy.restore(a.sm.snapshot(), meta(a.index));
        for (const probe of [0, nowMs - 100, nowMs, nowMs + 1000]) {
          assert.deepEqual(copy.expiredKeys(probe, 1000), a.sm.expiredKeys(probe, 1000));
        }
        assert.equal(copy.stateHash(), a.sm.stateHash());
        await a.sm.close();
        await copy.close();
      });
  });
}
