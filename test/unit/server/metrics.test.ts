// The per-request counters are plain numbers handed to prom-client when scraped: each scrape
// shows the totals so far (not totals added up over scrapes), and a series appears only once
// it has counted something, as prom-client's own counters behave.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServerMetrics } from "../../../src/server/metrics.js";

function line(text: string, series: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(`${series} `));
}

describe("server metrics", () => {
  it("request and proposal counters show their totals on every scrape", async () => {
    const metrics = new ServerMetrics(() => null);
    const empty = await metrics.text();
    assert.equal(line(empty, 'raft_store_client_requests_total{api="http",outcome="ok"}'),
      undefined);
    assert.equal(line(empty, "raft_store_proposals_total"), "raft_store_proposals_total 0");
    for (let i = 0; i < 3; i += 1) metrics.request("http", "ok");
    metrics.request("resp", "error");
    metrics.observeProposal(0.001);
    metrics.observeProposal(0.002);
    for (let scrape = 0; scrape < 2; scrape += 1) {
      const text = await metrics.text();
      assert.equal(line(text, 'raft_store_client_requests_total{api="http",outcome="ok"}'),
        'raft_store_client_requests_total{api="http",outcome="ok"} 3');
      assert.equal(line(text, 'raft_store_client_requests_total{api="resp",outcome="error"}'),
        'raft_store_client_requests_total{api="resp",outcome="error"} 1');
      assert.equal(line(text, 'raft_store_client_requests_total{api="http",outcome="error"}'),
        undefined);
      assert.equal(line(text, "raft_store_proposals_total"), "raft_store_proposals_total 2");
      assert.equal(line(text, "raft_store_proposal_duration_seconds_count"),
        "raft_store_proposal_duration_seconds_count 2");
    }
    metrics.request("http", "ok");
    assert.equal(line(await metrics.text(),
      'raft_store_client_requests_total{api="http",outcome="ok"}'),
    'raft_store_client_requests_total{api="http",outcome="ok"} 4');
  });

  it("free disk space shows the last reading of each data directory", async () => {
    const metrics = new ServerMetrics(() => null);
    assert.equal(line(await metrics.text(), 'raft_store_disk_free_bytes{dir="/d/raft"}'),
      undefined);
    metrics.diskFree("/d/raft", 1000);
    metrics.diskFree("/d/kv", 2000);
    metrics.diskFree("/d/raft", 900);
    const text = await metrics.text();
    assert.equal(line(text, 'raft_store_disk_free_bytes{dir="/d/raft"}'),
      'raft_store_disk_free_bytes{dir="/d/raft"} 900');
    assert.equal(line(text, 'raft_store_disk_free_bytes{dir="/d/kv"}'),
      'raft_store_disk_free_bytes{dir="/d/kv"} 2000');
  });
});
