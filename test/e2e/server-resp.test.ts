// raft-store's Redis protocol end to end: ioredis, node-redis (and redis-cli where installed)
// against a real 3-process cluster, every command of the server issue through a follower,
// pipelining, and garbage or truncated input answered with -ERR while the server keeps serving.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import net from "node:net";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { eventually } from "../support/eventually.js";
import { ProcessCluster } from "../support/process-cluster.js";

const cluster = new ProcessCluster({ size: 3, tickMs: 50 });
const redis: Redis[] = [];

function connect(id: number): Redis {
  const [host, port] = cluster.resp(id).split(":");
  const client = new Redis(Number(port), host ?? "127.0.0.1", { maxRetriesPerRequest: 2 });
  redis.push(client);
  return client;
}

let followerId: number;
let follower: Redis;
let other: Redis;

before(async () => {
  await cluster.start();
  const leader = await cluster.waitLeader();
  const ids = [1, 2, 3].filter((id) => id !== leader);
  followerId = ids[0] ?? 1;
  follower = connect(followerId);
  other = connect(ids[1] ?? 2);
});

after(async () => {
  for (const client of redis) client.disconnect();
  await cluster.stop();
});

test("SET, GET, DEL, EXISTS and MGET/MSET through a follower", async () => {
  assert.equal(await follower.set("a", "1"), "OK");
  assert.equal(await other.get("a"), "1");
  assert.equal(await follower.mset("b", "2", "c", "3"), "OK");
  assert.deepEqual(await other.mget("a", "b", "c", "missing"), ["1", "2", "3", null]);
  assert.equal(await other.exists("a", "b", "missing"), 2);
  assert.equal(await follower.del("a", "b", "missing"), 2);
  assert.equal(await other.get("a"), null);
});

test("SET options NX, XX, GET, EX and PX, GETDEL", async () => {
  assert.equal(await follower.set("nx", "1", "NX"), "OK");
  assert.equal(await follower.set("nx", "2", "NX"), null);
  assert.equal(await follower.set("xx-missing", "1", "XX"), null);
  assert.equal(await follower.set("nx", "3", "XX", "GET"), "1");
  assert.equal(await other.get("nx"), "3");
  assert.equal(await follower.set("ex", "v", "EX", 100), "OK");
  const ttl = await other.ttl("ex");
  assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
  assert.equal(await follower.set("px", "v", "PX", 200), "OK");
  assert.ok((await other.pttl("px")) <= 200);
  assert.equal(await follower.getdel("nx"), "3");
  assert.equal(await other.get("nx"), null);
});

test("INCR, DECR, INCRBY and the error on a non-integer", async () => {
  assert.equal(await follower.incr("counter"), 1);
  assert.equal(await other.incrby("counter", 41), 42);
  assert.equal(await follower.decr("counter"), 41);
  await follower.set("text", "abc");
  await assert.rejects(follower.incr("text"), /not an integer/);
  await assert.rejects(follower.incrby("counter", "x" as unknown as number), /not an integer/);
});

test("EXPIRE, TTL, PERSIST, and a key that expires everywhere", async () => {
  await follower.set("e", "1");
  assert.equal(await follower.ttl("e"), -1);
  assert.equal(await follower.ttl("no-such-key"), -2);
  assert.equal(await follower.expire("e", 100), 1);
  assert.ok((await other.ttl("e")) > 0);
  assert.equal(await other.persist("e"), 1);
  assert.equal(await follower.ttl("e"), -1);
  await follower.set("short", "1", "PX", 150);
  const end = Date.now() + 5000;
  while ((await other.get("short")) !== null) {
    assert.ok(Date.now() < end, "the key did not expire");
    await new Promise((r) => setTimeout(r, 50));
  }
});

test("SCAN with MATCH and COUNT visits every key once, KEYS filters by pattern", async () => {
  const keys = Array.from({ length: 45 }, (_, i) => `scan:${String(i).padStart(2, "0")}`);
  await follower.mset(...keys.flatMap((k) => [k, "x"]));
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const stream = other.scanStream({ match: "scan:*", count: 7 });
    stream.on("data", (batch: string[]) => seen.push(...batch));
    stream.on("end", () => resolve());
    stream.on("error", reject);
  });
  assert.deepEqual([...seen].sort(), keys);
  assert.deepEqual(
    (await follower.keys("scan:1?")).sort(),
    keys.filter((k) => /^scan:1\d$/.test(k)),
  );
});

test("pipelined commands are answered in order", async () => {
  const pipeline = follower.pipeline();
  for (let i = 0; i < 100; i++) pipeline.set(`p${i}`, String(i));
  for (let i = 0; i < 100; i++) pipeline.get(`p${i}`);
  const results = await pipeline.exec();
  assert.ok(results !== null);
  results.slice(100).forEach(([error, value], i) => {
    assert.equal(error, null);
    assert.equal(value, String(i));
  });
});

