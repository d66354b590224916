// Proves the os-crash nemesis's damage: a member's LMDB state spoiled by spoilState is discarded
// on the next open (nothing of it is read), and a member with no such state is left alone.

import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeCommand } from "../../src/kv/command.js";
import { LmdbKvStateMachine } from "../../src/kv/lmdb-state-machine.js";
import { spoilState } from "./os-crash.js";

test("a spoiled LMDB state is discarded on open; no state, nothing done", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "raft-store-os-crash-"));
  try {
    assert.equal(await spoilState(dataDir), "no LMDB state written through its map");
    assert.deepEqual(await readdir(dataDir), []);
    const sm = await LmdbKvStateMachine.open(join(dataDir, "kv"));
    sm.apply({ index: 1, term: 1, data: encodeCommand({ kind: "put", key: "k", value: "v" }) });
    await sm.close();
    assert.equal(await spoilState(dataDir), "LMDB state spoiled");
    const reopened = await LmdbKvStateMachine.open(join(dataDir, "kv"));
    assert.notEqual(reopened.discardedOnOpen, null);
    assert.equal(reopened.appliedIndex(), 0);
    assert.equal(reopened.get("k"), undefined);
    await reopened.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
