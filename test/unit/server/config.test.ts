// `raft-store serve` flags (CONTRACTS.md): what they resolve to, and that every mistake is a
// ConfigError naming the flag before anything is opened.

import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../../src/errors.js";
import { parseServeArgs } from "../../../src/server/config.js";

const base = [
  "--id",
  "n2",
  "--data",
  "/tmp/x",
  "--peer",
  "127.0.0.1:7002",
  "--http",
  "127.0.0.1:8002",
];

test("the contract's flags resolve, with defaults for the rest", () => {
  const c = parseServeArgs([
    ...base,
    "--resp",
    "127.0.0.1:6380",
    "--initial-cluster",
    "n1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003",
    "--storage",
    "lmdb",
  ]);
  assert.equal(c.id, 2);
  assert.equal(c.storage, "lmdb");
  assert.equal(c.state, "lmdb");
  assert.equal(c.advertisePeer, "127.0.0.1:7002");
  assert.deepEqual(
    [...c.initialCluster],
    [
      [1, "127.0.0.1:7001"],
      [2, "127.0.0.1:7002"],
      [3, "127.0.0.1:7003"],
    ],
  );
  assert.equal(c.insecure, false);
  assert.equal(c.tickMs, 100);
  assert.equal(c.walWriteMode, "auto");
  assert.equal(c.walPreallocate, true);
  assert.equal(parseServeArgs([...base, "--wal-preallocate", "off"]).walPreallocate, false);
  assert.equal(c.followerApplyDelayMs, 5);
  assert.equal(parseServeArgs([...base, "--follower-apply-delay-ms", "0"]).followerApplyDelayMs, 0);
  assert.equal(c.minFreeBytes, 64 * 2 ** 20);
  assert.equal(parseServeArgs([...base, "--min-free-mib", "0"]).minFreeBytes, 0);
  assert.equal(parseServeArgs([...base, "--min-free-mib", "5"]).minFreeBytes, 5 * 2 ** 20);
});

test("a config file supplies settings and flags override it", () => {
  const dir = mkdtempSync(join(tmpdir(), "raft-store-config-"));
  const file = join(dir, "c.json");
  writeFileSync(
    file,
    JSON.stringify({ id: 3, data: "/d", peer: "127.0.0.1:1", resp: "127.0.0.1:2", "tick-ms": 20 }),
  );
  const c = parseServeArgs(["--config", file, "--tick-ms", "30", "--join", "127.0.0.1:8001"]);
  assert.equal(c.id, 3);
  assert.equal(c.tickMs, 30);
  assert.equal(c.join, "127.0.0.1:8001");
  writeFileSync(file, JSON.stringify({ colour: "blue" }));
  assert.throws(() => parseServeArgs(["--config", file]), /unknown setting "colour"/);
  writeFileSync(file, "{");
  assert.throws(() => parseServeArgs(["--config", file]), ConfigError);
});

const mistakes: [string, string[], RegExp][] = [
  [
    "a missing --peer",
    ["--id", "1", "--data", "/d", "--http", "127.0.0.1:1"],
    /--peer are required/,
  ],
  ["a bad id", [...base.slice(2), "--id", "zero"], /not a positive integer/],
  ["an unknown flag", [...base, "--colour", "blue"], /Unknown option/],
  [
    "a bad address",
    [...base.slice(0, 4), "--peer", "nowhere", "--http", "127.0.0.1:1"],
    /not host:port/,
  ],
  [
    "a non-loopback address without TLS",
    [...base.slice(0, 4), "--peer", "10.0.0.1:7000", "--http", "127.0.0.1:1"],
    /not a loopback address/,
  ],
  [
    "both --join and --initial-cluster",
    [...base, "--join", "127.0.0.1:1", "--initial-cluster", "2=127.0.0.1:7002"],
    /exclude each other/,
  ],
  [
    "an initial cluster without this node",
    [...base, "--initial-cluster", "1=127.0.0.1:7001"],
    /does not name this node/,
  ],
  [
    "a duplicate in the initial cluster",
    [...base, "--initial-cluster", "2=127.0.0.1:1,2=127.0.0.1:2"],
    /twice/,
  ],
  ["an unknown storage", [...base, "--storage", "floppy"], /use one of wal, lmdb, level, memory/],
  ["a preallocation switch that is not on/off", [...base, "--wal-preallocate", "yes"],
    /--wal-preallocate "yes": use one of on, off/],
  ["half the TLS files", [...base, "--tls-cert", "c.pem"], /TLS needs all of/],
  [
    "no client API",
    ["--id", "1", "--data", "/d", "--peer", "127.0.0.1:1"],
    /give --http, --resp or both/,
  ],
  ["a zero tick", [...base, "--tick-ms", "0"], /--tick-ms must be an integer >= 1/],
  ["a negative apply delay", [...base, "--follower-apply-delay-ms=-1"],
    /--follower-apply-delay-ms must be an integer >= 0/],
  ["a fractional free-space minimum", [...base, "--min-free-mib", "0.5"],
    /--min-free-mib must be an integer >= 0/],
];

for (const [what, argv, message] of mistakes) {
  test(`${what} is refused with a clear message`, () => {
    assert.throws(
      () => parseServeArgs(argv),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test("--insecure allows plaintext on a non-loopback address", () => {
  const c = parseServeArgs([
    "--id",
    "1",
    "--data",
    "/d",
    "--peer",
    "10.0.0.1:7000",
    "--http",
    "0.0.0.0:8000",
    "--insecure",
  ]);
  assert.equal(c.insecure, true);
});