test("PING, ECHO, SELECT 0, CLIENT SETNAME, INFO with a raft section, RAFT.INFO, DBSIZE", async () => {
  assert.equal(await follower.ping(), "PONG");
  assert.equal(await follower.echo("hi"), "hi");
  assert.equal(await follower.select(0), "OK");
  await assert.rejects(follower.select(1), /out of range|ERR/);
  assert.equal(await follower.client("SETNAME", "tester"), "OK");
  const info = await follower.info();
  assert.match(info, /# Raft/i);
  assert.match(info, /leader/);
  const raft = await follower.call("RAFT.INFO");
  assert.ok(raft !== null);
  assert.ok((await other.dbsize()) > 0);
});

test("RAFT.NODE ADD and REMOVE change the membership through a follower; RAFT.LEADER moves it", async () => {
  // A learner never counts toward a majority, so an unreachable one leaves the cluster working.
  assert.equal(await follower.call("RAFT.NODE", "ADD", "9", "127.0.0.1:9", "learner"), "OK");
  // The change is answered once applied on the leader; `other`, a follower, may learn of it a
  // moment later (a quorum without it already committed it).
  const members = async (): Promise<string> => JSON.stringify(await other.call("RAFT.INFO"));
  const until = (holds: (text: string) => boolean, what: string): Promise<true> =>
    eventually(what, async () => (holds(await members()) ? true : null), 5000);
  await until((text) => /"9"/.test(text), "the learner listed");
  assert.equal(await follower.set("during-learner", "ok"), "OK");
  assert.equal(await other.call("RAFT.NODE", "REMOVE", "9"), "OK");
  await until((text) => !/"9"/.test(text), "the learner gone");
  await assert.rejects(follower.call("RAFT.NODE", "ADD", "x", "nowhere"), /ERR/);
});

test("HELLO 3 switches to RESP3", async () => {
  const reply = await follower.call("HELLO", "3");
  assert.ok(reply !== null);
  await follower.call("HELLO", "2");
});

test("unknown commands, wrong arity, garbage and truncated input get -ERR; the server keeps serving", async () => {
  await assert.rejects(follower.call("NOSUCHCOMMAND", "x"), /unknown command/);
  await assert.rejects(follower.call("GET"), /wrong number of arguments/);
  const port = Number(cluster.resp(2).split(":")[1]);
  for (const garbage of [
    "*2\r\n$3\r\nGET\r\n$-5\r\n",
    "*abc\r\n",
    "$3\r\nfoo\r\n",
    "*1\r\n$3\r\nGE",
  ]) {
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.write(garbage);
        setTimeout(() => socket.end(), 200);
      });
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", () => resolve(text));
    });
    if (!garbage.endsWith("GE")) assert.match(reply, /^-ERR/, JSON.stringify(garbage));
  }
  assert.equal(await other.ping(), "PONG");
  assert.equal(await follower.set("after-garbage", "ok"), "OK");
});

test("node-redis (the redis package) works, with RESP2 and RESP3", async () => {
  const port = Number(cluster.resp(followerId).split(":")[1]);
  for (const RESP of [2, 3] as const) {
    const client = createClient({ socket: { host: "127.0.0.1", port }, RESP });
    await client.connect();
    try {
      const key = `node-redis-${RESP}`;
      assert.equal(await client.set(key, "1"), "OK");
      assert.equal(await client.incr(key), 2);
      assert.deepEqual(await client.mGet([key, "node-redis-missing"]), ["2", null]);
      assert.equal(await client.set(`${key}-ttl`, "v", { NX: true, PX: 60_000 }), "OK");
      const pttl = await client.pTTL(`${key}-ttl`);
      assert.ok(pttl > 50_000 && pttl <= 60_000, `pttl ${pttl}`);
      const seen: string[] = [];
      for await (const keys of client.scanIterator({ MATCH: `${key}*`, COUNT: 1 })) {
        seen.push(...keys);
      }
      assert.deepEqual(seen.sort(), [key, `${key}-ttl`]);
      const replies = await Promise.all([client.set(`${key}-p`, "x"), client.get(`${key}-p`),
        client.del(`${key}-p`)]);
      assert.deepEqual(replies, ["OK", "x", 1]);
      assert.equal(await client.memoryUsage(key), key.length + 1);
      await assert.rejects(client.sendCommand(["LPUSH", "l", "a"]), /ERR unknown command/);
    } finally {
      client.destroy();
    }
  }
});

test("redis-cli works where it is installed: commands, stdin, -x, --pipe, --bigkeys, --memkeys",
  (t) => {
    let version: string;
    try {
      version = execFileSync("redis-cli", ["--version"]).toString();
    } catch {
      t.skip("redis-cli is not installed");
      return;
    }
    assert.match(version, /redis-cli/);
    const port = cluster.resp(1).split(":")[1] ?? "";
    const cli = (args: readonly string[], input?: string): string =>
      execFileSync("redis-cli", ["-p", port, ...args], { input }).toString().trim();
    assert.equal(cli(["SET", "cli", "1"]), "OK");
    assert.equal(cli(["GET", "cli"]), "1");
    assert.equal(cli(["-3", "INCR", "cli"]), "2");
    // Commands read line by line from stdin, and a value read from stdin with -x.
    assert.equal(cli([], "SET cli-a x\nAPPEND-IS-UNKNOWN\nGET cli-a\n").split("\n").at(-1), "x");
    assert.equal(cli(["-x", "SET", "cli-big"], "y".repeat(5000)), "OK");
    assert.equal(cli(["STRLEN", "cli-big"]), "5000");
    // Mass insertion: raw protocol on stdin; redis-cli ends it with an ECHO of its own.
    const sets = Array.from({ length: 200 }, (_, i) => {
      const key = `cli-pipe-${i}`;
      return `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$1\r\n${i % 10}\r\n`;
    });
    assert.match(cli(["--pipe"], sets.join("")), /errors: 0, replies: 200/);
    assert.equal(cli(["GET", "cli-pipe-199"]), "9");
    // Key statistics: SCAN, TYPE and STRLEN, then MEMORY USAGE (9 bytes of key, 5000 of value).
    assert.match(cli(["--bigkeys"]), /Biggest string found '"cli-big"' has 5000 bytes/);
    const memkeys = cli(["--memkeys"]);
    assert.doesNotMatch(memkeys, /failed/);
    assert.match(memkeys, /Biggest string found '"cli-big"' has 5007 bytes/);
    assert.match(cli(["INFO", "server"]), /raft_store_version:\d+\.\d+\.\d+/);
  });
