// Shared pieces of the snapshot stream tests: an offer, deterministic data from a seeded
// generator (so both ends can be compared byte for byte without holding the data twice), and a
// handler that records what it received and how its iteration ended.

import { crc32c } from "@node-rs/crc32";
import { type NodeId, type SnapshotMeta, nodeId } from "../../../src/core/types.js";
import type { IncomingSnapshot, SnapshotOffer } from "../../../src/transport/transport.js";
import { seed } from "./helpers.js";

export const meta: SnapshotMeta = {
  index: 1234,
  term: 7,
  configuration: { voters: [nodeId(1), nodeId(2), nodeId(3)], votersOutgoing: [], learners: [] },
};

export function offer(from: number, to: number): SnapshotOffer {
  return { from: nodeId(from), to: nodeId(to), term: 9, meta };
}

/** A seeded xorshift32 filling buffers: the same `streamSeed` gives the same bytes. */
export function fill(buf: Buffer, state: { x: number }): void {
  let x = state.x;
  let i = 0;
  for (; i + 4 <= buf.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeInt32LE(x | 0, i);
  }
  for (; i < buf.length; i++) buf[i] = x & 0xff;
  state.x = x;
}

export interface Source {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Bytes pulled from the iterable so far, its running CRC32C, and whether it finished. */
  readonly progress: { bytes: number; checksum: number; done: boolean };
}

/**
 * A stream of `sizes.length` chunks; `failAt` makes the iterable throw before that chunk.
 * `reuse` yields the same buffer every time (the transport must copy what it keeps).
 */
export function source(
  sizes: readonly number[],
  options: { failAt?: number; reuse?: boolean; streamSeed?: number } = {},
): Source {
  const progress = { bytes: 0, checksum: 0, done: false };
  const state = { x: (options.streamSeed ?? seed) | 1 };
  const largest = Math.max(0, ...sizes);
  const shared = Buffer.allocUnsafe(largest);
  async function* generate(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < sizes.length; i++) {
      if (i === options.failAt) throw new Error(`source failed before chunk ${i}`);
      const size = sizes[i] ?? 0;
      const chunk = options.reuse === true ? shared.subarray(0, size) : Buffer.allocUnsafe(size);
      fill(chunk, state);
      progress.bytes += size;
      progress.checksum = crc32c(chunk, progress.checksum);
      yield chunk;
    }
    progress.done = true;
  }
  return { chunks: generate(), progress };
}

export interface Received {
  readonly from: NodeId;
  readonly offer: SnapshotOffer;
  bytes: number;
  checksum: number;
  chunks: number;
  data: Buffer[];
  /** How the iteration ended: "ok", or the error it threw. */
  end: "ok" | unknown;
}

/**
 * A handler that consumes every chunk (keeping them if `keep`), waits `delayMs` per chunk,
 * records the result, and rejects with what the iteration threw (or `refuse`).
 */
export function recorder(options: { keep?: boolean; delayMs?: number; refuse?: string } = {}) {
  const received: Received[] = [];
  const handler = async (incoming: IncomingSnapshot): Promise<void> => {
    const { from, to, term } = incoming;
    const record: Received = {
      from, offer: { from, to, term, meta: incoming.meta }, bytes: 0, checksum: 0, chunks: 0,
      data: [], end: undefined,
    };
    received.push(record);
    try {
      for await (const chunk of incoming.chunks) {
        record.bytes += chunk.byteLength;
        record.checksum = crc32c(Buffer.from(chunk), record.checksum);
        record.chunks++;
        if (options.keep === true) record.data.push(Buffer.from(chunk));
        if (options.refuse !== undefined) throw new Error(options.refuse);
        if (options.delayMs !== undefined) await sleep(options.delayMs);
      }
      record.end = "ok";
    } catch (error) {
      record.end = error;
      throw error;
    }
  };
  return { handler, received };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function sizes(count: number, size: number): number[] {
  return Array.from({ length: count }, () => size);
}

export const mebibyte = 1024 * 1024;

/**
 * How `promise` settles: "resolved" or its error. Attached at once, so a rejection that comes
 * while the test awaits something else is not reported as unhandled.
 */
export function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => "resolved", (error: unknown) => error);
}
