// Proves what a raft-store server does when the disk under its Raft log fills up, in a real
// 3-process cluster: member 3's log directory is a tmpfs of 8 MiB. Writes go on until that
// disk is full; member 3 then stops on its own (exit code 2) with a log line that names the
// full disk, and the other two go on taking writes. Given room again, member 3 restarts from
// its data and ends up holding every acknowledged key. Needs root to mount the tmpfs.

import assert from "node:assert/strict";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { keyPath } from "../../src/cli/http-client.js";
import { eventually } from "../support/eventually.js";
import { HttpClients } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";
import { makeTempDir } from "../support/storage/backends.js";
import { Tmpfs, tmpfsUnavailable } from "../support/storage/tmpfs.js";

const full = 3;
const logDiskBytes = 8 * 1024 * 1024;
const value = "v".repeat(4096);
/** Twice what the 8 MiB disk can hold: member 3 must have stopped before the last one. */
const putsMax = 4096;

const unavailable = await tmpfsUnavailable();

test("a member whose log disk fills stops with the reason, and loses nothing once it has room",
  { skip: unavailable ?? false }, async (t) => {
    const root = await makeTempDir("disk-full");
    const logDir = join(root, `n${full}`, "raft");
    await mkdir(logDir, { recursive: true });
    const disk = await Tmpfs.mount(logDiskBytes, logDir);
    const cluster = new ProcessCluster({ size: 3, root });
    const clients = new HttpClients(cluster);
    try {
      await cluster.start();
      const child = cluster.member(full).process;
      assert.ok(child !== null);
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));

      const acked: string[] = [];
      let exitCode: number | null | undefined;
      void exited.then((code) => {
        exitCode = code;
      });
      for (let n = 0; n < putsMax && exitCode === undefined; n += 1) {
        const leader = await cluster.waitLeader();
        const key = `k/${n}`;
        const r = await clients.of(leader).request("PUT", keyPath(key), value)
          .catch(() => null);
        if (r?.status === 200) acked.push(key);
      }
      assert.equal(await exited, 2, "member 3 stopped itself (exit code 2)");
      clients.drop(full);
      const log = await readFile(join(cluster.member(full).dir, "server.log"), "utf8");
      const failed = log.split("\n").find((line) => line.includes("raft node failed"));
      assert.match(failed ?? "", /ENOSPC: no space left on device/, "member 3's log");
      assert.ok(acked.length > 100, `${acked.length} writes acknowledged before the disk filled`);
      t.diagnostic(`${acked.length} writes acknowledged before the disk filled; ${failed}`);

      // The other two go on.
      for (let n = 0; n < 20; n += 1) {
        const key = `after/${n}`;
        const r = await clients.of(await cluster.waitLeader()).request("PUT", keyPath(key), "x");
        assert.equal(r.status, 200, r.body.toString());
        acked.push(key);
      }

      // Room again: member 3 restarts from its data and catches up.
      await disk.resize(16 * logDiskBytes);
      cluster.launch(full);
      await cluster.waitHttp(full);
      const want = JSON.parse(await clients.localScan(await cluster.waitLeader())) as
        Array<{ key: string }>;
      // A write whose answer was lost (its leader stopped) may have been applied too.
      const held = new Set(want.map((entry) => entry.key));
      assert.deepEqual(acked.filter((key) => !held.has(key)), [], "acknowledged keys missing");
      await eventually("member 3 to hold every acknowledged key", async () =>
        (JSON.parse(await clients.localScan(full)) as unknown[]).length === want.length ? true : null,
      30_000);
      assert.equal(await clients.localScan(full), JSON.stringify(want));
    } finally {
      clients.closeAll();
      await cluster.stop();
      await disk.dispose();
      await rm(root, { recursive: true, force: true });
    }
  });
