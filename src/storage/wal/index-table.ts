// The WAL's in-memory index: for every live entry, its term, where its entry header sits in its
// segment, how far that is from the start of the record holding it (reads verify the whole
// record's checksum), and its payload size (for read budgets). Four typed arrays, 24 bytes an
// entry, no object per entry. Position i holds index base + i.

import { assert } from "../../assert.js";
import type { Entry, LogIndex, Term } from "../../core/types.js";

const initialCapacity = 1024;

export class IndexTable {
  private terms = new Float64Array(initialCapacity);
  private offsets = new Float64Array(initialCapacity);
  /** offset - (start of the record holding the entry); records are < 4 GiB (recordLimits). */
  private recordDeltas = new Uint32Array(initialCapacity);
  private sizes = new Uint32Array(initialCapacity);
  /** Array position of `base`. Dropping a prefix moves it forward instead of copying. */
  private start = 0;
  private count = 0;

  constructor(private base: LogIndex) {
    assert(Number.isSafeInteger(base) && base >= 1, `index table base ${base}`);
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
    if (this.start + this.count === this.offsets.length) this.makeRoom(1);
    const at = this.start + this.count;
    this.terms[at] = term;
    this.offsets[at] = offset;
    this.recordDeltas[at] = offset - recordStart;
    this.sizes[at] = dataBytes;
    this.count += 1;
  }

  /**
   * Appends the next `count` indexes at once, entries[from .. from + count) encoded back to back
   * (each a `headerBytes` header, then its data) from `offset`, all in the record starting at
   * `recordStart`: what push() does for each, with one capacity check. Returns where the last
   * one ends.
   */
  pushRun(entries: readonly Entry[], from: number, count: number, headerBytes: number,
    offset: number, recordStart: number): number {
    assert(offset >= recordStart, "entry offset before its record");
    if (this.start + this.count + count > this.offsets.length) this.makeRoom(count);
    const { terms, offsets, recordDeltas, sizes } = this;
    let at = this.start + this.count;
    let position = offset;
    for (let k = from; k < from + count; k += 1) {
      const entry = entries[k] as Entry;
      const dataBytes = entry.data.length;
      terms[at] = entry.term;
      offsets[at] = position;
      recordDeltas[at] = position - recordStart;
      sizes[at] = dataBytes;
      position += headerBytes + dataBytes;
      at += 1;
    }
    this.count += count;
    return position;
  }

  term(index: LogIndex): Term {
    return this.terms[this.position(index)] as number;
  }

  /** Offset of the entry's header in its segment. */
  offset(index: LogIndex): number {
    return this.offsets[this.position(index)] as number;
  }

  /** Offset of the record holding the entry. */
  recordStart(index: LogIndex): number {
    const at = this.position(index);
    return (this.offsets[at] as number) - (this.recordDeltas[at] as number);
  }

  dataBytes(index: LogIndex): number {
    return this.sizes[this.position(index)] as number;
  }

  /** Forgets index `fromIndex` and everything after it. */
  truncateFrom(fromIndex: LogIndex): void {
    assert(fromIndex >= this.base, `truncateFrom(${fromIndex}) < base ${this.base}`);
    assert(fromIndex <= this.lastIndex + 1, `truncateFrom(${fromIndex}) > last + 1`);
    this.count = fromIndex - this.base;
  }

  /** Forgets everything before `index`; past the end, the table becomes empty at `index`. */
  dropBefore(index: LogIndex): void {
    assert(index >= this.base, `dropBefore(${index}) < base ${this.base}`);
    const dropped = Math.min(index - this.base, this.count);
    this.start = dropped === this.count ? 0 : this.start + dropped;
    this.count -= dropped;
    this.base = index;
  }

  private position(index: LogIndex): number {
    assert(index >= this.base && index <= this.lastIndex, () =>
      `index ${index} outside ${this.base}..${this.lastIndex}`);
    return this.start + index - this.base;
  }

  /** Room for `extra` more entries after the live ones. */
  private makeRoom(extra: number): void {
    const capacity = this.offsets.length;
    let size = capacity;
    while (this.count * 2 > size || this.count + extra > size) size *= 2;
    const end = this.start + this.count;
    if (size === capacity) {
      // Move the live entries to the front in place: new arrays would be fresh memory, and on
      // this virtual machine first touching a 4 KiB page costs about 11 µs (recovery.ts).
      this.terms.copyWithin(0, this.start, end);
      this.offsets.copyWithin(0, this.start, end);
      this.recordDeltas.copyWithin(0, this.start, end);
      this.sizes.copyWithin(0, this.start, end);
      this.start = 0;
      return;
    }
    const live = (array: Float64Array | Uint32Array) => array.subarray(this.start, end);
    const terms = new Float64Array(size);
    const offsets = new Float64Array(size);
    const recordDeltas = new Uint32Array(size);
    const sizes = new Uint32Array(size);
    terms.set(live(this.terms));
    offsets.set(live(this.offsets));
    recordDeltas.set(live(this.recordDeltas));
    sizes.set(live(this.sizes));
    this.terms = terms;
    this.offsets = offsets;
    this.recordDeltas = recordDeltas;
    this.sizes = sizes;
    this.start = 0;
  }
}
