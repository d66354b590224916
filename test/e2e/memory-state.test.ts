// raft-store with its key-value state in memory (`--state memory`): nothing of the state is on
// disk but the Raft log and the snapshots, so a restarted server rebuilds it from its latest
// snapshot and the log after it. A real 3-process cluster, snapshots every 100 entries: every
// acknowledged write survives all three servers being killed with SIGKILL at once, every
// server rebuilds the same state (keys, values, createIndex and modIndex), and a server that
// missed writes while down catches up.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type HttpClient, keyPath } from "../../src/cli/http-client.js";
import { eventually } from "../support/eventually.js";
import { HttpClients, clusterForFile } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";

const cluster = new ProcessCluster({
  size: 3,
  tickMs: 50,
  state: "memory",
  flags: ["--snapshot-threshold", "100"],
});
const clients = new HttpClients(cluster);

function client(id: number): HttpClient {
  return clients.of(id);
}

async function restartAll(): Promise<void> {
  clients.closeAll();
  await Promise.all([1, 2, 3].map((id) => cluster.kill(id, "SIGKILL")));
  for (const id of [1, 2, 3]) cluster.launch(id);
  for (const id of [1, 2, 3]) await cluster.waitHttp(id);
}

clusterForFile(cluster, clients);

/** Snapshots member `id` stored (raft_store_snapshots_total{kind="stored"}). */
async function snapshotsStored(id: number): Promise<number> {
  const text = (await client(id).request("GET", "/metrics")).body.toString();
  const match = /^raft_store_snapshots_total\{kind="stored"\} (\d+)$/m.exec(text);
  assert.ok(match !== null, `no snapshots stored in /metrics:\n${text}`);
  return Number(match[1]);
}

test("acknowledged writes survive killing every server: rebuilt from snapshot, log", async () => {
  // 250 writes with a snapshot every 100 entries: the state is a snapshot plus a log tail.
  await clients.putAll("a", 250);
  const leader = await cluster.waitLeader();
  assert.ok((await snapshotsStored(leader)) >= 1, "the leader stored no snapshot");
  const before = await clients.localScan(leader);
  await restartAll();
  const next = await cluster.waitLeader();
  // A linearizable read on the new leader, then every member's own copy.
  const r = await client(next).request("GET", keyPath("a/249"));
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), "a-249");
  for (const id of [1, 2, 3]) {
    await eventually(`member ${id} to rebuild every key`, async () => {
      const now = await clients.localScan(id);
      if (now !== before) throw new Error(`member ${id} holds ${now.slice(0, 600)}`);
      return true;
    }, 20_000);
  }
  assert.equal((JSON.parse(before) as unknown[]).length, 250);
});

test("a server down during writes catches up after its restart", async () => {
  const leader = await cluster.waitLeader();
  const down = [1, 2, 3].find((id) => id !== leader) ?? 1;
  clients.drop(down);
  await cluster.kill(down, "SIGKILL");
  await clients.putAll("b", 150);
  cluster.launch(down);
  await cluster.waitHttp(down);
  const expected = await clients.localScan(await cluster.waitLeader());
  await eventually(`member ${down} to catch up`,
    async () => ((await clients.localScan(down)) === expected ? true : null), 20_000);
  assert.equal((JSON.parse(expected) as unknown[]).length, 400);
});
