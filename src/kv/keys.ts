// Key order and string checks. Keys are ordered by Unicode code point, which is exactly the
// order of their UTF-8 bytes (etcd's order, and the order the snapshot stores them in).
// JavaScript's `<` compares UTF-16 code units instead, which disagrees when the first
// difference is a surrogate (a code point above U+FFFF) against a unit in U+E000..U+FFFF.

const highUnit = /[\uD800-\uFFFF]/;
const anySurrogate = /[\uD800-\uDFFF]/;
const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Code-point (= UTF-8 byte) order: negative, zero or positive. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** Lifts surrogates above every BMP unit, so that units compare like code points. */
function rank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x10000 : unit;
}

/** True when `text` has no lone surrogate, so its UTF-8 form round-trips exactly. */
export function isWellFormed(text: string): boolean {
  return !anySurrogate.test(text) || !lone.test(text);
}

/**
 * True when every UTF-16 unit of `key` is below U+D800. Comparing such a key with any other
 * string by `<` gives code-point order: at the first difference its unit is below U+D800, and
 * both orders put it before a surrogate or a unit in U+E000..U+FFFF. The tree checks this once
 * per search key and then uses the native comparison.
 */
export function isLowKey(key: string): boolean {
  return !highUnit.test(key);
}
