// Proves what `serve --join` learns before it starts: the peers it dials come from the member's
// GET /v1/cluster, and a view it could not work with is refused before anything is opened. A
// server sends to a peer only over a connection it dials itself, so a member listed without a
// peer address would get no answer from it; when that member led, the new server heard the log
// and never acknowledged it, stayed a learner forever, and kept the chaos harness from agreeing
// on a leader (seed 5555, after snapshots had dropped the configuration's addresses).

import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { ConfigError } from "../../../src/errors.js";
import { MemberRole, type ClusterView, type MemberView } from "../../../src/server/api.js";
import { parseServeArgs } from "../../../src/server/config.js";
import { membersToJoin } from "../../../src/server/join.js";

/** The view the fake member answers GET /v1/cluster with; each test sets it. */
let view: ClusterView;
let server: http.Server;
let address = "";

before(async () => {
  server = http.createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(view));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.close();
});

function member(id: number, peer: string): MemberView {
  return {
    id: String(id), address: peer, role: MemberRole.Voter, http: null, resp: null,
    matchIndex: null, lag: null,
  };
}

function clusterOf(members: MemberView[]): ClusterView {
  return {
    self: "1", leader: "1", term: 3, role: "leader", commitIndex: 9, appliedIndex: 9, members,
    joint: false,
  };
}

function joiner(id: number) {
  return parseServeArgs([
    "--id", String(id), "--data", "/tmp/unused", "--peer", "127.0.0.1:7009",
    "--http", "127.0.0.1:8009", "--join", address,
  ]);
}

test("the peers to start with are every member the cluster lists, with its address", async () => {
  view = clusterOf([member(1, "127.0.0.1:7001"), member(3, "127.0.0.1:7003")]);
  const peers = await membersToJoin(joiner(2));
  assert.deepEqual([...peers], [[1, "127.0.0.1:7001"], [3, "127.0.0.1:7003"]]);
});

test("a member listed without a peer address refuses the join, naming the member", async () => {
  view = clusterOf([member(1, ""), member(3, "127.0.0.1:7003"), member(4, "")]);
  await assert.rejects(membersToJoin(joiner(2)), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /no peer address for member\(s\) 1, 4/);
    return true;
  });
});

test("a cluster that still lists this id refuses the join, with or without address", async () => {
  for (const peer of ["127.0.0.1:7002", ""]) {
    view = clusterOf([member(1, "127.0.0.1:7001"), member(2, peer)]);
    await assert.rejects(membersToJoin(joiner(2)), /already has a member 2/);
  }
});

test("a member that lists no members (it is joining itself) refuses the join", async () => {
  view = clusterOf([]);
  await assert.rejects(membersToJoin(joiner(2)), /lists no members/);
});
