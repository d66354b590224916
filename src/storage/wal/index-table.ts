// The WAL's in-memory index: for every live entry, its term, where its entry header sits in its
// segment, how far that is from the start of the record holding it (reads verify the whole
// record's checksum), and its payload size (for read budgets). 24 bytes an entry in typed
// arrays, no object per entry.
//
// The arrays come in fixed-size chunks (65,536 entries, 1.5 MiB). The table grows by adding a
// chunk and never copies. Growing one set of arrays by doubling stalled the append that crossed
// each power of two: it copied the live entries into fresh memory, whose pages the kernel then
// faulted in (about 11 µs a page on this virtual machine, recovery.ts). A new chunk's pages are
// touched a few entries at a time as it fills, and chunks that compaction empties are kept for
// the next ones (up to `spareChunksMax`): a log compacted behind its appends reuses the same
// few chunks. On tmpfs, appends of 256 entries to a new log went from 64-71 to 45-53 µs of user
// CPU per batch, their longest batch from 178-184 ms to 81-104 ms (what is left is the wait
// for the first spare segment), and the compacted log stayed as it was
// (bench/results/storage-wal-index-chunks-tmpfs-ab-2026-11-27.jsonl).

import { assert } from "../../assert.js";
import type { Entry, LogIndex, Term } from "../../core/types.js";

/** Entries per chunk, a power of two (tests use small chunks to cross their edges often). */
export const defaultChunkEntries = 1 << 16;
/** Emptied chunks kept for reuse: 12 MiB at the default size, more than a segment's entries. */
const spareChunksMax = 8;

interface Chunk {
  readonly terms: Float64Array;
  readonly offsets: Float64Array;
  /** offset - (start of the record holding the entry); records are < 4 GiB (recordLimits). */
  readonly recordDeltas: Uint32Array;
  readonly sizes: Uint32Array;
}

export class IndexTable {
  private readonly shift: number;
  private readonly mask: number;
  /** The live entries sit at positions start .. start + count - 1 across these chunks. */
  private chunks: Chunk[] = [];
  /** Position of `base` in chunks[0] (below one chunk: emptied chunks go at once). */
  private start = 0;
  private count = 0;
  /** Chunks that compaction emptied, for the next growth: their pages are already touched. */
  private readonly spares: Chunk[] = [];

  constructor(private base: LogIndex, private readonly chunkEntries = defaultChunkEntries) {
    assert(Number.isSafeInteger(base) && base >= 1, `index table base ${base}`);
    assert(Number.isSafeInteger(chunkEntries) && chunkEntries >= 1 &&
      (chunkEntries & (chunkEntries - 1)) === 0, `index table chunk of ${chunkEntries} entries`);
    this.shift = Math.log2(chunkEntries);
    this.mask = chunkEntries - 1;
  }

  get firstIndex(): LogIndex {
    return this.base;
  }

  get lastIndex(): LogIndex {
    return this.base + this.count - 1;
  }

  /** Appends the next index: entry header at `offset`, in the record starting at recordStart. */
  push(term: Term, offset: number, recordStart: number, dataBytes: number): void {
    assert(offset >= recordStart, "entry offset before its record");
    const at = this.start + this.count;
    const chunk = this.chunkFor(at);
    const slot = at & this.mask;
    chunk.terms[slot] = term;
    chunk.offsets[slot] = offset;
    chunk.recordDeltas[slot] = offset - recordStart;
    chunk.sizes[slot] = dataBytes;
    this.count += 1;
  }

