// A seeded random workload of committed entries for equivalence tests: every command kind,
// TTLs and a moving clock, sessions with retries and stale sequences, keys long enough to
// share LMDB buckets (1900+ bytes with a common prefix), astral characters, and garbage
// entries that every replica must reject alike.

import { Sfc32 } from "../../../src/core/prng.js";
import { encodeCommand, formatLimits } from "../../../src/kv/command.js";
import type { Command } from "../../../src/kv/types.js";

/** Keys of 1950+ bytes sharing their first 1900: several per LMDB bucket. */
const longPrefix = "L".repeat(1950);

export class Workload {
  private readonly prng: Sfc32;
  private readonly sequences = new Map<string, number>();
  nowMs = 1_000_000;

  constructor(seed: number) {
    this.prng = new Sfc32(seed);
  }

  private int(n: number): number {
    return this.prng.nextInt(n);
  }

  key(): string {
    const n = this.int(60);
    if (n < 6) return `${longPrefix}${n % 3}${n < 3 ? "" : "\u{1F600}"}`;
    return `k/${n}${this.int(6) === 0 ? "é" : ""}`;
  }

  /** The next entry's bytes: usually a command, sometimes garbage. */
  next(): Uint8Array {
    this.nowMs += this.int(30);
    if (this.int(50) === 0) return Uint8Array.from([2, this.int(9), this.int(4), this.int(256)]);
    let command = this.command();
    if (command.kind !== "sweep" && this.int(4) !== 0) command = { ...command, nowMs: this.nowMs };
    if (this.int(3) === 0) command = { ...command, session: this.session() };
    return encodeCommand(command, formatLimits);
  }

  private session(): { clientId: string; sequence: number } {
    const clientId = `client-${this.int(12)}`;
    const last = this.sequences.get(clientId) ?? 0;
    const roll = this.int(10);
    const sequence = roll < 7 ? last + 1 : roll < 9 ? Math.max(1, last) : Math.max(1, last - 1);
    this.sequences.set(clientId, Math.max(last, sequence));
    return { clientId, sequence };
  }

  private ttl(): number {
    return this.nowMs + 1 + this.int(400);
  }

  private command(): Command {
    switch (this.int(12)) {
      case 0:
      case 1:
        return { kind: "put", key: this.key(), value: `v${this.int(1000)}` };
      case 2:
        return { kind: "put", key: this.key(), value: "t", expiresAtMs: this.ttl() };
      case 3:
        return { kind: "put", key: this.key(), value: "x", keepTtl: true,
          condition: this.int(2) === 0 ? "present" : "absent" };
      case 4:
        return { kind: "incr", key: this.key(), delta: `${this.int(2001) - 1000}` };
      case 5:
        return { kind: "expire", key: this.key(), expiresAtMs: this.int(3) === 0 ? 0 : this.ttl() };
      case 6:
        return { kind: "delete", key: this.key() };
      case 7:
        return { kind: "sweep", nowMs: this.nowMs,
          keys: [{ key: this.key(), modIndex: 1 + this.int(50) }] };
      default:
        return { kind: "txn", txn: {
          compare: [{ target: "absent", key: this.key() }],
          success: [{ op: "put", key: this.key(), value: "s" }, { op: "get", key: this.key() }],
          failure: [{ op: "delete", key: this.key() }, { op: "get", key: this.key() }] } };
    }
  }
}
