// Proves the history model: JSON lines parse into validated events with errors naming the line
// and the field, formatting round-trips, and pairing turns invokes and completions into ops
// while refusing completions without invokes, two outstanding invokes, reuse after an info and
// mismatched completions; an invoke never completed becomes an info op.

import assert from "node:assert/strict";
import { test } from "node:test";
import { generateHistory } from "./generate.js";
import {
  type HistoryEvent,
  HistoryError,
  describeOp,
  formatHistory,
  pairOperations,
  parseHistory,
} from "./history.js";

const readInvoke = { process: 0, type: "invoke", f: "read", key: "k", value: null, time: 0 };
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ ...readInvoke, ...fields });

function event(fields: Partial<HistoryEvent>): HistoryEvent {
  return { process: 0, type: "invoke", f: "write", key: "k", value: "1", time: 0, ...fields };
}

test("a well-formed history parses, skipping blank lines, and keeps source lines", () => {
  const text = [
    line({}),
    "",
    line({ type: "ok", value: "v", time: 5 }),
    line({ process: 1, f: "cas", value: [null, "a"], time: 6 }),
    line({ process: 1, type: "fail", f: "cas", value: [null, "a"], time: 9 }),
    line({ process: 2, f: "add", value: 7, time: 10 }),
    line({ process: 3, type: "ok", value: ["a", 7], time: 11 }),
  ].join("\n");
  const events = parseHistory(text);
  assert.equal(events.length, 6);
  assert.equal(events[1]?.line, 3);
  assert.deepEqual(events[2]?.value, [null, "a"]);
});

test("each malformed line is refused with its line number and what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["{not json", /line 2: not JSON/],
    ["[1,2]", /line 2: not a JSON object/],
    [JSON.stringify({ process: 0, type: "ok", f: "read", key: "k" }), /missing field "value"/],
    [line({ process: -1 }), /line 2: "process" must be a non-negative integer/],
    [line({ process: 1.5 }), /"process" must be a non-negative integer/],
    [line({ type: "done" }), /"type" must be one of invoke\|ok\|fail\|info/],
    [line({ f: "delete" }), /"f" must be one of read\|write\|cas\|add/],
    [line({ key: 3 }), /"key" must be a string/],
    [line({ time: "5" }), /"time" must be a finite number/],
    [line({ time: -1 }), /"time" must be a finite number >= 0/],
    [line({ value: "x" }), /a read's invoke carries value null/],
    [line({ type: "ok", value: { a: 1 } }), /a read's ok value is/],
    [line({ type: "fail", value: [[1]] }), /a read's fail value is/],
    [line({ f: "write", value: null }), /a write's value is a string or a finite number/],
    [line({ f: "cas", value: ["a"] }), /a cas's value is \[expected/],
    [line({ f: "cas", value: ["a", null] }), /a cas's value is \[expected/],
    [line({ f: "add", value: [1] }), /an? add's value/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => parseHistory(`${line({})}\n${bad}\n`), message, bad);
    assert.throws(() => parseHistory(`${line({})}\n${bad}\n`), HistoryError, bad);
  }
});

test("formatting a history and parsing it back gives the same events", () => {
  const events = generateHistory({ seed: 3, processes: 4, keys: 2, ops: 200, infoRate: 0.1 });
  const parsed = parseHistory(formatHistory(events));
  assert.deepEqual(
    parsed.map(({ line: _line, ...rest }) => rest),
    events,
  );
  assert.deepEqual(pairOperations(parsed), pairOperations(events));
});

test("pairing joins each invoke with its completion into an op with start and end", () => {
  const ops = pairOperations([
    event({ process: 0, time: 1 }),
    event({ process: 1, f: "read", value: null, time: 2 }),
    event({ process: 1, type: "ok", f: "read", value: "1", time: 4 }),
    event({ process: 0, type: "ok", time: 5 }),
    event({ process: 2, f: "cas", value: ["1", "2"], time: 6 }),
    event({ process: 2, type: "info", f: "cas", value: ["1", "2"], time: 9 }),
  ]);
  assert.deepEqual(ops, [
    { process: 0, f: "write", key: "k", invokeValue: "1", resultValue: "1", type: "ok",
      start: 1, end: 5 },
    { process: 1, f: "read", key: "k", invokeValue: null, resultValue: "1", type: "ok",
      start: 2, end: 4 },
    { process: 2, f: "cas", key: "k", invokeValue: ["1", "2"], resultValue: ["1", "2"],
      type: "info", start: 6, end: Infinity },
  ]);
  assert.equal(describeOp(ops[2] ?? assert.fail()), 'p2 cas("1" → "2") info [0.000000s, ∞]');
});

test("an invoke never completed becomes an info op ending at infinity", () => {
  const ops = pairOperations([event({ process: 4, time: 10 })]);
  assert.equal(ops.length, 1);
  assert.equal(ops[0]?.type, "info");
  assert.equal(ops[0]?.end, Infinity);
});

test("pairing refuses histories that break the one-op-per-process rules", () => {
  const cases: [HistoryEvent[], RegExp][] = [
    [[event({ type: "ok" })], /event 0: ok for process 0 without an invoke/],
    [[event({}), event({ time: 1 })], /event 1: process 0 invokes while write is outstanding/],
    [
      [event({}), event({ type: "info", time: 1 }), event({ time: 2 })],
      /event 2: process 0 is used again after its info/,
    ],
    [[event({}), event({ type: "ok", f: "add", time: 1 })], /completes a write with f add/],
    [[event({}), event({ type: "ok", key: "j", time: 1 })], /completes key k with key j/],
    [[event({ time: 5 }), event({ type: "ok", time: 4 })], /completes at 4 before its invoke 5/],
  ];
  for (const [events, message] of cases) {
    assert.throws(() => pairOperations(events), message);
    assert.throws(() => pairOperations(events), HistoryError);
  }
});

test("pairing errors on a parsed history name the source line", () => {
  const text = `${line({})}\n\n${line({ time: 3 })}\n`;
  assert.throws(() => pairOperations(parseHistory(text)), /history line 3: process 0 invokes/);
});
