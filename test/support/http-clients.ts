// One kept-alive HttpClient per member of a process cluster, made on first use, and the hooks
// that run such a cluster for one test file.

import assert from "node:assert/strict";
import { after, before } from "node:test";
import { HttpClient, keyPath } from "../../src/cli/http-client.js";
import { eventually } from "./eventually.js";
import type { ProcessCluster } from "./process-cluster.js";

export class HttpClients {
  private readonly clients = new Map<number, HttpClient>();

  constructor(private readonly cluster: ProcessCluster) {}

  /** The client of member `id`'s HTTP API. */
  of(id: number): HttpClient {
    let c = this.clients.get(id);
    if (c === undefined) {
      c = new HttpClient(this.cluster.http(id));
      this.clients.set(id, c);
    }
    return c;
  }

  /** Closes member `id`'s client (before the member is killed): the next of(id) makes a new one. */
  drop(id: number): void {
    this.clients.get(id)?.close();
    this.clients.delete(id);
  }

  closeAll(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  /** Puts `count` keys `${prefix}/${n}` (value `${prefix}-${n}`) through the leader, each 200. */
  async putAll(prefix: string, count: number): Promise<void> {
    const leader = await this.cluster.waitLeader();
    for (let n = 0; n < count; n++) {
      const r = await this.of(leader).request("PUT", keyPath(`${prefix}/${n}`), `${prefix}-${n}`);
      assert.equal(r.status, 200, `put ${prefix}/${n}: ${r.body.toString()}`);
    }
  }

  /** putAll, returning the keys it wrote (every one acknowledged). */
  async putKeys(prefix: string, count: number): Promise<string[]> {
    await this.putAll(prefix, count);
    return Array.from({ length: count }, (_, n) => `${prefix}/${n}`);
  }

  /**
   * The repair of a member whose data is lost or cannot be trusted (README: Replacing a
   * member): removed through the leader, its data emptied, started with --join. Returns once it
   * serves HTTP.
   */
  async replace(id: number): Promise<void> {
    this.drop(id);
    const leader = await this.cluster.waitLeader();
    const removed = await this.of(leader).request("DELETE", `/v1/cluster/members/${id}`);
    assert.equal(removed.status, 200, removed.body.toString());
    await this.cluster.emptyData(id);
    await this.cluster.join(id, leader);
  }

  /**
   * Checks that the leader's state holds every key of `acked`, then waits until member `id`'s
   * state is the same. (A write whose answer was lost may have been applied too.)
   */
  async expectHeld(id: number, acked: readonly string[], ms = 30_000): Promise<void> {
    const want = await this.localScan(await this.cluster.waitLeader());
    const held = new Set((JSON.parse(want) as Array<{ key: string }>).map((entry) => entry.key));
    assert.deepEqual(acked.filter((key) => !held.has(key)), [], "acknowledged keys missing");
    await eventually(`member ${id} to hold every acknowledged key`, async () =>
      (await this.localScan(id)) === want ? true : null, ms);
  }

  /**
   * Every key with its value, createIndex and modIndex, read from member `id`'s own state
   * (stale read), as JSON, without the response's `index` (the member's applied index, which
   * moves on after a restart).
   */
  async localScan(id: number): Promise<string> {
    const r = await this.of(id).request("GET", "/v1/kv?prefix=&limit=10000&consistency=stale");
    assert.equal(r.status, 200, r.body.toString());
    return JSON.stringify((JSON.parse(r.body.toString()) as { entries: unknown[] }).entries);
  }
}

/** Starts `cluster` before the file's tests (until it has a leader); after them, stops it. */
export function clusterForFile(cluster: ProcessCluster, clients: HttpClients): void {
  before(async () => {
    await cluster.start();
    await cluster.waitLeader();
  });
  after(async () => {
    clients.closeAll();
    await cluster.stop();
  });
}
