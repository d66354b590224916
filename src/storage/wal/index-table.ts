// The WAL's in-memory index: for every live entry, its term and its byte offset in its segment,
// in two typed arrays (16 bytes an entry, no object per entry). Position i holds index base + i.

import { assert } from "../../assert.js";
import type { LogIndex, Term } from "../../core/types.js";

export class IndexTable {
  private offsets = new Float64Array(1024);
  private terms = new Float64Array(1024);
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

  push(term: Term, offset: number): void {
    if (this.start + this.count === this.offsets.length) this.makeRoom();
    this.offsets[this.start + this.count] = offset;
    this.terms[this.start + this.count] = term;
    this.count += 1;
  }

  offset(index: LogIndex): number {
    return this.at(this.offsets, index);
  }

  term(index: LogIndex): Term {
    return this.at(this.terms, index);
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

  private at(array: Float64Array, index: LogIndex): number {
    assert(index >= this.base && index <= this.lastIndex, () =>
      `index ${index} outside ${this.base}..${this.lastIndex}`);
    return array[this.start + index - this.base] as number;
  }

  private makeRoom(): void {
    const capacity = this.offsets.length;
    const size = this.count * 2 > capacity ? capacity * 2 : capacity;
    const offsets = new Float64Array(size);
    const terms = new Float64Array(size);
    offsets.set(this.offsets.subarray(this.start, this.start + this.count));
    terms.set(this.terms.subarray(this.start, this.start + this.count));
    this.offsets = offsets;
    this.terms = terms;
    this.start = 0;
  }
}
