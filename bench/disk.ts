// The disk's own limits, measured in the same run as the stores they are compared with:
// 4 KiB appends each followed by fdatasync (the best a batch-of-one log can do), and 1 MiB
// appends each followed by fdatasync (the best sequential durable throughput). A third line,
// 64 KiB appends each followed by fdatasync, is the ceiling for one batch of 256 entries in
// flight (about 68 KiB framed): each such batch pays a whole fdatasync. A fourth, 64 KiB O_DSYNC
// writes into a file zero-filled beforehand, is the WAL's own pattern when its preallocated
// segment is ready (blocking calls, as the WAL writes when nothing else waits): overwriting
// allocated blocks skips the file system's journal commit, so it is the ceiling for one batch in
// flight over a WAL whose segments are zeroed ahead; sustained appends also pay for the zeroing.
// A fifth, the same writes over 64 MiB segments while the next one is zero-filled in the
// background by the WAL's own SpareSegment, is that sustained pattern with none of the WAL's CPU
// work: the ceiling for the WAL's batch-256 case.

import { closeSync, constants, fdatasyncSync, openSync, writeSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { SpareSegment } from "../src/storage/wal/spare-segment.js";
import { type BenchLine, latency, round } from "./report.js";

export interface DiskLimits {
  readonly fsyncPerSec: number;
  readonly seqMbPerSec: number;
  readonly lines: readonly BenchLine[];
}

interface Timed {
  readonly samples: number[];
  readonly elapsed: number;
  readonly bytes: number;
}

/** Repeats `write` (given the bytes written so far, returns what it wrote) for `seconds`. */
async function timed(seconds: number, write: (bytes: number) => number | Promise<number>):
  Promise<Timed> {
  const samples: number[] = [];
  const start = performance.now();
  let bytes = 0;
  while (performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    bytes += await write(bytes);
    samples.push(performance.now() - t0);
  }
  return { samples, elapsed: (performance.now() - start) / 1000, bytes };
}

async function appendWithSync(path: string, chunkBytes: number, seconds: number): Promise<Timed> {
  const handle = await open(path, "w");
  const chunk = Buffer.alloc(chunkBytes, 0xab);
  try {
    return await timed(seconds, async (position) => {
      await handle.write(chunk, 0, chunkBytes, position);
      await handle.datasync();
      return chunkBytes;
    });
  } finally {
    await handle.close();
  }
}

/**
 * The `seqwrite` pattern alone for `seconds` (1 MiB appends, each followed by fdatasync), its file
 * removed afterwards: MB/s. The storage bench runs it right before and right after each
 * bandwidth-bound case, since this disk's speed drifts within the minute a run takes.
 */
export async function sequentialMbPerSec(dir: string, seconds: number): Promise<number> {
  const path = join(dir, "disk-seqwrite-around");
  try {
    const t = await appendWithSync(path, 1024 * 1024, seconds);
    return t.bytes / 1e6 / t.elapsed;
  } finally {
    await rm(path, { force: true });
  }
}

/** O_DSYNC writes of `chunkBytes` over a zero-filled file of `fileBytes` (a multiple of it). */
async function overwriteWithDsync(path: string, chunkBytes: number, fileBytes: number,
  seconds: number): Promise<Timed> {
  const zeros = Buffer.alloc(1024 * 1024);
  const fill = openSync(path, "w");
  try {
    for (let at = 0; at < fileBytes; at += zeros.length) {
      writeSync(fill, zeros, 0, zeros.length, at);
    }
    fdatasyncSync(fill);
  } finally {
    closeSync(fill);
  }
  const fd = openSync(path, constants.O_WRONLY | constants.O_DSYNC);
  const chunk = Buffer.alloc(chunkBytes, 0xab);
  try {
    return await timed(seconds,
      (written) => writeSync(fd, chunk, 0, chunkBytes, written % fileBytes));
  } finally {
    closeSync(fd);
  }
}

/**
 * O_DSYNC writes of `chunkBytes` into segments of `segmentBytes` taken from a SpareSegment, which
 * zero-fills the next one in the background meanwhile (a full segment waits for its successor).
 * Each write yields to the event loop once, as the WAL's group commit does between groups.
 */
async function overwriteWhileFilling(dir: string, chunkBytes: number, segmentBytes: number,
  seconds: number): Promise<Timed> {
  const spare = await SpareSegment.open(dir, segmentBytes);
  const chunk = Buffer.alloc(chunkBytes, 0xab);
  let fd: number | null = null;
  let segments = 0;
  let position = 0;
  try {
    await spare.whenFilled();
    return await timed(seconds, async () => {
      if (fd === null || position + chunkBytes > segmentBytes) {
        if (fd !== null) closeSync(fd);
        fd = null;
        const path = join(dir, `disk-zerofill-${segments++}`);
        if (!await spare.takeAs(path)) {
          if (!await spare.whenFilled() || !await spare.takeAs(path)) {
            throw new Error(`no zero-filled segment for ${path}`);
          }
        }
        fd = openSync(path, constants.O_WRONLY | constants.O_DSYNC);
        position = 0;
      }
      position += writeSync(fd, chunk, 0, chunkBytes, position);
      await new Promise<void>((resolve) => setImmediate(resolve));
      return chunkBytes;
    });
  } finally {
    if (fd !== null) closeSync(fd);
    await spare.close();
  }
}

export async function measureDisk(dir: string, seconds: number): Promise<DiskLimits> {
  const small = await appendWithSync(join(dir, "disk-fsync"), 4096, seconds);
  const large = await appendWithSync(join(dir, "disk-seqwrite"), 1024 * 1024, seconds);
  const medium = await appendWithSync(join(dir, "disk-write64k"), 64 * 1024, seconds);
  const segmentBytes = 64 * 1024 * 1024;
  const over =
    await overwriteWithDsync(join(dir, "disk-over64k"), 64 * 1024, segmentBytes, seconds);
  const filling = await overwriteWhileFilling(dir, 64 * 1024, segmentBytes, seconds);
  const fsyncPerSec = small.samples.length / small.elapsed;
  const seqMbPerSec = large.bytes / 1e6 / large.elapsed;
  const base = { suite: "storage", system: "disk", backend: null, clients: null, errors: 0,
    ratio: null, ratioTo: null } as const;
  /** A 64 KiB line, as a ratio to the sequential one. */
  const againstSequential = (name: string, t: Timed): BenchLine => ({
    ...base, case: name, batch: null, opsPerSec: round(t.samples.length / t.elapsed, 1),
    mbPerSec: round(t.bytes / 1e6 / t.elapsed), ...latency(t.samples), seconds: round(t.elapsed),
    writeBytes: 64 * 1024, ratio: round(t.bytes / 1e6 / t.elapsed / seqMbPerSec), ratioTo: "disk",
    ratioOf: "mbPerSec/seqwrite",
  });
  const lines: BenchLine[] = [
    { ...base, case: "fsync", batch: 1, opsPerSec: round(fsyncPerSec, 1),
      mbPerSec: round(small.bytes / 1e6 / small.elapsed), ...latency(small.samples),
      seconds: round(small.elapsed), writeBytes: 4096 },
    { ...base, case: "seqwrite", batch: null,
      opsPerSec: round(large.samples.length / large.elapsed, 1),
      mbPerSec: round(seqMbPerSec), ...latency(large.samples), seconds: round(large.elapsed),
      writeBytes: 1024 * 1024 },
    againstSequential("write64k", medium),
    againstSequential("overwrite64k", over),
    againstSequential("zerofill64k", filling),
  ];
  return { fsyncPerSec, seqMbPerSec, lines };
}
