// Proves that a large state streams as a snapshot in bounded memory: while a consumer reads
// and checksums the chunks (as the node does when it writes them to disk or a socket), the
// memory the process retains grows by about one chunk, not by the size of the snapshot; and
// the stream restores to an equal state. KV_SNAPSHOT_KEYS sets the key count (default 200,000,
// which runs in a few seconds on 2 cores; 1,000,000 takes about 10 s).

import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { crc32c } from "@node-rs/crc32";
import { encodeCommand } from "../../../src/kv/command.js";
import { KvStateMachine } from "../../../src/kv/kv-state-machine.js";
import { meta } from "./helpers.js";

const keyCount = Number(process.env["KV_SNAPSHOT_KEYS"] ?? 200_000);
const chunkBytes = 256 * 1024;
/** Retained growth allowed while streaming, whatever the state's size. */
const retainedBytesMax = 12 * 1024 * 1024;
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap plus array buffers (chunks live outside the JS heap). */
function retained(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * A full collection, then a pause: V8 frees ArrayBuffer backing stores on a concurrent
 * sweeper, so `arrayBuffers` right after gc() may still count chunks that are already garbage.
 */
async function settledRetained(): Promise<number> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  return retained();
}

test(`a snapshot of ${keyCount} keys streams with bounded memory and restores equal`,
  async (t) => {
    const sm = new KvStateMachine({ snapshotChunkBytes: chunkBytes });
    const value = "v".repeat(60);
    const started = performance.now();
    for (let i = 1; i <= keyCount; i++) {
      const key = `user/${String(i * 7919 % keyCount).padStart(8, "0")}`;
      sm.apply({ index: i, term: 1, data: encodeCommand({ kind: "put", key, value }) });
    }
    const builtMs = performance.now() - started;
    assert.equal(sm.size, keyCount);
    const base = await settledRetained();
    const baseRss = process.memoryUsage().rss;
    let peak = base;
    let peakRss = baseRss;
    let bytes = 0;
    let chunks = 0;
    let crc = 0;
    const streamStarted = performance.now();
    for await (const chunk of sm.snapshot()) {
      assert.ok(chunk.byteLength <= chunkBytes + 4, `chunk of ${chunk.byteLength} bytes`);
      crc = crc32c(chunk, crc); // stands for writing the chunk out; then it is dropped
      bytes += chunk.byteLength;
      chunks++;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (chunks % 16 === 0) peak = Math.max(peak, await settledRetained());
    }
    const streamMs = performance.now() - streamStarted;
    peak = Math.max(peak, await settledRetained());
    t.diagnostic(`keys ${keyCount}, built in ${builtMs.toFixed(0)} ms; snapshot ${mib(bytes)} MiB `
      + `in ${chunks} chunks, ${streamMs.toFixed(0)} ms; retained growth `
      + `${mib(peak - base)} MiB (limit ${mib(retainedBytesMax)}); rss ${mib(baseRss)} -> `
      + `peak ${mib(peakRss)} MiB`);
    // A CRC32C over data followed by its own little-endian CRC32C is this constant residue.
    assert.equal(crc, 0x48674bc7, "the stream ends with the CRC32C of everything before it");
    assert.ok(bytes > keyCount * 80, `snapshot of ${bytes} bytes`);
    assert.ok(peak - base < retainedBytesMax,
      `retained memory grew by ${mib(peak - base)} MiB while streaming ${mib(bytes)} MiB`);

    const restoreStarted = performance.now();
    const copy = new KvStateMachine();
    await copy.restore(sm.snapshot(), meta(keyCount));
    t.diagnostic(`restored in ${(performance.now() - restoreStarted).toFixed(0)} ms`);
    assert.equal(copy.size, keyCount);
    assert.equal(copy.stateHash(), sm.stateHash());
  });
