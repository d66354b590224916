// Proves log compaction end to end over TCP with the WAL: 3 nodes take 200,000 writes with a
// small snapshot threshold, the log on disk stays bounded, a server added afterwards catches up
// by snapshot then log, and every state machine ends with the same contents.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { TcpCluster, proposeMany } from "../support/tcp-cluster.js";

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

function stateHash(commands: readonly string[]): string {
  return createHash("sha256").update(commands.join("\n")).digest("hex");
}

test("200,000 writes keep the log bounded, and a new server catches up by snapshot", async (t) => {
  const cluster = new TcpCluster(4, "wal", 50, 3, {
    segmentBytes: 1 << 20,
    node: { snapshots: { thresholdEntries: 20_000, trailingEntries: 2_000, retained: 2 } },
  });
  try {
    await cluster.start();
    const leader = await cluster.waitFor("a leader", () => cluster.leader());
    await proposeMany(cluster, "w", 200_000, 512);
    const logBytes = await directoryBytes(join(leader.dir, "log"));
    // 200,000 entries of ~40 bytes with headers are ~8 MiB: compaction keeps a few segments.
    t.diagnostic(`leader log on disk after 200,000 writes: ${(logBytes / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(logBytes < 4 * 2 ** 20, `the log holds ${logBytes} bytes`);
    assert.ok(leader.node.status().firstIndex > 150_000, "the log was compacted");
    const joiner = await cluster.join(4);
    await leader.node.addVoter(4, cluster.members.get(4) ?? "", { timeoutMs: 60_000 });
    await cluster.waitFor("every server to apply everything", () =>
      [...cluster.nodes.values()].every((m) => m.machine.commands.length === 200_000), 60_000,
    );
    const hashes = [...cluster.nodes.values()].map((m) => stateHash(m.machine.commands));
    assert.equal(new Set(hashes).size, 1, "state machines differ");
    assert.ok(joiner.node.status().firstIndex > 150_000, "the new server started from a snapshot");
  } finally {
    await cluster.close();
  }
});
