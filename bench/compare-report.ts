// The compare-etcd report: a markdown table of medians over the rounds (throughput, latency and
// the raft-store/etcd ratio per case) and an SVG bar chart of throughput per case.

import type { LoadOp, LoadResult } from "../src/cli/load.js";

export interface Row {
  readonly round: number;
  readonly op: LoadOp;
  readonly clients: number;
  /** raft-store's rows with `-memory` ran with `--state memory`, the others on LMDB. */
  readonly system:
    | "etcd"
    | "raft-store-http"
    | "raft-store-resp"
    | "raft-store-http-memory"
    | "raft-store-resp-memory";
  readonly result: LoadResult;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface Cell {
  readonly ops: number;
  readonly p50: number;
  readonly p99: number;
  readonly ratio: number;
}

function cell(
  rows: readonly Row[],
  op: LoadOp,
  clients: number,
  system: Row["system"],
): Cell | null {
  const mine = rows.filter((r) => r.op === op && r.clients === clients && r.system === system);
  if (mine.length === 0) return null;
  const ratios = mine.map((r) => {
    const etcd = rows.find(
      (e) => e.system === "etcd" && e.op === op && e.clients === clients && e.round === r.round,
    );
    return etcd === undefined ? NaN : r.result.opsPerSec / etcd.result.opsPerSec;
  });
  return {
    ops: median(mine.map((r) => r.result.opsPerSec)),
    p50: median(mine.map((r) => r.result.p50Ms)),
    p99: median(mine.map((r) => r.result.p99Ms)),
    ratio: median(ratios),
  };
}

function cases(rows: readonly Row[]): [LoadOp, number][] {
  const seen = new Map<string, [LoadOp, number]>();
  for (const r of rows) seen.set(`${r.op}/${r.clients}`, [r.op, r.clients]);
  return [...seen.values()];
}

const f0 = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : "-");

export function renderTable(rows: readonly Row[]): string {
  const rounds = new Set(rows.map((r) => r.round)).size;
  const out = [
    `Medians of ${rounds} round(s). ops/s; latency in ms; ratio = raft-store / etcd ops/s (median of per-round ratios).`,
    "",
    "| case | clients | etcd ops/s | etcd p50 | etcd p99 | raft-store HTTP ops/s | HTTP p50 | HTTP p99 | HTTP ratio | RESP ops/s | RESP p99 | RESP ratio |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const [op, clients] of cases(rows)) {
    const e = cell(rows, op, clients, "etcd");
    const h = cell(rows, op, clients, "raft-store-http");
    const r = cell(rows, op, clients, "raft-store-resp");
    out.push(
      `| ${op} | ${clients} | ${f0(e?.ops ?? NaN)} | ${f2(e?.p50 ?? NaN)} | ${f2(e?.p99 ?? NaN)} | ` +
        `${f0(h?.ops ?? NaN)} | ${f2(h?.p50 ?? NaN)} | ${f2(h?.p99 ?? NaN)} | **${f2(h?.ratio ?? NaN)}** | ` +
        `${f0(r?.ops ?? NaN)} | ${f2(r?.p99 ?? NaN)} | ${f2(r?.ratio ?? NaN)} |`,
    );
  }
  const memory = cases(rows).filter(([op, c]) => cell(rows, op, c, "raft-store-http-memory"));
  if (memory.length > 0) {
    out.push(
      "",
      "raft-store with its key-value state in memory (`--state memory`; the Raft log on disk as " +
        "above):",
      "",
      "| case | clients | etcd ops/s | HTTP ops/s | HTTP p50 | HTTP p99 | HTTP ratio | RESP ops/s " +
        "| RESP p99 | RESP ratio |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const [op, clients] of memory) {
      const e = cell(rows, op, clients, "etcd");
      const h = cell(rows, op, clients, "raft-store-http-memory");
      const r = cell(rows, op, clients, "raft-store-resp-memory");
      out.push(
        `| ${op} | ${clients} | ${f0(e?.ops ?? NaN)} | ${f0(h?.ops ?? NaN)} | ` +
          `${f2(h?.p50 ?? NaN)} | ${f2(h?.p99 ?? NaN)} | **${f2(h?.ratio ?? NaN)}** | ` +
          `${f0(r?.ops ?? NaN)} | ${f2(r?.p99 ?? NaN)} | ${f2(r?.ratio ?? NaN)} |`,
      );
    }
  }
  return out.join("\n");
}

const colours: Record<Row["system"], string> = {
  etcd: "#7f8c8d",
  "raft-store-http": "#2e86de",
  "raft-store-resp": "#27ae60",
  "raft-store-http-memory": "#8e44ad",
  "raft-store-resp-memory": "#e67e22",
};

export function renderChart(rows: readonly Row[]): string {
  const groups = cases(rows);
  const systems = (Object.keys(colours) as Row["system"][])
    .filter((s) => rows.some((r) => r.system === s));
  const values = groups.map(([op, c]) => systems.map((s) => cell(rows, op, c, s)?.ops ?? 0));
  const max = Math.max(1, ...values.flat());
  const barW = 14;
  const groupW = barW * systems.length + 16;
  const width = Math.max(80 + groups.length * groupW, 80 + systems.length * 150);
  const height = 340;
  const plotH = 240;
  const y = (v: number): number => 40 + plotH - (v / max) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<text x="10" y="20" font-size="13">etcd 3.4 vs raft-store: ops/s (median of rounds), 3 members, loopback, fsync on</text>`,
    `<line x1="60" y1="${40 + plotH}" x2="${width - 10}" y2="${40 + plotH}" stroke="#333"/>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(
      `<text x="5" y="${y(v) + 3}">${f0(v)}</text>`,
      `<line x1="60" y1="${y(v)}" x2="${width - 10}" y2="${y(v)}" stroke="#ddd"/>`,
    );
  }
  groups.forEach(([op, clients], g) => {
    const x0 = 70 + g * groupW;
    systems.forEach((s, i) => {
      const v = values[g]?.[i] ?? 0;
      parts.push(
        `<rect x="${x0 + i * barW}" y="${y(v)}" width="${barW - 2}" height="${40 + plotH - y(v)}" fill="${colours[s]}"><title>${s} ${op} ${clients}: ${f0(v)}</title></rect>`,
      );
    });
    parts.push(
      `<text x="${x0}" y="${56 + plotH}">${op}</text>`,
      `<text x="${x0}" y="${68 + plotH}">c=${clients}</text>`,
    );
  });
  systems.forEach((s, i) => {
    parts.push(
      `<rect x="${70 + i * 150}" y="${height - 22}" width="10" height="10" fill="${colours[s]}"/>`,
      `<text x="${84 + i * 150}" y="${height - 13}">${s}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
