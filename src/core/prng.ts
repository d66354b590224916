// A small seeded pseudo-random generator (sfc32). The core never calls Math.random: election
// jitter comes from a Prng passed in the config, so a run is reproducible from its seed.

import { assert } from "../assert.js";

export interface Prng {
  /** A uniformly distributed integer in [0, bound). */
  nextInt(bound: number): number;
  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number;
}

export class Sfc32 implements Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `prng seed ${seed} is not an integer`);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
    // Mix the seed in before the first output, as the generator's authors recommend.
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  nextFloat(): number {
    return this.nextUint32() / 0x100000000;
  }

  nextInt(bound: number): number {
    assert(Number.isSafeInteger(bound), `nextInt bound ${bound} is not an integer`);
    assert(bound > 0, `nextInt bound ${bound} must be positive`);
    return Math.floor(this.nextFloat() * bound);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** A new generator whose stream is independent of this one's future draws. */
  fork(): Sfc32 {
    return new Sfc32(this.nextUint32() * 0x10000 + (this.nextUint32() & 0xffff));
  }
}
