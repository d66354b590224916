// The chaos run report: an SVG (no dependencies) of every op's latency over time with the
// nemesis intervals shaded, plus ok throughput over time; and a markdown summary.

import { assert } from "../../src/assert.js";
import type { CompletedOp } from "./history.js";
import type { CheckResult } from "./linearizability.js";

/** A fault the nemesis held over [start, end] (ns since the start of the run). */
export interface NemesisInterval {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

const width = 1000;
const left = 70;
const right = 160;
const plotWidth = width - left - right;
const latencyTop = 60;
const latencyBottom = 420;
const throughputTop = 470;
const throughputBottom = 610;
const height = 650;
const colours = { ok: "#2a9d8f", fail: "#e63946", info: "#f4a261" } as const;
const nemesisColours = ["#457b9d", "#9b5de5", "#f15bb5", "#6a994e", "#bc6c25", "#8d99ae"];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fixed = (n: number): string => n.toFixed(1);

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  assert(rough > 0 && Number.isFinite(rough), `step ${rough} must be positive and finite`);
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= rough) return factor * power;
  return 10 * power;
}

interface Scale {
  readonly seconds: number;
  readonly x: (ns: number) => number;
}

function timeScale(ops: readonly CompletedOp[], nemesis: readonly NemesisInterval[]): Scale {
  let maxNs = 0;
  for (const op of ops) maxNs = Math.max(maxNs, op.start, Number.isFinite(op.end) ? op.end : 0);
  for (const n of nemesis) maxNs = Math.max(maxNs, n.start, Number.isFinite(n.end) ? n.end : 0);
  const seconds = maxNs > 0 ? maxNs / 1e9 : 1;
  const x = (ns: number): number => left + (Math.min(ns, maxNs) / 1e9 / seconds) * plotWidth;
  return { seconds, x };
}

function latencyMs(op: CompletedOp): number {
  return Math.max((op.end - op.start) / 1e6, 1e-3);
}

/** Log-scale y for latencies, in whole decades covering every finite latency. */
interface LatencyScale {
  readonly low: number;
  readonly high: number;
  readonly y: (ms: number) => number;
}

function latencyScale(ops: readonly CompletedOp[]): LatencyScale {
  const finite = ops.filter((op) => Number.isFinite(op.end)).map(latencyMs);
  const low = finite.length === 0 ? 0 : Math.floor(Math.log10(Math.min(...finite)));
  let high = finite.length === 0 ? 3 : Math.ceil(Math.log10(Math.max(...finite)));
  if (high <= low) high = low + 1;
  const top = latencyTop + 20; // the strip above holds info ops (latency unknown)
  const y = (ms: number): number =>
    latencyBottom - ((Math.log10(ms) - low) / (high - low)) * (latencyBottom - top);
  return { low, high, y };
}

function kindColour(kinds: readonly string[], kind: string): string {
  return nemesisColours[kinds.indexOf(kind) % nemesisColours.length] ?? "#888888";
}

function nemesisLayer(
  nemesis: readonly NemesisInterval[],
  scale: Scale,
  kinds: readonly string[],
): string[] {
  return nemesis.map((n) => {
    const x0 = scale.x(n.start);
    const x1 = Math.max(scale.x(n.end), x0 + 1);
    const colour = kindColour(kinds, n.kind);
    return (
      `<rect x="${fixed(x0)}" y="${latencyTop}" width="${fixed(x1 - x0)}" ` +
      `height="${throughputBottom - latencyTop}" fill="${colour}" fill-opacity="0.15">` +
      `<title>${escapeXml(n.kind)}</title></rect>`
    );
  });
}

function latencyLayer(ops: readonly CompletedOp[], scale: Scale): string[] {
  const { low, high, y } = latencyScale(ops);
  const parts: string[] = [];
  for (let decade = low; decade <= high; decade += 1) {
    const ms = 10 ** decade;
    const yy = fixed(y(ms));
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${yy}" y2="${yy}" ` +
      `stroke="#ddd"/><text x="${left - 6}" y="${yy}" text-anchor="end" ` +
      `dominant-baseline="middle">${ms >= 1 ? ms : ms.toPrecision(1)} ms</text>`);
  }
  parts.push(`<text x="${left - 6}" y="${latencyTop + 8}" text-anchor="end">info</text>`);
  for (const op of ops) {
    const cy = Number.isFinite(op.end) ? y(latencyMs(op)) : latencyTop + 8;
    parts.push(`<circle cx="${fixed(scale.x(op.start))}" cy="${fixed(cy)}" r="1.6" ` +
      `fill="${colours[op.type]}" fill-opacity="0.6"/>`);
  }
  return parts;
}

/** Ok ops per second, bucketed by completion time. */
export function throughput(
  ops: readonly CompletedOp[],
  seconds: number,
): { bucketS: number; rates: number[] } {
  const bucketS = seconds >= 20 ? Math.ceil(seconds / 200) : seconds / 20;
  const rates = new Array<number>(Math.ceil(seconds / bucketS) + 1).fill(0);
  for (const op of ops) {
    if (op.type !== "ok") continue;
    const bucket = Math.floor(op.end / 1e9 / bucketS);
    rates[bucket] = (rates[bucket] ?? 0) + 1 / bucketS;
  }
  return { bucketS, rates };
}

