// Proves when the LMDB state machine trusts the environment it finds (lmdb-writemap.ts): it
// writes through the memory map, so after an OS restart with writes not yet flushed its data
// may be corrupt. A session marks the directory dirty with the kernel's boot id before writing
// and clean after close() flushed; a reopen keeps the state when the marker is clean or names
// this boot (a process crash), and deletes it when the marker names another boot or cannot be
// parsed, even when the data file is garbage by then (as an OS crash can leave it). Opening
// without the map (writeMap false) checks the same marker, then removes it.

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { LmdbKvStateMachine } from "../../../src/kv/lmdb-state-machine.js";
import { markerFile, readBootId } from "../../../src/kv/lmdb-writemap.js";
import { Applier } from "./helpers.js";
import { removeStoreDirs, storeDir } from "./stores.js";

after(removeStoreDirs);

const header = "raft-store lmdb writemap v1";
const otherBoot = "00000000-0000-4000-8000-000000000000";

/** A directory holding a closed state machine with two keys applied (index 2). */
async function written(): Promise<{ dir: string; hash: string }> {
  const dir = storeDir();
  const a = new Applier(await LmdbKvStateMachine.open(dir), 0);
  a.run({ kind: "put", key: "k1", value: "v1" });
  a.run({ kind: "put", key: "k2", value: "v2" });
  const hash = a.sm.stateHash();
  await a.sm.close();
  return { dir, hash };
}

const marker = (dir: string): Promise<string> => readFile(join(dir, markerFile), "utf8");
const setMarker = (dir: string, text: string): Promise<void> =>
  writeFile(join(dir, markerFile), text);

describe("LMDB state machine written through its memory map", async () => {
  const bootId = await readBootId();

  test("this machine has a boot id, so the map is used", () => {
    assert.ok(bootId !== null, "no /proc/sys/kernel/random/boot_id");
  });

  test("a session marks the directory dirty with this boot, and clean once closed", async () => {
    const dir = storeDir();
    const sm = await LmdbKvStateMachine.open(dir);
    assert.equal(await marker(dir), `${header}\ndirty ${bootId}\n`);
    await sm.close();
    assert.equal(await marker(dir), `${header}\nclean\n`);
  });

  for (const [name, state] of [
    ["clean", "clean"],
    ["dirty of this boot (the process died, the OS did not)", `dirty ${bootId}`],
  ] as const) {
    test(`a marker ${name} keeps the state`, async () => {
      const { dir, hash } = await written();
      await setMarker(dir, `${header}\n${state}\n`);
      const sm = await LmdbKvStateMachine.open(dir);
      assert.equal(sm.discardedOnOpen, null);
      assert.equal(sm.appliedIndex(), 2);
      assert.equal(sm.stateHash(), hash);
      await sm.close();
    });
  }

  test("a dirty marker of another boot deletes the state, even a garbage data file",
    async () => {
      const { dir } = await written();
      await setMarker(dir, `${header}\ndirty ${otherBoot}\n`);
      // What an OS crash can leave: pages never written, the meta pages among them.
      await writeFile(join(dir, "data.mdb"), Buffer.alloc(64 * 1024, 0xa5));
      const sm = await LmdbKvStateMachine.open(dir);
      assert.match(sm.discardedOnOpen ?? "", /OS restarted \(boot 00000000-/);
      assert.equal(sm.appliedIndex(), 0);
      assert.equal(sm.size, 0);
      assert.equal(sm.get("k1"), undefined);
      assert.equal(await marker(dir), `${header}\ndirty ${bootId}\n`);
      await sm.close();
    });

  for (const [name, text] of [
    ["empty", ""],
    ["truncated", `${header}\ndir`],
    ["of an unknown version", `raft-store lmdb writemap v9\nclean\n`],
    ["with a bad boot id", `${header}\ndirty not/a/boot/id\n`],
    ["with a line too many", `${header}\nclean\nclean\n`],
  ] as const) {
    test(`a marker ${name} deletes the state`, async () => {
      const { dir } = await written();
      await setMarker(dir, text);
      const sm = await LmdbKvStateMachine.open(dir);
      assert.match(sm.discardedOnOpen ?? "", /is not a marker this version wrote/);
      assert.equal(sm.appliedIndex(), 0);
      await sm.close();
    });
  }

  test("without the map: the marker is checked the same way, then removed", async () => {
    const kept = await written();
    const a = await LmdbKvStateMachine.open(kept.dir, { writeMap: false });
    assert.equal(a.discardedOnOpen, null);
    assert.equal(a.stateHash(), kept.hash);
    await assert.rejects(marker(kept.dir), { code: "ENOENT" });
    await a.close();
    await assert.rejects(marker(kept.dir), { code: "ENOENT" }, "no marker after close either");
    // No marker: written without the map, trusted as such, also when reopened with it.
    const b = await LmdbKvStateMachine.open(kept.dir);
    assert.equal(b.discardedOnOpen, null);
    assert.equal(b.stateHash(), kept.hash);
    await b.close();

    const lost = await written();
    await setMarker(lost.dir, `${header}\ndirty ${otherBoot}\n`);
    const c = await LmdbKvStateMachine.open(lost.dir, { writeMap: false });
    assert.notEqual(c.discardedOnOpen, null);
    assert.equal(c.appliedIndex(), 0);
    await c.close();
  });
});
