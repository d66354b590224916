// Redis glob patterns (KEYS, SCAN MATCH), following Redis's stringmatchlen: `*` any run,
// `?` one character, `[abc]`, `[^a]` (negated), `[a-z]` (ends swapped when reversed), `\x`
// a literal x (also inside classes); an unclosed `[` runs to the end of the pattern. Unlike
// Redis, which works on bytes, this works on code points, so `?` matches one character of a
// UTF-8 key. The pattern is compiled to single-character tokens and matched with the
// backtrack-to-last-star algorithm, O(pattern x text) at worst (never exponential).

import { assertNever } from "../../assert.js";

export type GlobToken =
  | { readonly kind: "star" }
  | { readonly kind: "any" }
  | { readonly kind: "literal"; readonly codePoint: number }
  | { readonly kind: "class"; readonly negated: boolean; readonly ranges: readonly Range[] };

interface Range {
  readonly low: number;
  readonly high: number;
}

const star = 0x2a;
const question = 0x3f;
const open = 0x5b;
const close = 0x5d;
const caret = 0x5e;
const dash = 0x2d;
const backslash = 0x5c;

function codePoints(text: string): number[] {
  const points: number[] = [];
  for (const char of text) points.push(char.codePointAt(0) ?? 0);
  return points;
}

export function compileGlob(pattern: string): readonly GlobToken[] {
  const p = codePoints(pattern);
  const tokens: GlobToken[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i] ?? 0;
    if (c === star) {
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
      i++;
    } else if (c === question) {
      tokens.push({ kind: "any" });
      i++;
    } else if (c === open) {
      const parsed = compileClass(p, i + 1);
      tokens.push(parsed.token);
      i = parsed.next;
    } else if (c === backslash && i + 1 < p.length) {
      tokens.push({ kind: "literal", codePoint: p[i + 1] ?? 0 });
      i += 2;
    } else {
      tokens.push({ kind: "literal", codePoint: c });
      i++;
    }
  }
  return tokens;
}

/** A class starting after its `[`; `next` is the index after its `]` (or the pattern end). */
function compileClass(p: readonly number[], from: number): { token: GlobToken; next: number } {
  let i = from;
  const negated = p[i] === caret;
  if (negated) i++;
  const ranges: Range[] = [];
  while (i < p.length) {
    const c = p[i] ?? 0;
    if (c === backslash && i + 1 < p.length) {
      const escaped = p[i + 1] ?? 0;
      ranges.push({ low: escaped, high: escaped });
      i += 2;
    } else if (c === close) {
      return { token: { kind: "class", negated, ranges }, next: i + 1 };
    } else if (p[i + 1] === dash && i + 2 < p.length) {
      // As Redis: `[a-]` is the range a..']' (then the class runs on), not a and '-'.
      const end = p[i + 2] ?? 0;
      ranges.push({ low: Math.min(c, end), high: Math.max(c, end) });
      i += 3;
    } else {
      ranges.push({ low: c, high: c });
      i++;
    }
  }
  return { token: { kind: "class", negated, ranges }, next: i };
}

function matchesOne(token: GlobToken, c: number): boolean {
  switch (token.kind) {
    case "any":
      return true;
    case "literal":
      return token.codePoint === c;
    case "class": {
      const inside = token.ranges.some((r) => c >= r.low && c <= r.high);
      return inside !== token.negated;
    }
    case "star":
      return false;
    default:
      return assertNever(token, "glob token");
  }
}

export function matchCompiled(tokens: readonly GlobToken[], text: string): boolean {
  const t = codePoints(text);
  let ti = 0;
  let pi = 0;
  let starAt = -1;
  let starText = 0;
  while (ti < t.length) {
    const token = tokens[pi];
    if (token?.kind === "star") {
      starAt = pi++;
      starText = ti;
    } else if (token !== undefined && matchesOne(token, t[ti] ?? 0)) {
      pi++;
      ti++;
    } else if (starAt >= 0) {
      // Let the last star take one more character and retry from just after it.
      pi = starAt + 1;
      ti = ++starText;
    } else {
      return false;
    }
  }
  while (tokens[pi]?.kind === "star") pi++;
  return pi === tokens.length;
}

export function globMatch(pattern: string, text: string): boolean {
  return matchCompiled(compileGlob(pattern), text);
}

/** The literal text every match starts with ("user:" for "user:*"), so a listing can range. */
export function globPrefix(pattern: string): string {
  let prefix = "";
  for (const token of compileGlob(pattern)) {
    if (token.kind !== "literal") break;
    prefix += String.fromCodePoint(token.codePoint);
  }
  return prefix;
}

/** True when the pattern matches every string ("*"), so filtering can be skipped. */
export function matchesEverything(pattern: string): boolean {
  const tokens = compileGlob(pattern);
  return tokens.length === 1 && tokens[0]?.kind === "star";
}
