// Proves Redis glob matching (KEYS, SCAN MATCH): a table of Redis's cases (stars, ?, classes,
// negation, ranges, escapes, unclosed classes), a seeded property against a regular
// expression oracle, and the literal prefix that turns a pattern into a range.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { globMatch, globPrefix } from "../../../src/server/resp/glob.js";

const seed = Number(process.env["SEED"] ?? 20240601);

const table: [string, string, boolean][] = [
  ["*", "", true],
  ["*", "anything", true],
  ["user:*", "user:1", true],
  ["user:*", "use", false],
  ["h?llo", "hello", true],
  ["h?llo", "hllo", false],
  ["h*llo", "heeeello", true],
  ["h*llo", "hllo", true],
  ["h[ae]llo", "hallo", true],
  ["h[ae]llo", "hillo", false],
  ["h[^e]llo", "hallo", true],
  ["h[^e]llo", "hello", false],
  ["h[a-b]llo", "hbllo", true],
  ["h[b-a]llo", "hallo", true],
  ["h[a-b]llo", "hcllo", false],
  ["h\\*llo", "h*llo", true],
  ["h\\*llo", "hello", false],
  ["[\\]]", "]", true],
  ["[]a]", "a", false],
  ["[^]", "x", true],
  ["a[bc", "ab", true],
  ["a[bc", "ac", true],
  ["*a*b*c*", "xaxbxcx", true],
  ["*a*b*c*", "xaxcxbx", false],
  ["a*", "ba", false],
  ["\\", "\\", true],
  ["?", "é", true],
  ["[à-ï]", "é", true],
  ["**", "x", true],
  ["a*b", "ab", true],
  ["a*b", "abc", false],
  ["abc", "abc", true],
  ["abc", "ab", false],
];

test("glob matching follows Redis on a table of patterns", () => {
  for (const [pattern, text, expected] of table) {
    assert.equal(globMatch(pattern, text), expected, `${pattern} ~ ${text}`);
  }
});

/** A naive oracle: the pattern as a regular expression (no escapes or unclosed classes). */
function toRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      const body = pattern.slice(i + 1, close);
      source += body.startsWith("^") ? `[^${body.slice(1)}]` : `[${body}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

test("glob matching agrees with a regular expression oracle (seeded property)", () => {
  const atom = fc.oneof(
    fc.constantFrom("*", "?", "a", "b", "c"),
    fc.constantFrom("[ab]", "[^a]", "[a-c]", "[^b-c]"),
  );
  const pattern = fc.array(atom, { maxLength: 8 }).map((atoms) => atoms.join(""));
  const text = fc.string({ unit: fc.constantFrom("a", "b", "c", "d"), maxLength: 10 });
  fc.assert(
    fc.property(pattern, text, (p, t) => globMatch(p, t) === toRegExp(p).test(t)),
    { seed, numRuns: 3000 },
  );
});

test("a long pattern of stars against a long text is matched in polynomial time", () => {
  const pattern = `${"*a".repeat(30)}*b`;
  const text = "a".repeat(3000);
  const start = process.hrtime.bigint();
  assert.equal(globMatch(pattern, text), false);
  assert.ok(process.hrtime.bigint() - start < 2_000_000_000n);
});

test("the literal prefix of a pattern is the text before its first wildcard", () => {
  const prefixes: [string, string][] = [
    ["user:*", "user:"],
    ["user:1", "user:1"],
    ["*", ""],
    ["a?b", "a"],
    ["ab[cd]", "ab"],
    ["a\\*b*", "a*b"],
    ["a\\", "a\\"],
    ["é*", "é"],
  ];
  for (const [pattern, prefix] of prefixes) assert.equal(globPrefix(pattern), prefix, pattern);
});
