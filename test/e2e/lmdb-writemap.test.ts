// raft-store's LMDB state is written through the memory map and never synced per apply
// (lmdb-writemap.ts), so after an OS crash it may be corrupt and must be rebuilt. A real
// 3-process cluster, snapshots every 100 entries. A server stopped with SIGTERM leaves its state
// marked clean. Then every server is killed (SIGKILL) and made to look as an OS crash leaves
// it: its marker names another boot and its LMDB data file is garbage. Every server discards
// that state (its log says why), rebuilds every acknowledged key from its snapshot and log,
// with the same createIndex and modIndex, and the cluster takes new writes.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type HttpClient, keyPath } from "../../src/cli/http-client.js";
import { markerFile } from "../../src/kv/lmdb-writemap.js";
import { spoilState } from "../chaos/os-crash.js";
import { eventually } from "../support/eventually.js";
import { HttpClients, clusterForFile } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";

const cluster = new ProcessCluster({
  size: 3,
  tickMs: 50,
  state: "lmdb",
  flags: ["--snapshot-threshold", "100"],
});
const clients = new HttpClients(cluster);
const ids = [1, 2, 3];

function client(id: number): HttpClient {
  return clients.of(id);
}

const kvDir = (id: number): string => join(cluster.member(id).dir, "kv");

clusterForFile(cluster, clients);

test("a stopped server's state is marked clean; after an OS crash it is rebuilt", async () => {
  await clients.putAll("a", 250);
  const before = await clients.localScan(await cluster.waitLeader());
  assert.equal((JSON.parse(before) as unknown[]).length, 250);
  for (const id of ids) {
    await eventually(`member ${id} to apply every key`,
      async () => ((await clients.localScan(id)) === before ? true : null), 20_000);
  }

  const stopped = ids[0] ?? 1;
  clients.drop(stopped);
  await cluster.kill(stopped, "SIGTERM");
  assert.match(await readFile(join(kvDir(stopped), markerFile), "utf8"), /\nclean\n$/);

  clients.closeAll();
  await Promise.all(ids.map((id) => cluster.kill(id, "SIGKILL")));
  for (const id of ids) {
    assert.equal(await spoilState(cluster.member(id).dir), "LMDB state spoiled");
  }
  for (const id of ids) cluster.launch(id);
  for (const id of ids) await cluster.waitHttp(id);

  for (const id of ids) {
    await eventually(`member ${id} to rebuild every key`, async () => {
      const now = await clients.localScan(id);
      if (now !== before) throw new Error(`member ${id} holds ${now.slice(0, 300)}`);
      return true;
    }, 20_000);
    const log = await readFile(join(cluster.member(id).dir, "server.log"), "utf8");
    const warning = log.split("\n").find((line) => line.includes("state discarded on open"));
    assert.match(warning ?? "", /the OS restarted \(boot 00000000-/, `member ${id}'s log`);
  }
  await clients.putAll("b", 20);
  const r = await client(await cluster.waitLeader()).request("GET", keyPath("b/19"));
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), "b-19");
});
