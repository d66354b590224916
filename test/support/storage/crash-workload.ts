// The workload shared by the crash-test child and its checker: entry payloads are a pure
// function of (index, term), so the checker can verify every byte that survived a SIGKILL.

import { type Entry, EntryType } from "../../../src/core/types.js";

export function payloadBytes(index: number, term: number): number {
  return mix(index, term) % 1500;
}

function mix(index: number, term: number): number {
  let x = (index * 73856093) ^ (term * 19349663);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 13)) >>> 0;
}

export function workloadEntry(index: number, term: number): Entry {
  const size = payloadBytes(index, term);
  const data = new Uint8Array(size);
  const seed = mix(index, term);
  for (let i = 0; i < size; i += 1) data[i] = (seed + i * 131) & 0xff;
  return { index, term, type: EntryType.Normal, data };
}

/**
 * Lines the child writes (synchronously, before and after each operation):
 *   A from to term sync   about to append        a from to term sync   append resolved
 *   T from                about to cut suffix    t from                cut resolved
 *   P upTo term           about to cut prefix    p upTo term           cut resolved
 *   S term                about to set the term  s term                set resolved
 */
export type WorkloadLine =
  | { readonly op: "A" | "a"; readonly from: number; readonly to: number; readonly term: number;
    readonly sync: boolean }
  | { readonly op: "T" | "t"; readonly from: number }
  | { readonly op: "P" | "p"; readonly upTo: number; readonly term: number }
  | { readonly op: "S" | "s"; readonly term: number };

export function formatLine(line: WorkloadLine): string {
  switch (line.op) {
    case "A": case "a":
      return `${line.op} ${line.from} ${line.to} ${line.term} ${line.sync ? 1 : 0}`;
    case "T": case "t": return `${line.op} ${line.from}`;
    case "P": case "p": return `${line.op} ${line.upTo} ${line.term}`;
    case "S": case "s": return `${line.op} ${line.term}`;
  }
}

export function parseLine(text: string): WorkloadLine {
  const [op, ...rest] = text.trim().split(" ");
  const numbers = rest.map(Number);
  const [first = NaN, second = NaN, third = NaN, fourth = NaN] = numbers;
  switch (op) {
    case "A": case "a": return { op, from: first, to: second, term: third, sync: fourth === 1 };
    case "T": case "t": return { op, from: first };
    case "P": case "p": return { op, upTo: first, term: second };
    case "S": case "s": return { op, term: first };
    default: throw new Error(`unexpected line from the crash child: ${JSON.stringify(text)}`);
  }
}
