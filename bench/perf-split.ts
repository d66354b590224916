// `node dist/bench/perf-split.js <perf script output> <tid>=<name>[,<tid>=<name>...]`: where each
// named thread's CPU samples went, from a system-wide `perf` profile: in user space, or in the
// kernel, and there in which kind of work (socket writes, socket reads, file writes, epoll,
// futex, page faults, other). A V8 profile (--cpu-prof) cannot show this split: it sees a
// system call as one native frame. Made with Linux perf (Debian's linux-perf), while a
// benchmark runs:
//
//   perf record -a -g -e cpu-clock -F 999 -o sys.data -- sleep 8
//   perf script -i sys.data -F tid,ip,sym,dso > sys.txt
//   node dist/bench/perf-split.js sys.txt 1234=leader,1240=loadgen
//
// A thread's main thread id is its process id. Prints one JSON line per named thread: its
// samples and the share of each kind. On a virtual machine, samples taken with interrupts off
// land where they are turned back on, so a share is the work's, not the function's.

import { readFileSync } from "node:fs";
import { runProfileCli } from "./cpu-profile.js";

type Kind = "user" | "socket write" | "socket read" | "file write" | "epoll" | "futex" |
  "page fault" | "other kernel";

/** The kind of a sample from its call chain, leaf first: [symbol, object] pairs. */
export function classify(stack: readonly (readonly [string, string])[]): Kind {
  const leaf = stack[0];
  if (leaf === undefined || !leaf[1].includes("kernel")) return "user";
  const has = (test: (symbol: string) => boolean): boolean => stack.some(([s]) => test(s));
  if (has((s) => s.startsWith("tcp_sendmsg") || s === "sock_write_iter")) return "socket write";
  if (has((s) => s === "sock_recvmsg" || s === "sock_read_iter" || s.startsWith("tcp_recvmsg"))) {
    return "socket read";
  }
  if (has((s) => s.includes("pwritev") || s.includes("do_writev") || s.startsWith("ext4_"))) {
    return "file write";
  }
  if (has((s) => s.includes("epoll"))) return "epoll";
  if (has((s) => s.includes("futex"))) return "futex";
  if (has((s) => s.includes("page_fault"))) return "page fault";
  return "other kernel";
}

/** Samples of `perf script -F tid,ip,sym,dso`: a line with the thread id, then its frames. */
export function* samples(text: string): Generator<{ tid: number; stack: [string, string][] }> {
  let tid: number | null = null;
  let stack: [string, string][] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (tid !== null) yield { tid, stack };
      tid = null;
      stack = [];
      continue;
    }
    const head = /^\s*(\d+)\s*$/.exec(line);
    if (head !== null) {
      tid = Number(head[1]);
      continue;
    }
    const frame = /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (frame !== null) stack.push([(frame[1] ?? "").split("+0x")[0] ?? "", frame[2] ?? ""]);
  }
  if (tid !== null) yield { tid, stack };
}

/** One JSON line per named thread (`names`: "<tid>=<name>,..."), from the perf script text. */
export function split(text: string, names: string): string[] {
  const named = new Map(names.split(",").map((pair) => {
    const [tid, name] = pair.split("=");
    if (tid === undefined || name === undefined || !/^\d+$/.test(tid)) {
      throw new Error(`bad thread "${pair}": expected <tid>=<name>`);
    }
    return [Number(tid), name] as const;
  }));
  const counts = new Map<number, Map<Kind, number>>();
  for (const { tid, stack } of samples(text)) {
    if (!named.has(tid)) continue;
    const kinds = counts.get(tid) ?? new Map<Kind, number>();
    const kind = classify(stack);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    counts.set(tid, kinds);
  }
  return [...named].map(([tid, name]) => {
    const kinds = counts.get(tid) ?? new Map<Kind, number>();
    let total = 0;
    for (const n of kinds.values()) total += n;
    const shares = Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => [kind, Math.round((n / total) * 1000) / 1000]));
    return JSON.stringify({ thread: name, tid, samples: total, shares });
  });
}

const usage = "node dist/bench/perf-split.js <perf script output> <tid>=<name>[,<tid>=<name>...]";
runProfileCli(import.meta.url, usage, (file, names) => {
  if (names === undefined) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exitCode = 2;
    return;
  }
  for (const line of split(readFileSync(file, "utf8"), names)) process.stdout.write(`${line}\n`);
});
