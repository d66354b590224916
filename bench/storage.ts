// `npm run bench -- storage [--seconds N] [--dir D] [--backends wal,lmdb,level]
//  [--open-entries N] [--wal-write-mode auto|inline|thread] [--wal-preallocate on|off]`: for
// each disk backend, synced appends of 256-byte entries at batch sizes 1, 16 and 256 with one
// append in flight (`clients` null), batch 256 with 4 and 16 concurrent appenders (`clients` 4
// and 16), the time to open a store of N entries (default 1,000,000), and the sequential
// read-back of that store; plus the disk's own limits, as ratios. The WAL runs as the server
// runs it by default (write mode auto, preallocated segments); its lines name the setting. For
// the WAL, case "append-compacted" repeats batch 256 (one append in flight, then 4 and 16) in
// the steady state of a Raft log: the log is compacted behind the appends (a segment's worth
// kept), as a node does after its snapshots, so new segments are made from compacted ones
// (recycled-segments.ts). The plain "append" cases start from an empty log, so every segment is
// new. One JSON line per case; append lines also give this process's user and system CPU µs per
// batch, and `machine`: the shares of the machine's CPU time that were busy, idle, in iowait and
// stolen by the hypervisor. Batch-256 lines also give `seqwriteAround`, the disk's sequential
// rate measured again for half a second just before the case opens its store and just after it
// closes it, and `ratioAround`, the case's ratio to their mean. The WAL's "wal-encode" and
// "wal-frame" lines give the CPU of its two per-batch encoding steps, with no disk involved. Data
// goes to a temporary directory that is removed afterwards.

import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Entry, EntryType } from "../src/core/types.js";
import { openStorage } from "../src/storage/open-storage.js";
import { defaultSegmentBytes } from "../src/storage/options.js";
import { type DiskStorageKind, type Storage, diskStorageKinds } from "../src/storage/types.js";
import { encodeRuns, frameRecords } from "../src/storage/wal/record.js";
import {
  type WalWriteMode,
  defaultRecordBytesTarget,
  walWriteModes,
} from "../src/storage/wal/wal-log-store.js";
import { type DiskLimits, measureDisk, sequentialMbPerSec } from "./disk.js";
import { MachineMeter } from "./process-cpu.js";
import {
  type BenchLine,
  choice,
  choiceList,
  directoryOption,
  latency,
  numberOption,
  parseOptions,
  positiveInteger,
  printLine,
  round,
} from "./report.js";

const entryBytes = 256;
/** Sequential cases: one append in flight (`clients` null). */
const batchSizes = [1, 16, 256] as const;
/** [batch, clients]: concurrent appenders, what a pipelining driver or several groups do. */
const concurrentCases = [[256, 4], [256, 16]] as const;
const payload = Buffer.alloc(entryBytes, 0x5c);
/** About how many of these entries (with their 16-byte headers) fill a default WAL segment. */
const entriesPerSegment = Math.ceil(defaultSegmentBytes / (entryBytes + 16));

function entriesFrom(index: number, count: number): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i += 1) {
    entries.push({ term: 1, index: index + i, type: EntryType.Normal, data: payload });
  }
  return entries;
}

/** How the WAL is opened in this run; recorded on its lines. */
interface WalSetting {
  readonly writeMode: WalWriteMode;
  readonly preallocate: boolean;
}

/** A backend under test, with the WAL's setting (ignored by the others). */
interface Store {
  readonly kind: DiskStorageKind;
  readonly wal: WalSetting;
}

function open(store: Store, dir: string): Promise<Storage> {
  const { kind, wal } = store;
  return kind === "wal" ? openStorage({ kind, dir, ...wal }) : openStorage({ kind, dir });
}

function base(store: Store, name: string, batch: number | null) {
  const setting = store.kind === "wal"
    ? { walWriteMode: store.wal.writeMode, walPreallocate: store.wal.preallocate }
    : {};
  return { suite: "storage", case: name, system: "raft-store", backend: store.kind, batch,
    clients: null, errors: 0, ...setting } as const;
}

/**
 * Synced appends of `batch` entries by `clients` appenders, each with one append in flight and
 * issuing its next as soon as its last resolved. With one client this is the plain sequential
 * case; with more, appends overlap and a backend may cover several with one fsync (group
 * commit). Indexes are handed out in call order, which is the order a store accepts them in.
 */