  /**
   * Appends the next `count` indexes at once, entries[from .. from + count) encoded back to back
   * (each a `headerBytes` header, then its data) from `offset`, all in the record starting at
   * `recordStart`: what push() does for each, one chunk lookup per chunk. Returns where the last
   * one ends.
   */
  pushRun(entries: readonly Entry[], from: number, count: number, headerBytes: number,
    offset: number, recordStart: number): number {
    assert(offset >= recordStart, "entry offset before its record");
    let position = offset;
    let k = from;
    const end = from + count;
    while (k < end) {
      const at = this.start + this.count;
      const { terms, offsets, recordDeltas, sizes } = this.chunkFor(at);
      let slot = at & this.mask;
      const stop = Math.min(end, k + this.chunkEntries - slot);
      const first = k;
      for (; k < stop; k += 1) {
        const entry = entries[k] as Entry;
        const dataBytes = entry.data.length;
        terms[slot] = entry.term;
        offsets[slot] = position;
        recordDeltas[slot] = position - recordStart;
        sizes[slot] = dataBytes;
        position += headerBytes + dataBytes;
        slot += 1;
      }
      this.count += k - first;
    }
    return position;
  }

  term(index: LogIndex): Term {
    const at = this.position(index);
    return this.chunkAt(at).terms[at & this.mask] as number;
  }

  /** Offset of the entry's header in its segment. */
  offset(index: LogIndex): number {
    const at = this.position(index);
    return this.chunkAt(at).offsets[at & this.mask] as number;
  }

  /** Offset of the record holding the entry. */
  recordStart(index: LogIndex): number {
    const at = this.position(index);
    const chunk = this.chunkAt(at);
    const slot = at & this.mask;
    return (chunk.offsets[slot] as number) - (chunk.recordDeltas[slot] as number);
  }

  dataBytes(index: LogIndex): number {
    const at = this.position(index);
    return this.chunkAt(at).sizes[at & this.mask] as number;
  }

  /** Forgets index `fromIndex` and everything after it. */
  truncateFrom(fromIndex: LogIndex): void {
    assert(fromIndex >= this.base, `truncateFrom(${fromIndex}) < base ${this.base}`);
    assert(fromIndex <= this.lastIndex + 1, `truncateFrom(${fromIndex}) > last + 1`);
    this.count = fromIndex - this.base;
    // Chunks past the new end go (kept as spares).
    const used = Math.max(1, Math.ceil((this.start + this.count) / this.chunkEntries));
    while (this.chunks.length > used) this.release(this.chunks.pop() as Chunk);
  }

  /** Forgets everything before `index`; past the end, the table becomes empty at `index`. */
  dropBefore(index: LogIndex): void {
    assert(index >= this.base, `dropBefore(${index}) < base ${this.base}`);
    const dropped = Math.min(index - this.base, this.count);
    this.count -= dropped;
    this.base = index;
    if (this.count === 0) {
      // Empty: start again at the front of the first chunk, the others released.
      while (this.chunks.length > 1) this.release(this.chunks.pop() as Chunk);
      this.start = 0;
      return;
    }
    this.start += dropped;
    const emptied = this.start >>> this.shift;
    if (emptied > 0) {
      for (const chunk of this.chunks.splice(0, emptied)) this.release(chunk);
      this.start &= this.mask;
    }
  }

  private position(index: LogIndex): number {
    assert(index >= this.base && index <= this.lastIndex, () =>
      `index ${index} outside ${this.base}..${this.lastIndex}`);
    return this.start + index - this.base;
  }

  private chunkAt(position: number): Chunk {
    return this.chunks[position >>> this.shift] as Chunk;
  }

  /** The chunk for the next position, `at`, added when `at` starts a new one. */
  private chunkFor(at: number): Chunk {
    const which = at >>> this.shift;
    if (which < this.chunks.length) return this.chunks[which] as Chunk;
    assert(which === this.chunks.length, `index table position ${at} past the next chunk`);
    const chunk = this.spares.pop() ?? this.newChunk();
    this.chunks.push(chunk);
    return chunk;
  }

  private newChunk(): Chunk {
    const n = this.chunkEntries;
    return {
      terms: new Float64Array(n),
      offsets: new Float64Array(n),
      recordDeltas: new Uint32Array(n),
      sizes: new Uint32Array(n),
    };
  }

  /** Keeps a released chunk for reuse, up to spareChunksMax; the rest are left to the GC. */
  private release(chunk: Chunk): void {
    if (this.spares.length < spareChunksMax) this.spares.push(chunk);
  }
}
