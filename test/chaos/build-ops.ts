// Terse builders of completed ops for hand-written test histories. Times are given in
// milliseconds and stored in nanoseconds, as in a recorded history; an info op ends at +infinity.

import type { CompletedOp, CompletionType, Scalar } from "./history.js";

const ns = (ms: number): number => Math.round(ms * 1e6);

interface Where {
  readonly key?: string;
  readonly type?: CompletionType;
}

function base(process: number, start: number, end: number, where: Where) {
  const type = where.type ?? "ok";
  return {
    process,
    key: where.key ?? "x",
    type,
    start: ns(start),
    end: type === "info" ? Infinity : ns(end),
  };
}

export function write(p: number, value: Scalar, start: number, end: number, where: Where = {}) {
  const op: CompletedOp = {
    ...base(p, start, end, where),
    f: "write",
    invokeValue: value,
    resultValue: value,
  };
  return op;
}

export function read(
  p: number,
  result: Scalar | null,
  start: number,
  end: number,
  where: Where = {},
): CompletedOp {
  const known = (where.type ?? "ok") === "ok";
  return {
    ...base(p, start, end, where),
    f: "read",
    invokeValue: null,
    resultValue: known ? result : null,
  };
}

export function cas(
  p: number,
  expected: Scalar | null,
  next: Scalar,
  start: number,
  end: number,
  where: Where = {},
): CompletedOp {
  const pair = [expected, next] as const;
  return { ...base(p, start, end, where), f: "cas", invokeValue: pair, resultValue: pair };
}

export function add(p: number, element: Scalar, start: number, end: number, where: Where = {}) {
  const op: CompletedOp = {
    ...base(p, start, end, where),
    f: "add",
    invokeValue: element,
    resultValue: element,
  };
  return op;
}

export function readSet(
  p: number,
  elements: readonly Scalar[],
  start: number,
  end: number,
  where: Where = {},
): CompletedOp {
  return { ...base(p, start, end, where), f: "read", invokeValue: null, resultValue: elements };
}
