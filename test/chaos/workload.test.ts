// Proves how chaos clients read the server's answers into the history: 2xx is ok; 4xx, 503 and
// a refused connection were not applied (fail); 500, 504, timeouts and dropped connections are
// unknown (info); a txn whose comparison failed is a failed cas; a set listing becomes the array
// of its elements. And the recorder numbers events with the given clock.

import assert from "node:assert/strict";
import { test } from "node:test";
import { classify } from "./http-call.js";
import { pairOperations } from "./history.js";
import { HistoryRecorder, casOutcome, setElements } from "./workload.js";

test("answers map to ok, fail or info as CONTRACTS.md says", () => {
  const table = [
    [{ status: 200, body: "v" }, "ok"],
    [{ status: 404, body: "{}" }, "ok"],
    [{ status: 400, body: "{}" }, "fail"],
    [{ status: 413, body: "{}" }, "fail"],
    [{ status: 503, body: "{}" }, "fail"],
    [{ status: 500, body: "{}" }, "info"],
    [{ status: 504, body: "{}" }, "info"],
    [{ error: "connect ECONNREFUSED", code: "ECONNREFUSED" }, "fail"],
    [{ error: "socket hang up", code: "ECONNRESET" }, "info"],
    [{ error: "no answer in 1500 ms", code: "TIMEOUT" }, "info"],
  ] as const;
  for (const [result, kind] of table) {
    assert.equal(classify(result).kind, kind, JSON.stringify(result));
  }
});

test("a txn answer is a cas outcome: succeeded ok, not succeeded fail, unreadable info", () => {
  assert.equal(casOutcome({ status: 200, body: '{"succeeded":true,"results":[]}' }).kind, "ok");
  assert.equal(casOutcome({ status: 200, body: '{"succeeded":false,"results":[]}' }).kind, "fail");
  assert.equal(casOutcome({ status: 200, body: "garbage" }).kind, "info");
  assert.equal(casOutcome({ status: 404, body: "{}" }).kind, "fail");
  assert.equal(casOutcome({ status: 504, body: "{}" }).kind, "info");
});

test("a set listing becomes its elements; anything else is not a set read", () => {
  const entries = [{ key: "set/0-1" }, { key: "set/3-7" }];
  const body = JSON.stringify({ index: 9, entries, more: false });
  assert.deepEqual(setElements(body), ["0-1", "3-7"]);
  assert.equal(setElements(JSON.stringify({ entries: [{ key: "other" }], more: false })), null);
  assert.equal(setElements(JSON.stringify({ entries: [], more: true })), null);
  assert.equal(setElements("nope"), null);
});

test("the recorder stamps events with its clock and pairs into operations", () => {
  let time = 0;
  const recorder = new HistoryRecorder(() => (time += 10));
  recorder.invoke(0, "write", "k", "p0-1");
  recorder.invoke(1, "read", "k", null);
  recorder.complete(0, "ok", "write", "k", "p0-1");
  recorder.complete(1, "info", "read", "k", null);
  assert.deepEqual(recorder.events.map((e) => e.time), [10, 20, 30, 40]);
  assert.deepEqual(recorder.counts, { invoke: 2, ok: 1, fail: 0, info: 1 });
  const ops = pairOperations(recorder.events);
  assert.equal(ops.length, 2);
  assert.equal(ops[0]?.end, 30);
});
