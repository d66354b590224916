// A member restarted on an emptied data directory with --initial-cluster (instead of being
// removed and re-joined) has forgotten its votes and the entries it acknowledged. In a real
// 3-process cluster:
// - while the leader that counted its acknowledgements still leads, its first heartbeat tells
//   the member that entries it no longer holds are committed on it: the member stops (exit code
//   2) with LostEntriesError, and its log gives the repair;
// - once no member remembers its acknowledgements (the other two restarted), it catches up, and
//   the leader finds its id recorded under the incarnation of the data it lost when it
//   registers: it stops with DataLostError (incarnation.ts), and its log gives the repair;
// - the other two go on taking writes;
// - the repair works: removed, emptied and started with --join, it registers under its new
//   incarnation and serves, holding every acknowledged key;
// - a member whose data predates incarnation files (the file deleted) registers and serves.

import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { eventually } from "../support/eventually.js";
import { HttpClients } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";

const lost = 3;

/** Waits for member `id` to log its registration after byte `from`; returns its incarnation. */
async function registered(cluster: ProcessCluster, id: number, from: number): Promise<string> {
  return eventually(`member ${id} to register`, async () => {
    const line = (await cluster.logSince(id, from)).split("\n")
      .find((l) => l.includes("registered in the member directory"));
    return line === undefined ? null : (JSON.parse(line) as { incarnation: string }).incarnation;
  }, 20_000);
}

/**
 * Stops member `id`, empties its data and starts it as a founder again; checks that it stops
 * itself (exit code 2), never registers, and logs the repair. Returns the error its log gives.
 */
async function restartEmptied(cluster: ProcessCluster, clients: HttpClients, id: number):
  Promise<{ why: string; log: string }> {
  clients.drop(id);
  if (cluster.running(id)) await cluster.kill(id, "SIGTERM");
  await cluster.emptyData(id);
  const from = await cluster.logSize(id);
  const code = await cluster.runToExit(id);
  const log = await cluster.logSince(id, from);
  assert.equal(code, 2, `member ${id} stopped itself: ${log}`);
  const line = log.split("\n").find((l) => l.includes("raft node stopped on a fatal error"));
  assert.ok(line !== undefined, log);
  assert.match(log, new RegExp(`raft-store members remove ${id}\\), empty .*, then start it ` +
    "with --join"), log);
  assert.doesNotMatch(log, /registered in the member directory/);
  return { why: (JSON.parse(line) as { error: string }).error, log };
}

test("a member restarted on emptied data stops itself; removed and re-joined, it serves",
  async (t) => {
    const cluster = new ProcessCluster({ size: 3 });
    const clients = new HttpClients(cluster);
    try {
      await cluster.start();
      const first = await registered(cluster, lost, 0);
      const acked = await clients.putKeys("before", 100);

      // Data older than incarnation files: the file is gone, the member registers anew.
      clients.drop(lost);
      await cluster.kill(lost, "SIGTERM");
      await rm(join(cluster.member(lost).dir, "raft", "incarnation"));
      let from = await cluster.logSize(lost);
      cluster.launch(lost);
      const upgraded = await registered(cluster, lost, from);
      assert.notEqual(upgraded, first);
      assert.match(await cluster.logSince(lost, from), /"origin":"unknown"/);

      // Emptied and started as a founder again, under the same leader. (Were the leadership to
      // move meanwhile, a stall of this shared machine, the registration would find it out.)
      let stop = await restartEmptied(cluster, clients, lost);
      assert.match(stop.why, new RegExp(`^(leader \\d holds entries up to \\d+ as committed and ` +
        "acknowledged by this node, but its log ends at 1: this node lost entries|member 3 " +
        "lost its Raft data)"), stop.log);
      t.diagnostic(stop.why);

      // Again, once no member remembers what member 3 acknowledged (members 1 and 2 restarted:
      // a new leader, and no heartbeats of the old term left in a transport's queue): it
      // catches up, then its registration finds it out.
      for (const id of [1, 2]) {
        clients.drop(id);
        await cluster.kill(id, "SIGTERM");
      }
      for (const id of [1, 2]) cluster.launch(id);
      for (const id of [1, 2]) await cluster.waitHttp(id);
      await cluster.waitLeader();
      stop = await restartEmptied(cluster, clients, lost);
      assert.match(stop.why, new RegExp(`member ${lost} lost its Raft data: .*\\(incarnation ` +
        `${upgraded}\\)`), stop.log);
      t.diagnostic(stop.why);

      // The other two go on.
      acked.push(...await clients.putKeys("after", 20));

      // The repair: removed, emptied, and started with --join.
      from = await cluster.logSize(lost);
      await clients.replace(lost);
      const rejoined = await registered(cluster, lost, from);
      assert.notEqual(rejoined, upgraded);
      await clients.expectHeld(lost, acked);
      assert.ok(cluster.running(lost), "member 3 serves");
    } finally {
      clients.closeAll();
      await cluster.stop();
    }
  });
