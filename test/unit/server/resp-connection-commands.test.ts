// Proves the connection, server and cluster commands and the error replies: Redis's messages
// for unknown commands and wrong arity, every RaftStoreError code mapped to the prefix that
// says whether the request may have been applied, authentication (AUTH, HELLO AUTH, NOAUTH,
// WRONGPASS), HELLO's protocol switch and map reply, CLIENT, COMMAND, INFO and its raft
// section, the RAFT.* commands, and the per-connection read consistency.

import assert from "node:assert/strict";
import { test } from "node:test";
import { NotLeaderError, StoppedError, TimeoutError } from "../../../src/errors.js";
import {
  InvalidRequestError,
  TooLargeError,
  UnauthorizedError,
  UnavailableError,
} from "../../../src/server/api.js";
import { harness } from "./resp-harness.js";

const OK = "+OK\r\n";

test("an unknown command is answered in Redis's format, with its first arguments", async () => {
  const h = harness();
  assert.equal(await h.call("FOO", "a", "b"),
    "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
  assert.equal(await h.call("FOO"), "-ERR unknown command 'FOO', with args beginning with: \r\n");
  const long = await h.call("FOO", "x".repeat(200), "y");
  const x128 = "x".repeat(128);
  assert.equal(long, `-ERR unknown command 'FOO', with args beginning with: '${x128}' \r\n`);
});

test("wrong arity names the command in lowercase; names are case-insensitive", async () => {
  const h = harness();
  assert.equal(await h.call("GET"), "-ERR wrong number of arguments for 'get' command\r\n");
  assert.equal(await h.call("get", "a", "b"),
    "-ERR wrong number of arguments for 'get' command\r\n");
  assert.equal(await h.call("PING", "a", "b"),
    "-ERR wrong number of arguments for 'ping' command\r\n");
  assert.equal(await h.call("CLIENT", "SETNAME"),
    "-ERR wrong number of arguments for 'client|setname' command\r\n");
  assert.equal(await h.call("pInG"), "+PONG\r\n");
});

test("API errors map to replies by whether the request may have been applied", async () => {
  const h = harness();
  const cases: [Error, string][] = [
    [new NotLeaderError(null), "-TRYAGAIN not leader (leader: unknown)\r\n"],
    [new UnavailableError("no leader"), "-TRYAGAIN no leader\r\n"],
    [new TimeoutError("timed out"), "-ERR timed out\r\n"],
    [new StoppedError("stopped"), "-ERR stopped\r\n"],
    [new InvalidRequestError("bad key"), "-ERR bad key\r\n"],
    [new TooLargeError("value too large"), "-ERR value too large\r\n"],
    [new UnauthorizedError("no token"), "-NOAUTH Authentication required.\r\n"],
    [new Error("boom"), "-ERR internal error\r\n"],
  ];
  for (const [error, reply] of cases) {
    h.kv.failNext = error;
    assert.equal(await h.call("GET", "k"), reply, error.message);
  }
  assert.equal(h.errors.length, 1);
  assert.match(h.errors[0] ?? "", /boom/);
});

test("with a token, only AUTH, HELLO and QUIT run before authentication", async () => {
  const h = harness({ token: "s3cret" });
  const noAuth = "-NOAUTH Authentication required.\r\n";
  assert.equal(await h.call("GET", "k"), noAuth);
  assert.equal(await h.call("PING"), noAuth);
  assert.equal(await h.call("NOSUCH"), noAuth);
  assert.equal(await h.call("AUTH", "wrong"),
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  assert.match(await h.call("HELLO", "3"), /^-NOAUTH HELLO must be called/);
  assert.equal(await h.call("AUTH", "default", "s3cret"), OK);
  assert.equal(await h.call("PING"), "+PONG\r\n");
  assert.deepEqual(h.kv.calls, []);
});

test("HELLO 3 AUTH authenticates and switches to RESP3 in the same reply", async () => {
  const h = harness({ token: "s3cret" });
  assert.match(await h.call("HELLO", "3", "AUTH", "default", "nope"), /^-WRONGPASS/);
  assert.equal(h.connection.protocol, 2);
  const reply = await h.call("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app");
  assert.ok(reply.startsWith("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), reply);
  assert.match(reply, /\$5\r\nproto\r\n:3\r\n/);
  assert.match(reply, /\$2\r\nid\r\n:7\r\n/);
  assert.match(reply, /\$4\r\nmode\r\n\$10\r\nstandalone\r\n/);
  assert.match(reply, /\$7\r\nmodules\r\n\*0\r\n$/);
  assert.equal(h.connection.name, "app");
  assert.equal(await h.call("GET", "missing"), "_\r\n");
});

test("HELLO without a token, with a bad version, and back to RESP2", async () => {
  const h = harness();
  assert.match(await h.call("HELLO"), /^\*14\r\n/);
  assert.equal(await h.call("HELLO", "4"), "-NOPROTO unsupported protocol version\r\n");
  assert.equal(await h.call("HELLO", "x"),
    "-ERR Protocol version is not an integer or out of range\r\n");
  assert.equal(await h.call("HELLO", "3", "BOGUS"),
    "-ERR Syntax error in HELLO option 'BOGUS'\r\n");
  assert.match(await h.call("HELLO", "3"), /^%7/);
  assert.match(await h.call("HELLO", "2"), /^\*14/);
  assert.equal(h.connection.protocol, 2);
});

test("AUTH without a configured token: a bare password is refused as Redis does", async () => {
  const h = harness();
  assert.match(await h.call("AUTH", "pw"), /^-ERR AUTH <password> called without any password/);
  assert.equal(await h.call("AUTH", "user", "pw"), OK);
  assert.equal(await h.call("AUTH", "a", "b", "c"), "-ERR syntax error\r\n");
});

test("QUIT answers OK and marks the connection for closing", async () => {
  const h = harness({ token: "t" });
  assert.equal(await h.call("QUIT"), OK);
  assert.equal(h.connection.closeAfterReply, true);
});

test("PING, ECHO and SELECT", async () => {
  const h = harness();
  assert.equal(await h.call("PING"), "+PONG\r\n");
  assert.equal(await h.call("PING", "hi"), "$2\r\nhi\r\n");
  assert.equal(await h.call("ECHO", "hey"), "$3\r\nhey\r\n");
  assert.equal(await h.call("SELECT", "0"), OK);
  assert.equal(await h.call("SELECT", "1"), "-ERR DB index is out of range\r\n");
  assert.equal(await h.call("SELECT", "x"), "-ERR value is not an integer or out of range\r\n");
});

test("CLIENT SETNAME, GETNAME, ID, INFO, LIST and SETINFO", async () => {
  const h = harness();
  assert.equal(await h.call("CLIENT", "GETNAME"), "$-1\r\n");
  assert.equal(await h.call("CLIENT", "SETNAME", "worker-1"), OK);
  assert.equal(await h.call("CLIENT", "GETNAME"), "$8\r\nworker-1\r\n");
  assert.match(await h.call("CLIENT", "SETNAME", "a b"), /^-ERR Client names cannot contain/);
  assert.equal(await h.call("CLIENT", "ID"), ":7\r\n");
  assert.equal(await h.call("CLIENT", "SETINFO", "LIB-NAME", "ioredis"), OK);
  assert.equal(await h.call("CLIENT", "SETINFO", "lib-ver", "6.0.0"), OK);
  const info = await h.call("CLIENT", "INFO");
  assert.match(info, /id=7 addr=127\.0\.0\.1:5000 .*name=worker-1 .*cmd=client .*lib-name=ioredis/);
  assert.match(await h.call("CLIENT", "LIST"), /id=7 /);
  assert.equal(await h.call("CLIENT", "NOPE"),
    "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n");
});

test("COMMAND answers COUNT, LIST, INFO and an empty DOCS map", async () => {
  const h = harness();
  const count = Number((await h.call("COMMAND", "COUNT")).slice(1));
  assert.ok(count >= 40, `count ${count}`);
  assert.equal(await h.call("COMMAND", "DOCS"), "*0\r\n");
  assert.match(await h.call("COMMAND", "LIST"), new RegExp(`^\\*${count}\\r\\n`));
  const info = await h.call("COMMAND", "INFO", "get", "nosuch");
  assert.ok(info.startsWith("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n"), info);
  assert.ok(info.endsWith("$-1\r\n"));
  assert.match(await h.call("COMMAND"), new RegExp(`^\\*${count}\\r\\n`));
  h.connection.protocol = 3;
  assert.equal(await h.call("COMMAND", "DOCS"), "%0\r\n");
});

test("INFO has the default sections with a raft section; keyspace only when asked", async () => {
  const h = harness();
  await h.call("SET", "a", "1", "EX", "10");
  await h.call("SET", "b", "1");
  const info = await h.call("INFO");
  for (const line of ["# Server", "redis_version:7.2.0", "raft_store_version:9.9.9",
    "uptime_in_seconds:90", "# Clients", "connected_clients:1", "loading:0", "role:master",
    "# Raft", "raft_role:leader", "raft_leader:1", "raft_term:7", "raft_commit_index:42",
    "raft_applied_index:41", "raft_members:2",
    "raft_member1:id=2,address=10.0.0.2:7000,role=voter"]) {
    assert.ok(info.includes(`${line}`), line);
  }
  assert.ok(!info.includes("# Keyspace"));
  assert.ok(!h.kv.calls.some((c) => c.startsWith("range")));
  const keyspace = await h.call("INFO", "keyspace");
  assert.match(keyspace, /^\$\d+\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n\r\n$/);
  assert.match(await h.call("INFO", "all"), /# Keyspace/);
});

test("RAFT.INFO answers the cluster as a map (a flat array in RESP2)", async () => {
  const h = harness();
  const resp2 = await h.call("RAFT.INFO");
  assert.ok(resp2.startsWith("*16\r\n$4\r\nself\r\n$1\r\n1\r\n$6\r\nleader\r\n$1\r\n1\r\n"), resp2);
  assert.match(resp2, /\$4\r\nterm\r\n:7\r\n/);
  assert.match(resp2, /\$7\r\nmembers\r\n\*2\r\n\*14\r\n\$2\r\nid\r\n\$1\r\n1\r\n/);
  h.connection.protocol = 3;
  const resp3 = await h.call("raft.info");
  assert.ok(resp3.startsWith("%8\r\n"));
  assert.match(resp3, /\$4\r\nhttp\r\n_\r\n/);
});

test("RAFT.NODE ADD/PROMOTE/REMOVE, RAFT.LEADER and RAFT.SNAPSHOT call the AdminApi", async () => {
  const h = harness();
  assert.equal(await h.call("RAFT.NODE", "ADD", "3", "10.0.0.3:7000"), OK);
  assert.equal(await h.call("RAFT.NODE", "add", "4", "10.0.0.4:7000", "learner"), OK);
  assert.equal(await h.call("RAFT.NODE", "PROMOTE", "4"), OK);
  assert.equal(await h.call("RAFT.NODE", "REMOVE", "3"), OK);
  assert.equal(await h.call("RAFT.NODE", "ADD", "5", "a", "boss"),
    "-ERR role must be voter or learner\r\n");
  assert.equal(await h.call("RAFT.NODE", "ADD"),
    "-ERR wrong number of arguments for 'raft.node' command\r\n");
  assert.equal(await h.call("RAFT.NODE", "ADD", "5"),
    "-ERR wrong number of arguments for 'raft.node|add' command\r\n");
  assert.equal(await h.call("RAFT.NODE", "ADD", "5", "a", "voter", "x"),
    "-ERR wrong number of arguments for 'raft.node|add' command\r\n");
  assert.match(await h.call("RAFT.NODE", "MOVE", "5"), /^-ERR unknown subcommand 'MOVE'/);
  assert.equal(await h.call("RAFT.LEADER", "2"), "$1\r\n2\r\n");
  assert.equal(await h.call("RAFT.LEADER"), "$1\r\n2\r\n");
  assert.equal(await h.call("RAFT.SNAPSHOT"), "*4\r\n$5\r\nindex\r\n:41\r\n$4\r\nterm\r\n:7\r\n");
  assert.deepEqual(h.admin.calls, [
    "add 3 10.0.0.3:7000 -",
    "add 4 10.0.0.4:7000 learner",
    "promote 4",
    "remove 3",
    "transfer 2",
    "transfer -",
    "snapshot",
  ]);
});

test("RAFT.CONSISTENCY and READONLY change how this connection's reads are served", async () => {
  const h = harness();
  assert.equal(await h.call("RAFT.CONSISTENCY"), "$12\r\nlinearizable\r\n");
  assert.equal(await h.call("RAFT.CONSISTENCY", "LEASE"), OK);
  await h.call("GET", "a");
  assert.equal(await h.call("READONLY"), OK);
  await h.call("MGET", "a", "b");
  assert.equal(await h.call("READWRITE"), OK);
  await h.call("EXISTS", "a");
  assert.deepEqual(h.kv.calls, ["get lease a", "get stale a,b", "get linearizable a"]);
  assert.equal(await h.call("RAFT.CONSISTENCY", "eventual"),
    "-ERR consistency must be linearizable, lease or stale\r\n");
});
