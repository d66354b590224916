// Proves recovery from snapshots on real files: a node restarts from its newest valid snapshot
// and the log after it; a corrupt newest snapshot makes it fall back to an older one while the
// log still covers the gap, and refuse to start (never run with a wrong state) when it does not.

import assert from "node:assert/strict";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { nodeId } from "../../../src/core/types.js";
import { InconsistentStateError } from "../../../src/node/durable-log.js";
import { RaftNode } from "../../../src/node/raft-node.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import { MemoryNetwork } from "../../../src/transport/memory-transport.js";
import { CountingStateMachine } from "../../support/counting-state-machine.js";
import { makeTempDir } from "../../support/storage/backends.js";

/** Real files need real time: polls `condition` every few ms, failing after `ms`. */
const clock = {
  async until(condition: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  },
};

async function boot(dir: string, trailingEntries: number) {
  const storage: Storage = await openStorage({ kind: "wal", dir });
  const machine = new CountingStateMachine();
  const node = new RaftNode<number>({
    id: 1, clusterId: "recovery", members: { 1: "memory:1" }, storage, stateMachine: machine,
    transport: new MemoryNetwork().createTransport(nodeId(1)), tickMs: 10,
    snapshots: { thresholdEntries: 0, trailingEntries, retained: 3 },
  });
  return { storage, machine, node };
}

async function writeHistory(dir: string, trailingEntries: number): Promise<string[]> {
  const { storage, node } = await boot(dir, trailingEntries);
  await node.start();
  await clock.until(() => node.status().role === "leader", 2000, "the election");
  const commands: string[] = [];
  for (const round of [0, 1]) {
    const batch = Array.from({ length: 60 }, (_, i) => `r${round}c${i}`);
    commands.push(...batch);
    let done = false;
    void Promise.all(batch.map((c) => node.propose(new TextEncoder().encode(c)))).then(() => (done = true));
    await clock.until(() => done, 2000, "the proposals");
    let taken = false;
    void node.snapshot().then(() => (taken = true));
    await clock.until(() => taken, 2000, "the snapshot");
  }
  await node.stop();
  await storage.close();
  return commands;
}

async function corruptNewestSnapshot(dir: string): Promise<void> {
  const snaps = (await readdir(join(dir, "snapshots"))).filter((n) => n.endsWith(".snap")).sort();
  const newest = join(dir, "snapshots", snaps[snaps.length - 1] ?? "");
  const bytes = await readFile(newest);
  const at = bytes.length - 20; // inside the data, before the trailer
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  await writeFile(newest, bytes);
}

test("a restart rebuilds the state from the newest snapshot and the log after it", async () => {
  const dir = await makeTempDir("snap-recovery");
  try {
    const commands = await writeHistory(dir, 5);
    const { storage, machine, node } = await boot(dir, 5);
    await node.start();
    await clock.until(() => machine.commands.length === commands.length, 2000, "the replay");
    assert.deepEqual(machine.commands, commands);
    assert.ok(node.status().firstIndex > 100, "the log was compacted behind the snapshot");
    await node.stop();
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a corrupt newest snapshot falls back to an older one the log still covers", async () => {
  const dir = await makeTempDir("snap-fallback");
  try {
    const commands = await writeHistory(dir, 1000);
    await corruptNewestSnapshot(dir);
    const { storage, machine, node } = await boot(dir, 1000);
    await node.start();
    await clock.until(() => machine.commands.length === commands.length, 2000, "the replay");
    assert.deepEqual(machine.commands, commands);
    await node.stop();
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a corrupt newest snapshot with no older one covering the log stops the start with a clear error", async () => {
  const dir = await makeTempDir("snap-refuse");
  try {
    await writeHistory(dir, 5);
    await corruptNewestSnapshot(dir);
    const { storage, node } = await boot(dir, 5);
    await assert.rejects(node.start(), InconsistentStateError);
    await storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
