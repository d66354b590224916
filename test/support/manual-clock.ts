// A virtual clock for driver tests: timers fire only when the test advances time, and between
// ticks the event loop is drained so that in-memory storage and transport settle.

import type { Clock } from "../../src/node/ports.js";

interface Timer {
  readonly id: number;
  at: number;
  readonly every: number | null;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  private time = 0;
  private timers = new Map<number, Timer>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setInterval(callback: () => void, ms: number): unknown {
    return this.add(callback, ms, ms);
  }

  setTimeout(callback: () => void, ms: number): unknown {
    return this.add(callback, ms, null);
  }

  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  private add(callback: () => void, ms: number, every: number | null): number {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.time + ms, every, callback });
    return id;
  }

  /** Advances time by `ms` in steps of `stepMs`, firing timers and draining the event loop. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    const end = this.time + ms;
    while (this.time < end) {
      this.time = Math.min(end, this.time + stepMs);
      this.fireDue();
      await settle();
    }
  }

  /** Advances until `condition` holds, failing after `ms`. */
  async until(condition: () => boolean, ms: number, what: string): Promise<void> {
    const end = this.time + ms;
    while (!condition()) {
      if (this.time >= end) throw new Error(`timed out after ${ms} virtual ms waiting for ${what}`);
      await this.advance(10);
    }
  }

  private fireDue(): void {
    const due = [...this.timers.values()].filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at || a.id - b.id);
    for (const timer of due) {
      if (!this.timers.has(timer.id)) continue;
      if (timer.every === null) this.timers.delete(timer.id);
      else timer.at += timer.every;
      timer.callback();
    }
  }
}

/** Lets promises and setImmediate callbacks (memory storage and transport) run to quiescence. */
export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
