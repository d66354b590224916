// A member whose Raft log is corrupt in the middle (a flipped byte in a record that intact
// records follow: bit rot, a misdirected write), in a real 3-process cluster:
// - it refuses to start, and its log names the segment file and the offset of the bad record;
//   it never serves, so it never votes or campaigns with a log it cannot trust;
// - the other two go on taking writes;
// - the repair the README gives works: remove it from the cluster, empty its data directory and
//   start it with --join; it comes back as a learner, is promoted, and holds every acknowledged
//   key.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { lastNonZero } from "../../src/storage/wal/recovery.js";
import { eventually } from "../support/eventually.js";
import { HttpClients } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";
import { flipByte, segmentPaths } from "../support/storage/files.js";

const bad = 3;

test("a member with a corrupt record mid-log refuses to start, and is repaired by rejoining",
  async (t) => {
    const cluster = new ProcessCluster({ size: 3 });
    const clients = new HttpClients(cluster);
    try {
      await cluster.start();
      await cluster.waitLeader();
      const acked = await clients.putKeys("before", 200);
      // Member 3 holds them all before it stops: its log is the one that gets the flipped byte.
      const want = await clients.localScan(await cluster.waitLeader());
      await eventually("member 3 to hold the first writes", async () =>
        (await clients.localScan(bad)) === want ? true : null, 20_000);
      clients.drop(bad);
      await cluster.kill(bad, "SIGTERM");

      const [segment] = await segmentPaths(join(cluster.member(bad).dir, "raft"));
      assert.ok(segment !== undefined, "member 3 has a WAL segment");
      // A preallocated segment is zeros after its records.
      const used = lastNonZero(await readFile(segment)) + 1;
      assert.ok(used > 8_000, `${used} bytes of records in ${segment}`);
      const flipped = Math.floor(used / 2);
      await flipByte(segment, flipped);

      assert.equal(await cluster.runToExit(bad), 1, "member 3 refused to start");
      const log = await cluster.logSince(bad, 0);
      const reason = log.split("\n").find((line) => line.includes(segment)) ?? "";
      assert.match(reason, /corrupt/i, "member 3's log says why it stopped");
      // The offset it names is that of the record holding the flipped byte.
      const offset = Number(/offset (\d+)/.exec(reason)?.[1] ?? "NaN");
      assert.ok(offset <= flipped && flipped - offset < 4096,
        `named offset ${offset}, flipped byte at ${flipped}`);
      t.diagnostic(reason.trim());
      assert.match(log, new RegExp(`raft-store: member ${bad}'s data cannot be trusted.*` +
        `raft-store members remove ${bad}\\), empty .*/n${bad}, then start it with --join`),
        "member 3's log gives the repair");

      // The other two go on.
      acked.push(...await clients.putKeys("after", 50));

      // The repair: remove member 3, empty its data, and have it join again.
      await clients.replace(bad);
      await eventually("member 3 to be a voter again", async () => {
        const r = await clients.of(await cluster.waitLeader()).request("GET", "/v1/cluster");
        const view = JSON.parse(r.body.toString()) as {
          members: Array<{ id: string; role: string }>;
        };
        return view.members.some((m) => m.id === String(bad) && m.role === "voter") ? true : null;
      }, 30_000);
      await clients.expectHeld(bad, acked);
    } finally {
      clients.closeAll();
      await cluster.stop();
    }
  });