async function appendCase(store: Store, dir: string, batch: number, clients: number,
  seconds: number, disk: DiskLimits, compacted = false): Promise<BenchLine> {
  // Small batches are bound by fsyncs, large ones by bandwidth: compare each with that limit.
  const byBandwidth = batch >= 256;
  // The disk's sequential rate right around this case too (its speed drifts within a run).
  const aroundSeconds = Math.min(0.5, seconds);
  const seqBefore = byBandwidth ? await sequentialMbPerSec(dirname(dir), aroundSeconds) : null;
  const storage = await open(store, dir);
  const samples: number[] = [];
  let next = storage.log.lastIndex() + 1;
  const compact = compacted ? compactor(storage) : async () => undefined;
  let start = performance.now();
  let cpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  const machine = new MachineMeter();
  const client = async (): Promise<void> => {
    while (performance.now() - start < seconds * 1000) {
      const t0 = performance.now();
      const entries = entriesFrom(next, batch);
      next += batch;
      await storage.log.append(entries, { sync: true });
      await compact();
      samples.push(performance.now() - t0);
    }
  };
  try {
    if (compacted) {
      // Untimed: enough segments written and compacted that new ones are made from old ones.
      while (next <= 4 * entriesPerSegment) {
        const entries = entriesFrom(next, 4096);
        next += 4096;
        await storage.log.append(entries, { sync: true });
        await compact();
      }
      start = performance.now();
    }
    const cpuBefore = process.cpuUsage();
    machine.start();
    await Promise.all(Array.from({ length: clients }, client));
    cpu = process.cpuUsage(cpuBefore);
  } finally {
    await storage.close();
  }
  const elapsed = (performance.now() - start) / 1000;
  const seqAfter = byBandwidth ? await sequentialMbPerSec(dirname(dir), aroundSeconds) : null;
  const batchesPerSec = samples.length / elapsed;
  const mbPerSec = (samples.length * batch * entryBytes) / 1e6 / elapsed;
  const ratio = byBandwidth ? mbPerSec / disk.seqMbPerSec : batchesPerSec / disk.fsyncPerSec;
  const name = compacted ? "append-compacted" : "append";
  return { ...base(store, name, batch), clients: clients === 1 ? null : clients,
    opsPerSec: round(batchesPerSec * batch, 1), mbPerSec: round(mbPerSec), ...latency(samples),
    seconds: round(elapsed), ratio: round(ratio), ratioTo: "disk",
    ratioOf: byBandwidth ? "mbPerSec/seqwrite" : "batchesPerSec/fsync",
    // `seqwrite` measured again for half a second around the case (before its store opens,
    // after it closes), and the ratio to their mean: a check on `ratio` when the disk's speed
    // moved during the run.
    seqwriteAround: seqBefore === null || seqAfter === null ? null
      : [round(seqBefore), round(seqAfter)],
    ratioAround: seqBefore === null || seqAfter === null ? null
      : round((2 * mbPerSec) / (seqBefore + seqAfter)),
    // This process's CPU per batch (the store's work, its threads' included, and the loop's).
    cpuUserUsPerBatch: samples.length === 0 ? null : round(cpu.user / samples.length, 1),
    cpuSystemUsPerBatch: samples.length === 0 ? null : round(cpu.system / samples.length, 1),
    machine: machine.shares() };
}

/**
 * Compacts the log behind the appends as a Raft node does after a snapshot: once it holds two
 * segments' worth of entries, everything but the last segment's worth goes.
 */
function compactor(storage: Storage): () => Promise<void> {
  let compacting = false; // concurrent appenders: one of them compacts at a time
  return async () => {
    const { log } = storage;
    const last = log.lastIndex();
    if (compacting || last - log.firstIndex() + 1 < 2 * entriesPerSegment) return;
    compacting = true;
    try {
      await log.truncatePrefix(last - entriesPerSegment, 1);
    } finally {
      compacting = false;
    }
  };
}

/**
 * The WAL's own CPU for a batch of 256 entries, apart from any disk and from the store's
 * bookkeeping: "wal-encode" copies the entries and their headers into one buffer (encodeRuns,
 * when an append is accepted), "wal-frame" frames that into a record with its CRC32C
 * (frameRecords, when the group is written). Each line gives user + system CPU µs per batch.
 */
