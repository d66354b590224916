// One kept-alive HttpClient per member of a process cluster, made on first use, and the hooks
// that run such a cluster for one test file.

import assert from "node:assert/strict";
import { after, before } from "node:test";
import { HttpClient, keyPath } from "../../src/cli/http-client.js";
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
