// Judging a chaos history and writing what a run leaves behind: the history (JSON lines), the
// nemesis events (JSON), a summary (markdown) and the report (an SVG, and an HTML page holding
// both). Register workload: linearizability per key (lost is 0: an acknowledged write that
// vanished shows up as a non-linearizable read). Set workload: lost = acknowledged adds absent
// from the final read; elements that were never added, or whose add failed, make it invalid.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CompletedOp, type HistoryEvent, formatHistory, pairOperations } from "./history.js";
import { type CheckOptions, type CheckResult, checkLinearizable } from "./linearizability.js";
import type { NemesisEvent } from "./nemesis.js";
import { escapeXml, renderReport, renderSummary } from "./report.js";
import { type SetCheckResult, checkSet } from "./set-check.js";
import { type WorkloadKind, setKey } from "./workload.js";

export interface Verdict {
  readonly linearizable: boolean;
  readonly lost: number;
  /** "yes", "no", "unknown" (the search ran out of budget: reported as not linearizable). */
  readonly checker: "yes" | "no" | "unknown";
  readonly explanation: string;
  readonly register: CheckResult | null;
  readonly set: SetCheckResult | null;
}

export interface Counts {
  readonly ops: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

export function countOps(ops: readonly CompletedOp[]): Counts {
  const count = (type: string): number => ops.filter((op) => op.type === type).length;
  return { ops: ops.length, ok: count("ok"), fail: count("fail"), info: count("info") };
}

export function judge(
  ops: readonly CompletedOp[],
  workload: WorkloadKind,
  options: CheckOptions = {},
): Verdict {
  if (workload === "set") {
    let set: SetCheckResult;
    try {
      set = checkSet(ops, setKey);
    } catch (error) {
      const explanation = `set check failed: ${(error as Error).message}`;
      return {
        linearizable: false, lost: 0, checker: "unknown", explanation, register: null, set: null,
      };
    }
    const sound = set.unexpected.length === 0 && set.failedPresent.length === 0;
    const explanation = [
      `set: ${set.ok} acknowledged adds present, ${set.unknownPresent} unknown adds present`,
      `lost ${set.lost.length}: ${some(set.lost)}`,
      `never added ${set.unexpected.length}: ${some(set.unexpected)}`,
      `failed yet present ${set.failedPresent.length}: ${some(set.failedPresent)}`,
    ].join("\n");
    return {
      linearizable: sound, lost: set.lost.length, checker: sound ? "yes" : "no",
      explanation, register: null, set,
    };
  }
  const register = checkLinearizable(ops, options);
  if (register.valid === true) {
    return { linearizable: true, lost: 0, checker: "yes", explanation: "", register, set: null };
  }
  if (register.valid === "unknown") {
    return {
      linearizable: false, lost: 0, checker: "unknown",
      explanation: `unknown: ${register.reason}`, register, set: null,
    };
  }
  return {
    linearizable: false, lost: 0, checker: "no",
    explanation: register.explanation, register, set: null,
  };
}

/** The first 20 of a list, for explanations. */
function some(items: readonly string[]): string {
  return items.slice(0, 20).join(", ");
}

export interface Artifacts {
  readonly history: string;
  readonly nemesis: string;
  readonly summary: string;
  readonly svg: string;
  readonly report: string;
}

/** Writes history.jsonl, nemesis.json, summary.md, report.svg and report.html into `dir`. */
export async function writeArtifacts(
  dir: string,
  events: readonly HistoryEvent[],
  nemesis: readonly NemesisEvent[],
  verdict: Verdict,
  title: string,
): Promise<Artifacts> {
  const ops = pairOperations(events);
  const paths: Artifacts = {
    history: join(dir, "history.jsonl"),
    nemesis: join(dir, "nemesis.json"),
    summary: join(dir, "summary.md"),
    svg: join(dir, "report.svg"),
    report: join(dir, "report.html"),
  };
  await writeFile(paths.history, formatHistory(events));
  await writeFile(paths.nemesis, `${JSON.stringify(nemesis, null, 1)}\n`);
  const register = verdict.register ?? undefined;
  let summary = renderSummary(ops, nemesis, title, register);
  if (verdict.set !== null || verdict.checker === "unknown") {
    summary += `\n\`\`\`\n${verdict.explanation}\n\`\`\`\n`;
  }
  const svg = renderReport(ops, nemesis, title);
  await writeFile(paths.summary, summary);
  await writeFile(paths.svg, svg);
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeXml(title)}` +
    `</title></head>\n<body>\n${svg}\n<pre>${escapeXml(summary)}</pre>\n` +
    `<pre>${escapeXml(JSON.stringify(nemesis, null, 1))}</pre>\n</body></html>\n`;
  await writeFile(paths.report, html);
  return paths;
}