function walCpuCases(store: Store, seconds: number): BenchLine[] {
  const batch = 256;
  const lines: BenchLine[] = [];
  const steps = [
    ["wal-encode", (batchOf: Entry[]) => encodeRuns(batchOf, defaultRecordBytesTarget)],
    ["wal-frame", (batchOf: Entry[]) => {
      frameRecords(encodeRuns(batchOf, defaultRecordBytesTarget), defaultRecordBytesTarget, 7);
    }],
  ] as const;
  // The same entries every time: neither step keeps or changes them.
  const entries = entriesFrom(1, batch);
  for (const [name, step] of steps) {
    // The frame case encodes too; its line is reported net of the encode case's cost.
    const netOf = lines[0]?.cpuUsPerBatch;
    for (let k = 0; k < 2000; k++) step(entries); // warm-up
    const until = performance.now() + Math.max(1, seconds / 3) * 1000;
    const before = process.cpuUsage();
    const start = performance.now();
    let batches = 0;
    while (performance.now() < until) {
      step(entries);
      batches++;
    }
    const used = process.cpuUsage(before);
    const elapsed = (performance.now() - start) / 1000;
    const perBatch = (used.user + used.system) / batches;
    const cpuUsPerBatch = round(typeof netOf === "number" ? perBatch - netOf : perBatch, 1);
    lines.push({ ...base(store, name, batch), opsPerSec: round((batches * batch) / elapsed, 1),
      mbPerSec: null, p50Ms: null, p99Ms: null, maxMs: null, seconds: round(elapsed),
      ratio: null, ratioTo: null, cpuUsPerBatch });
  }
  return lines;
}

/** Fills a store with `count` entries (unsynced batches, one final sync). */
async function fill(store: Store, dir: string, count: number): Promise<void> {
  const storage = await open(store, dir);
  try {
    for (let index = 1; index <= count; index += 4096) {
      const batch = entriesFrom(index, Math.min(4096, count - index + 1));
      await storage.log.append(batch, { sync: index + 4096 > count });
    }
  } finally {
    await storage.close();
  }
}

async function openAndReadCases(store: Store, dir: string, count: number): Promise<BenchLine[]> {
  await fill(store, dir, count);
  const t0 = performance.now();
  const storage: Storage = await open(store, dir);
  const openSeconds = (performance.now() - t0) / 1000;
  const errors = storage.log.lastIndex() === count ? 0 : 1;
  const t1 = performance.now();
  let read = 0;
  try {
    for (let index = 1; index <= count; index += read === 0 ? 1 : 0) {
      const entries = await storage.log.entries(index, count + 1, 4 * 1024 * 1024);
      read += entries.length;
      index += entries.length;
    }
  } finally {
    await storage.close();
  }
  const readSeconds = (performance.now() - t1) / 1000;
  const none = { p50Ms: null, p99Ms: null, maxMs: null, ratio: null, ratioTo: null } as const;
  return [
    { ...base(store, "open", null), ...none, errors, opsPerSec: round(count / openSeconds, 1),
      mbPerSec: null, seconds: round(openSeconds), entries: count },
    { ...base(store, "read", null), ...none, errors: read === count ? 0 : 1,
      opsPerSec: round(read / readSeconds, 1),
      mbPerSec: round((read * entryBytes) / 1e6 / readSeconds), seconds: round(readSeconds),
      entries: read },
  ];
}

export async function run(args: readonly string[]): Promise<void> {
  const options = parseOptions(args,
    ["seconds", "dir", "backends", "open-entries", "wal-write-mode", "wal-preallocate"]);
  const seconds = numberOption(options, "seconds", 3, "a number > 0");
  const openEntries = positiveInteger(options, "open-entries", 1_000_000);
  const backends = choiceList(options, "backends", "wal,lmdb,level", diskStorageKinds);
  const writeMode = choice<WalWriteMode>(options, "wal-write-mode", "auto", walWriteModes);
  const preallocate = choice(options, "wal-preallocate", "on", ["on", "off"] as const);
  const wal: WalSetting = { writeMode, preallocate: preallocate === "on" };
  const root = await mkdtemp(join(await directoryOption(options), "raft-store-bench-"));
  try {
    const disk = await measureDisk(root, seconds);
    disk.lines.forEach(printLine);
    for (const kind of backends) {
      const store: Store = { kind, wal };
      for (const batch of batchSizes) {
        const dir = join(root, `${kind}-append-${batch}`);
        printLine(await appendCase(store, dir, batch, 1, seconds, disk));
      }
      for (const [batch, clients] of concurrentCases) {
        const dir = join(root, `${kind}-append-${batch}x${clients}`);
        printLine(await appendCase(store, dir, batch, clients, seconds, disk));
      }
      if (kind === "wal") {
        // The steady state of a Raft node's log: one append in flight, then as many as a
        // pipelining leader keeps in flight (one group commit covers several).
        for (const clients of [1, ...concurrentCases.map(([, c]) => c)]) {
          const dir = join(root, `${kind}-append-compacted-${clients}`);
          printLine(await appendCase(store, dir, 256, clients, seconds, disk, true));
        }
        walCpuCases(store, seconds).forEach(printLine);
      }
      for (const line of await openAndReadCases(store, join(root, `${kind}-open`), openEntries)) {
        printLine(line);
      }
      await rm(join(root, `${kind}-open`), { recursive: true, force: true });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
