// CPU time of processes, read from /proc/<pid>/stat (Linux), for the CPU each operation costs
// every process of a benchmark: members and the load generator share the machine's cores, so
// their CPU per operation, added up, bounds the throughput. MachineMeter reads the whole
// machine from /proc/stat, steal included.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!(ticksPerSecond > 0)) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** User plus system CPU of process `pid` so far, in microseconds; null where /proc is missing. */
export function processCpuUs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return ((utime + stime) * 1e6) / clockTicks();
  } catch {
    return null;
  }
}

/** This process's CPU so far, in microseconds. */
export function ownCpuUs(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** The machine's CPU time so far by state, in clock ticks, from the first line of /proc/stat. */
export interface MachineCpu {
  readonly busy: number;
  readonly idle: number;
  readonly iowait: number;
  /** Time the hypervisor gave this VM's CPUs to other guests. */
  readonly steal: number;
}

/** Null where /proc/stat is missing or unreadable. */
export function machineCpu(): MachineCpu | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    const [label, ...rest] = line.trim().split(/\s+/);
    const t = rest.map(Number);
    if (label !== "cpu" || t.length < 8 || t.some((x) => !Number.isFinite(x))) return null;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = t as [number, number,
      number, number, number, number, number, number];
    return { busy: user + nice + system + irq + softirq, idle, iowait, steal };
  } catch {
    return null;
  }
}

/** Shares of the machine's CPU time between two readings (they add up to 1). */
export type MachineShares = MachineCpu;

/**
 * Where the machine's CPU time went over a measured run: how busy it was, how idle, and how
 * much the hypervisor stole for other guests (a busy neighbour slows every figure of a run).
 */
export class MachineMeter {
  private before: MachineCpu | null = null;

  start(): void {
    this.before = machineCpu();
  }

  /** Shares rounded to 0.001; null before start() or without /proc/stat. */
  shares(): MachineShares | null {
    const before = this.before;
    const after = machineCpu();
    if (before === null || after === null) return null;
    const d = {
      busy: after.busy - before.busy,
      idle: after.idle - before.idle,
      iowait: after.iowait - before.iowait,
      steal: after.steal - before.steal,
    };
    const total = d.busy + d.idle + d.iowait + d.steal;
    if (!(total > 0)) return null;
    const share = (x: number): number => Math.round((x / total) * 1000) / 1000;
    return { busy: share(d.busy), idle: share(d.idle), iowait: share(d.iowait),
      steal: share(d.steal) };
  }
}
