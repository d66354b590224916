// A member whose Raft log is corrupt in the middle (a flipped byte in a record that intact
// records follow: bit rot, a misdirected write), in a real 3-process cluster:
// - it refuses to start, and its log names the segment file and the offset of the bad record;
//   it never serves, so it never votes or campaigns with a log it cannot trust;
// - the other two go on taking writes;
// - the repair the README gives works: remove it from the cluster, empty its data directory and
//   start it with --join; it comes back as a learner, is promoted, and holds every acknowledged
//   key.

import assert from "node:assert/strict";
import { open, readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { keyPath } from "../../src/cli/http-client.js";
import { eventually } from "../support/eventually.js";
import { HttpClients } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";
import { flipByte } from "../support/storage/files.js";

const bad = 3;

/** The bytes of `path` up to its last non-zero byte: a preallocated segment is zeros after. */
async function usedBytes(path: string): Promise<number> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(1 << 20);
    let used = 0;
    for (let at = 0; at < size; at += chunk.length) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, at);
      for (let i = bytesRead - 1; i >= 0; i--) {
        if (chunk[i] !== 0) {
          used = at + i + 1;
          break;
        }
      }
      if (bytesRead < chunk.length) break;
    }
    return used;
  } finally {
    await handle.close();
  }
}

test("a member with a corrupt record mid-log refuses to start, and is repaired by rejoining",
  async (t) => {
    const cluster = new ProcessCluster({ size: 3 });
    const clients = new HttpClients(cluster);
    try {
      await cluster.start();
      await cluster.waitLeader();
      await clients.putAll("before", 200);
      const acked = Array.from({ length: 200 }, (_, n) => `before/${n}`);
      // Member 3 holds them all before it stops: its log is the one that gets the flipped byte.
      const want = await clients.localScan(await cluster.waitLeader());
      await eventually("member 3 to hold the first writes", async () =>
        (await clients.localScan(bad)) === want ? true : null, 20_000);
      clients.drop(bad);
      await cluster.kill(bad, "SIGTERM");

      const logDir = join(cluster.member(bad).dir, "raft", "log");
      const segments = (await readdir(logDir)).filter((name) => name.endsWith(".wal")).sort();
      assert.ok(segments.length >= 1, `segments in ${logDir}`);
      const segment = join(logDir, segments[0] ?? "");
      const used = await usedBytes(segment);
      assert.ok(used > 8_000, `${used} bytes of records in ${segment}`);
      const flipped = Math.floor(used / 2);
      await flipByte(segment, flipped);

      cluster.launch(bad);
      const child = cluster.member(bad).process;
      assert.ok(child !== null);
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      assert.equal(code, 1, "member 3 refused to start");
      const log = await readFile(join(cluster.member(bad).dir, "server.log"), "utf8");
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
      for (let n = 0; n < 50; n++) {
        const key = `after/${n}`;
        const r = await clients.of(await cluster.waitLeader()).request("PUT", keyPath(key), "x");
        assert.equal(r.status, 200, r.body.toString());
        acked.push(key);
      }

      // The repair: remove member 3, empty its data, and have it join again.
      const leader = await cluster.waitLeader();
      const removed = await clients.of(leader).request("DELETE", `/v1/cluster/members/${bad}`);
      assert.equal(removed.status, 200, removed.body.toString());
      await rm(join(cluster.member(bad).dir, "raft"), { recursive: true, force: true });
      await rm(join(cluster.member(bad).dir, "kv"), { recursive: true, force: true });
      await cluster.join(bad, leader);
      await eventually("member 3 to be a voter again", async () => {
        const r = await clients.of(await cluster.waitLeader()).request("GET", "/v1/cluster");
        const view = JSON.parse(r.body.toString()) as {
          members: Array<{ id: string; role: string }>;
        };
        return view.members.some((m) => m.id === String(bad) && m.role === "voter") ? true : null;
      }, 30_000);
      const final = await clients.localScan(await cluster.waitLeader());
      const held = new Set((JSON.parse(final) as Array<{ key: string }>).map((e) => e.key));
      assert.deepEqual(acked.filter((key) => !held.has(key)), [], "acknowledged keys missing");
      await eventually("member 3 to hold every acknowledged key", async () =>
        (await clients.localScan(bad)) === final ? true : null, 30_000);
    } finally {
      clients.closeAll();
      await cluster.stop();
    }
  });