function throughputLayer(ops: readonly CompletedOp[], scale: Scale): string[] {
  const { bucketS, rates } = throughput(ops, scale.seconds);
  const maxRate = Math.max(1, ...rates);
  const step = niceStep(maxRate / 4);
  const topRate = step * Math.ceil(maxRate / step);
  const y = (rate: number): number =>
    throughputBottom - (rate / topRate) * (throughputBottom - throughputTop);
  const parts: string[] = [];
  for (let rate = 0; rate <= maxRate + step / 2; rate += step) {
    const yy = fixed(y(rate));
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${yy}" y2="${yy}" ` +
      `stroke="#ddd"/><text x="${left - 6}" y="${yy}" text-anchor="end" ` +
      `dominant-baseline="middle">${rate}</text>`);
  }
  const points = rates.map((rate, i) => {
    const ns = Math.min((i + 0.5) * bucketS, scale.seconds) * 1e9;
    return `${fixed(scale.x(ns))},${fixed(y(rate))}`;
  });
  parts.push(`<polyline points="${points.join(" ")}" fill="none" stroke="${colours.ok}" ` +
    `stroke-width="1.5"/>`);
  parts.push(`<text x="${left}" y="${throughputTop - 8}">ok ops/s (buckets of ` +
    `${bucketS.toPrecision(3)} s)</text>`);
  return parts;
}

function axisLayer(scale: Scale): string[] {
  const step = niceStep(scale.seconds / 10);
  const parts = [
    `<text x="${left}" y="${latencyTop - 8}">latency (log scale), by invoke time</text>`,
  ];
  for (let s = 0; s <= scale.seconds + step / 1e6; s += step) {
    const xx = fixed(scale.x(s * 1e9));
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${throughputBottom}" ` +
      `y2="${throughputBottom + 4}" stroke="#333"/>` +
      `<text x="${xx}" y="${throughputBottom + 16}" text-anchor="middle">` +
      `${Number(s.toPrecision(6))}</text>`);
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">` +
    `time (s)</text>`);
  return parts;
}

function legendLayer(kinds: readonly string[]): string[] {
  const x = left + plotWidth + 16;
  const parts: string[] = [];
  let y = latencyTop + 10;
  for (const [type, colour] of Object.entries(colours)) {
    parts.push(`<circle cx="${x}" cy="${y}" r="4" fill="${colour}"/>` +
      `<text x="${x + 10}" y="${y}" dominant-baseline="middle">${type}</text>`);
    y += 18;
  }
  for (const kind of kinds) {
    parts.push(`<rect x="${x - 4}" y="${y - 6}" width="12" height="12" ` +
      `fill="${kindColour(kinds, kind)}" fill-opacity="0.3"/>` +
      `<text x="${x + 10}" y="${y}" dominant-baseline="middle">${escapeXml(kind)}</text>`);
    y += 18;
  }
  return parts;
}

/** The SVG text of the report. */
export function renderReport(
  ops: readonly CompletedOp[],
  nemesisIntervals: readonly NemesisInterval[],
  title: string,
): string {
  for (const n of nemesisIntervals) {
    assert(n.end >= n.start, `nemesis ${n.kind} ends at ${n.end} before its start ${n.start}`);
  }
  const scale = timeScale(ops, nemesisIntervals);
  const kinds = [...new Set(nemesisIntervals.map((n) => n.kind))].sort();
  const body = [
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    ...nemesisLayer(nemesisIntervals, scale, kinds),
    ...latencyLayer(ops, scale),
    ...throughputLayer(ops, scale),
    ...axisLayer(scale),
    ...legendLayer(kinds),
  ];
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">\n` +
    `${body.join("\n")}\n</svg>\n`
  );
}

/** The q-quantile (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  assert(q >= 0 && q <= 1, `quantile ${q} outside [0, 1]`);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

function countsTable(ops: readonly CompletedOp[]): string[] {
  const fs = [...new Set(ops.map((op) => op.f))].sort();
  const rows = ["| f | ok | fail | info | total |", "|---|---:|---:|---:|---:|"];
  for (const f of [...fs, "all"]) {
    const mine = ops.filter((op) => f === "all" || op.f === f);
    const count = (type: string): number => mine.filter((op) => op.type === type).length;
    rows.push(`| ${f} | ${count("ok")} | ${count("fail")} | ${count("info")} | ${mine.length} |`);
  }
  return rows;
}

function verdictLines(verdict: CheckResult): string[] {
  if (verdict.valid === true) return ["**Linearizable:** yes"];
  if (verdict.valid === "unknown") return [`**Linearizable:** unknown (${verdict.reason})`];
  return [`**Linearizable:** no (key \`${verdict.key}\`)`, "", "```", verdict.explanation, "```"];
}

/** A markdown summary: op counts, ok latency quantiles, nemesis time, and the verdict if given. */
export function renderSummary(
  ops: readonly CompletedOp[],
  nemesisIntervals: readonly NemesisInterval[],
  title: string,
  verdict?: CheckResult,
): string {
  const latencies = ops
    .filter((op) => op.type === "ok")
    .map((op) => (op.end - op.start) / 1e6)
    .sort((a, b) => a - b);
  const ms = (q: number): string => quantile(latencies, q).toFixed(3);
  const lines = [`# ${title}`, "", ...countsTable(ops), ""];
  lines.push(`Ok latency (ms): p50 ${ms(0.5)}, p90 ${ms(0.9)}, p99 ${ms(0.99)}, max ${ms(1)}`, "");
  const kinds = [...new Set(nemesisIntervals.map((n) => n.kind))].sort();
  lines.push("| nemesis | intervals | total s |", "|---|---:|---:|");
  for (const kind of kinds) {
    const mine = nemesisIntervals.filter((n) => n.kind === kind);
    const total = mine.reduce((sum, n) => sum + (n.end - n.start) / 1e9, 0);
    lines.push(`| ${kind} | ${mine.length} | ${total.toFixed(3)} |`);
  }
  if (verdict !== undefined) lines.push("", ...verdictLines(verdict));
  return `${lines.join("\n")}\n`;
}
