// Proves that the members' peer addresses survive a restart from a snapshot, on every storage
// backend with files. A configuration carries them (ConfState.addresses); once the entries that
// set it are compacted, a restarted node reads its configuration from the snapshot's metadata.
// When that dropped the addresses, the next configuration entry the node planned as leader named
// no member's address either, GET /v1/cluster listed every address as "", and a server joining
// with --join started knowing no peer: it heard the leader but could never answer, so it never
// caught up (chaos seed 5555: "no leader after healing").

import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { test } from "node:test";
import { nodeId } from "../../../src/core/types.js";
import { RaftNode } from "../../../src/node/raft-node.js";
import { openStorage } from "../../../src/storage/open-storage.js";
import type { Storage } from "../../../src/storage/types.js";
import { MemoryNetwork } from "../../../src/transport/memory-transport.js";
import { CountingStateMachine } from "../../support/counting-state-machine.js";
import { makeTempDir } from "../../support/storage/backends.js";

const kinds = ["wal", "lmdb", "level"] as const;
const founder = { "1": "127.0.0.1:7001" };

/** Real files need real time: polls `condition` every few ms, failing after `ms`. */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function boot(kind: (typeof kinds)[number], dir: string) {
  const storage: Storage = await openStorage({ kind, dir });
  const node = new RaftNode<number>({
    id: 1, clusterId: "addresses", members: founder, storage,
    stateMachine: new CountingStateMachine(),
    transport: new MemoryNetwork().createTransport(nodeId(1)), tickMs: 10,
    // Nothing kept behind a snapshot: the bootstrap configuration entry is compacted away.
    snapshots: { thresholdEntries: 0, trailingEntries: 0 },
  });
  await node.start();
  await until(() => node.status().role === "leader", 2000, "the election");
  return { storage, node };
}

async function shut(parts: { storage: Storage; node: RaftNode<number> }): Promise<void> {
  await parts.node.stop();
  await parts.storage.close();
}

for (const kind of kinds) {
  test(`${kind}: a node restarted from a snapshot still knows its members' addresses`, async () => {
    const dir = await makeTempDir(`addresses-${kind}`);
    try {
      const first = await boot(kind, dir);
      const commands = Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(`c${i}`));
      await Promise.all(commands.map((c) => first.node.propose(c)));
      await first.node.snapshot();
      assert.deepEqual(first.node.configuration().addresses, founder);
      await shut(first);

      const again = await boot(kind, dir);
      try {
        assert.ok(again.node.status().firstIndex > 1, "the bootstrap entry was compacted");
        assert.deepEqual(again.node.configuration().addresses, founder);
        // The next configuration entry is planned from this one: it must still name member 1.
        await again.node.addLearner(2, "127.0.0.1:7002");
        assert.deepEqual(again.node.configuration().addresses, {
          ...founder,
          "2": "127.0.0.1:7002",
        });
      } finally {
        await shut(again);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
