// What a raft-store server does when a disk under its data fills up, in real 3-process
// clusters where one directory of member 3 is a small tmpfs. Needs root to mount the tmpfs.
// - Its Raft log's disk, with the free-space guard off (--min-free-mib 0): writes go on until
//   that disk is full; member 3 then stops on its own (exit code 2) with a log line that names
//   the full disk, and the other two go on taking writes.
// - Its key-value state's disk, with the guard on: LMDB writes that state through its memory
//   map, where a full disk is a SIGBUS, so the guard halts member 3 (exit code 2, "disk nearly
//   full" in its log) while the disk still has room, and refuses to start it while it has not.
// Either way, given room again, member 3 restarts from its data and ends up holding every
// acknowledged key.

import assert from "node:assert/strict";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { keyPath } from "../../src/cli/http-client.js";
import { HttpClients } from "../support/http-clients.js";
import { ProcessCluster } from "../support/process-cluster.js";
import { makeTempDir } from "../support/storage/backends.js";
import { Tmpfs, tmpfsUnavailable } from "../support/storage/tmpfs.js";

const full = 3;
const mib = 2 ** 20;

const unavailable = await tmpfsUnavailable();

interface FullDisk {
  /** Which directory of member 3's data is the tmpfs. */
  readonly dir: "raft" | "kv";
  readonly diskBytes: number;
  readonly minFreeMib: number;
  readonly value: string;
  /** A pause between writes, so that the guard's check each second sees the disk fill. */
  readonly paceMs: number;
  /** More writes than the disk holds: member 3 must have stopped before the last one. */
  readonly putsMax: number;
}

interface Filled {
  readonly cluster: ProcessCluster;
  readonly clients: HttpClients;
  readonly disk: Tmpfs;
  /** Keys whose writes were acknowledged. */
  readonly acked: string[];
  /** Member 3's log line about its stop. */
  readonly failure: string;
}

/**
 * Starts a cluster whose member 3 has `c.dir` on a tmpfs, writes until member 3 stops, checks
 * that it stopped itself (exit code 2) and that the other two take more writes, then runs
 * `body`; tears everything down afterwards.
 */
async function fillMember3(c: FullDisk, body: (filled: Filled) => Promise<void>): Promise<void> {
  const root = await makeTempDir("disk-full");
  const dir = join(root, `n${full}`, c.dir);
  await mkdir(dir, { recursive: true });
  const disk = await Tmpfs.mount(c.diskBytes, dir);
  const cluster = new ProcessCluster({ size: 3, root,
    flags: ["--min-free-mib", String(c.minFreeMib)] });
  const clients = new HttpClients(cluster);
  try {
    await cluster.start();
    const child = cluster.member(full).process;
    assert.ok(child !== null);
    let exit: number | null | undefined;
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => {
      exit = code;
      resolve(code);
    }));
    const acked: string[] = [];
    for (let n = 0; n < c.putsMax && exit === undefined; n += 1) {
      const key = `k/${n}`;
      const r = await clients.of(await cluster.waitLeader()).request("PUT", keyPath(key), c.value)
        .catch(() => null);
      if (r?.status === 200) acked.push(key);
      if (c.paceMs > 0) await new Promise((resolve) => setTimeout(resolve, c.paceMs));
    }
    assert.equal(await exited, 2, "member 3 stopped itself (exit code 2)");
    clients.drop(full);
    const log = await readFile(join(cluster.member(full).dir, "server.log"), "utf8");
    const failure = log.split("\n").find((line) => line.includes("raft node failed")) ?? "";
    assert.ok(acked.length >= 10, `${acked.length} writes acknowledged before member 3 stopped`);
    // The other two go on.
    acked.push(...await clients.putKeys("after", 20));
    await body({ cluster, clients, disk, acked, failure });
  } finally {
    clients.closeAll();
    await cluster.stop();
    await disk.dispose();
    await rm(root, { recursive: true, force: true });
  }
}

/** Gives member 3's disk room, restarts it, and checks it holds every acknowledged key. */
async function catchUp({ cluster, clients, disk, acked }: Filled, bytes: number): Promise<void> {
  await disk.resize(bytes);
  cluster.launch(full);
  await cluster.waitHttp(full);
  await clients.expectHeld(full, acked);
}

test("a member whose log disk fills stops with the reason, and loses nothing once it has room",
  { skip: unavailable ?? false }, async (t) => {
    const diskBytes = 8 * mib;
    // 4 KiB values, twice what the disk holds; the guard is off, so the log's writes fill it.
    await fillMember3({ dir: "raft", diskBytes, minFreeMib: 0, value: "v".repeat(4096),
      paceMs: 0, putsMax: 4096 }, async (filled) => {
      assert.match(filled.failure, /ENOSPC: no space left on device/, "member 3's log");
      t.diagnostic(`${filled.acked.length} writes acknowledged; ${filled.failure}`);
      await catchUp(filled, 16 * diskBytes);
    });
  });

test("a member whose state disk is nearly full is halted by the guard before LMDB's SIGBUS",
  { skip: unavailable ?? false }, async (t) => {
    const diskBytes = 24 * mib;
    // 64 KiB values, 50 a second at most (3.2 MB/s): the 12 MiB left when the guard trips take
    // the writes about 4 s to fill, and the guard checks every second.
    await fillMember3({ dir: "kv", diskBytes, minFreeMib: 12, value: "w".repeat(65536),
      paceMs: 20, putsMax: 2 * diskBytes / 65536 }, async (filled) => {
      assert.match(filled.failure, new RegExp("disk nearly full: \\d+\\.\\d MiB free under " +
        ".*/n3/kv, less than the 12\\.0 MiB --min-free-mib asks for"), "member 3's log");
      t.diagnostic(`${filled.acked.length} writes acknowledged; ${filled.failure}`);
      // Still short of space: member 3 refuses to start, and says why.
      const { cluster } = filled;
      assert.equal(await cluster.runToExit(full), 1, "member 3 refused to start");
      const log = await readFile(join(cluster.member(full).dir, "server.log"), "utf8");
      assert.match(log, /raft-store: disk nearly full: .* under .*\/n3\/kv/);
      await catchUp(filled, 4 * diskBytes);
    });
  });
