// One kept-alive HttpClient per member of a process cluster, made on first use, and the hooks
// that run such a cluster for one test file.

import { after, before } from "node:test";
import { HttpClient } from "../../src/cli/http-client.js";
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
