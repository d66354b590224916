// Proves exactly-once client sessions: a repeated (clientId, sequence) returns the saved result
// without applying again, older sequences and unknown sessions past sequence 1 are rejected
// without effect, and the session table's bounds (count and bytes) evict by apply order only,
// so two replicas applying the same log keep exactly the same sessions. Saved results of every
// kind (incr, expire, sweep, a refused conditional put) replay unchanged, also after a restore.

import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../../src/errors.js";
import { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import { Sfc32 } from "../../../src/core/prng.js";
import type { ClientSession, Command } from "../../../src/kv/types.js";
import { Applier, meta, seed } from "./helpers.js";

const s = (clientId: string, sequence: number): ClientSession => ({ clientId, sequence });

test("a duplicate command returns the saved result and is not applied twice", () => {
  const a = new Applier(new KvStateMachine());
  const first = a.put("k", "v1", s("c", 1));
  a.put("k", "other"); // another client's write in between
  const again = a.put("k", "v1", s("c", 1));
  assert.equal(again, first, "the very same saved result");
  assert.deepEqual(a.sm.get("k"), { key: "k", value: "other", createIndex: 1, modIndex: 2,
    expiresAtMs: 0 });
  const incr: Command = { kind: "txn", session: s("c", 2), txn: { compare: [],
    success: [{ op: "put", key: "n", value: "x" }, { op: "get", key: "n" }], failure: [] } };
  const txnResult = a.run(incr);
  assert.equal(a.run(incr), txnResult);
  assert.equal(a.sm.get("n")?.modIndex, txnResult.index);
});

test("an older sequence is rejected as stale and changes nothing", () => {
  const a = new Applier(new KvStateMachine());
  a.put("k", "v1", s("c", 1));
  a.put("k", "v2", s("c", 2));
  const before = a.sm.stateHash();
  const result = a.put("k", "v3", s("c", 1));
  assert.equal(result.kind === "rejected" && result.code, "STALE_SEQUENCE");
  assert.equal(a.sm.stateHash(), before);
  assert.equal(a.sm.get("k")?.value, "v2");
});

test("an unknown session opens at sequence 1 only; later sequences are SESSION_EXPIRED", () => {
  const a = new Applier(new KvStateMachine());
  const result = a.put("k", "v", s("new", 7));
  assert.equal(result.kind === "rejected" && result.code, "SESSION_EXPIRED");
  assert.equal(a.sm.get("k"), undefined);
  assert.equal(a.sm.sessionCount, 0);
  assert.equal(a.put("k", "v", s("new", 1)).kind, "put");
  assert.equal(a.put("k", "w", s("new", 5)).kind, "put", "sequences may skip forward");
});

test("the table keeps the most recently used sessions, by apply order", () => {
  const a = new Applier(new KvStateMachine({ sessionsMax: 2 }));
  a.put("k", "1", s("A", 1));
  a.put("k", "2", s("B", 1));
  a.put("k", "3", s("A", 2)); // A is now the most recent
  a.put("k", "4", s("C", 1)); // evicts B, the least recently used
  assert.equal(a.sm.sessionCount, 2);
  assert.equal(a.put("k", "5", s("B", 2)).kind, "rejected", "B was evicted");
  assert.equal(a.put("k", "6", s("A", 2)).kind, "put", "A's duplicate still deduplicated");
  assert.equal(a.sm.get("k")?.value, "4");
});

test("the byte bound evicts old sessions but always keeps the newest", () => {
  const a = new Applier(new KvStateMachine({ sessionBytesMax: 4096 }));
  const big = "x".repeat(3000);
  a.put("k", big, s("A", 1));
  a.put("k", "small", s("B", 1)); // B's saved result holds `big` (6000 bytes): A goes
  assert.equal(a.sm.sessionCount, 1);
  assert.equal(a.put("k", "again", s("B", 1)).kind, "put");
  assert.equal(a.sm.get("k")?.value, "small");
  assert.throws(() => new KvStateMachine({ sessionsMax: 0 }), ConfigError);
});

test(`two replicas applying the same log keep the same sessions (seed ${seed})`, () => {
  const prng = new Sfc32(seed);
  const log: Command[] = [];
  const sequences = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const clientId = `client-${prng.nextInt(40)}`;
    const last = sequences.get(clientId) ?? 0;
    // Mostly new sequences, some duplicates and stale ones, as retries would produce.
    const roll = prng.nextInt(10);
    const sequence = roll < 7 ? last + 1 : roll < 9 ? Math.max(1, last) : Math.max(1, last - 1);
    sequences.set(clientId, Math.max(last, sequence));
    log.push({ kind: "put", key: `k${prng.nextInt(50)}`, value: `v${i}`,
      session: { clientId, sequence } });
  }
  const replicas = [new Applier(new KvStateMachine({ sessionsMax: 16 })),
    new Applier(new KvStateMachine({ sessionsMax: 16 }))];
  const results = replicas.map((r) => log.map((command) => JSON.stringify(r.run(command))));
  assert.deepEqual(results[0], results[1]);
  assert.equal(replicas[0]?.sm.stateHash(), replicas[1]?.sm.stateHash());
  assert.equal(replicas[0]?.sm.sessionCount, 16);
  const kinds = new Set(results[0]?.map((r) => (JSON.parse(r) as { kind: string }).kind));
  assert.ok(kinds.has("rejected") && kinds.has("put"), "the log exercised both paths");
});

test("duplicates of incr, expire, sweep and a refused put replay their saved results, also "
  + "after a snapshot restore", async () => {
  const a = new Applier(new KvStateMachine());
  a.run({ kind: "put", key: "k", value: "1", expiresAtMs: 50, nowMs: 0 });
  const commands: Command[] = [
    { kind: "incr", key: "n", delta: "41", session: s("c", 1), nowMs: 10 },
    { kind: "incr", key: "k", delta: "1", session: s("d", 1), nowMs: 10 },
    { kind: "put", key: "n", value: "x", condition: "absent", session: s("e", 1), nowMs: 10 },
    { kind: "expire", key: "n", expiresAtMs: 40, session: s("f", 1), nowMs: 10 },
    { kind: "sweep", keys: [{ key: "n", modIndex: 3 }, { key: "k", modIndex: 4 }],
      session: s("g", 1), nowMs: 45 },
    { kind: "incr", key: "z", delta: "1", session: s("h", 1), nowMs: 10 },
  ];
  a.run({ kind: "put", key: "z", value: "not a number" });
  const first = commands.map((command) => a.run(command));
  assert.deepEqual(first.map((r) => r.kind), ["incr", "incr", "put", "expire", "sweep", "incr"]);
  assert.deepEqual(first[4], { kind: "sweep", index: 7, deleted: 1 });
  assert.deepEqual(first[5], { kind: "incr", index: 8, value: null, error: "NOT_INTEGER" });
  const hash = a.sm.stateHash();
  const again = commands.map((command) => a.run(command));
  again.forEach((result, i) => assert.equal(result, first[i], `replay ${i}`));
  assert.equal(a.sm.stateHash(), hash, "replays changed nothing");
  const b = new Applier(new KvStateMachine(), a.index);
  await b.sm.restore(a.sm.snapshot(), meta(a.index));
  commands.forEach((command, i) => assert.deepEqual(b.run(command), first[i], `restored ${i}`));
  assert.equal(b.sm.stateHash(), hash);
});
