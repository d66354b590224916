// Inline commands (a plain line, as typed into telnet or sent by redis-cli for some input):
// split like Redis's sdssplitargs. Outside quotes, whitespace separates arguments; "double
// quotes" take \n \r \t \b \a \\ \" and \xHH escapes; 'single quotes' take only \'. A closing
// quote must be followed by whitespace or the end of the line. Works on bytes: arguments may
// be binary.

const quote = 0x22;
const apostrophe = 0x27;
const backslash = 0x5c;

function isSpace(byte: number): boolean {
  // ' ', \t, \n, \v, \f, \r (C isspace)
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
}

const escapes: ReadonlyMap<number, number> = new Map([
  [0x6e, 0x0a], // n
  [0x72, 0x0d], // r
  [0x74, 0x09], // t
  [0x62, 0x08], // b
  [0x61, 0x07], // a
]);

/** The arguments of one line, or null when its quotes are unbalanced. */
export function splitInlineArgs(line: Uint8Array): Buffer[] | null {
  const args: Buffer[] = [];
  let position = 0;
  for (;;) {
    while (position < line.length && isSpace(line[position] ?? 0)) position++;
    if (position >= line.length) return args;
    const token = readToken(line, position);
    if (token === null) return null;
    args.push(Buffer.from(token.bytes));
    position = token.end;
  }
}

interface Token {
  readonly bytes: number[];
  /** Index just past the token (and past its closing quote). */
  readonly end: number;
}

function readToken(line: Uint8Array, start: number): Token | null {
  const bytes: number[] = [];
  let position = start;
  while (position < line.length) {
    const byte = line[position] ?? 0;
    if (isSpace(byte)) break;
    if (byte === quote || byte === apostrophe) {
      const end = readQuoted(line, position + 1, byte, bytes);
      if (end === null) return null;
      // After a closing quote only whitespace or the end of the line may follow.
      if (end < line.length && !isSpace(line[end] ?? 0)) return null;
      return { bytes, end };
    }
    bytes.push(byte);
    position++;
  }
  return { bytes, end: position };
}

/** Appends the quoted text to `out`; the index past the closing quote, or null if unclosed. */
function readQuoted(line: Uint8Array, start: number, close: number, out: number[]): number | null {
  let position = start;
  while (position < line.length) {
    const byte = line[position] ?? 0;
    if (byte === close) return position + 1;
    const next = line[position + 1];
    if (byte === backslash && next !== undefined) {
      const escaped = close === quote ? doubleQuoted(line, position) : singleQuoted(next);
      if (escaped !== null) {
        out.push(escaped.byte);
        position += escaped.length;
        continue;
      }
    }
    out.push(byte);
    position++;
  }
  return null;
}

interface Escape {
  readonly byte: number;
  readonly length: number;
}

function doubleQuoted(line: Uint8Array, position: number): Escape {
  const next = line[position + 1] ?? 0;
  const high = hexValue(line[position + 2]);
  const low = hexValue(line[position + 3]);
  if (next === 0x78 && high >= 0 && low >= 0) return { byte: high * 16 + low, length: 4 };
  return { byte: escapes.get(next) ?? next, length: 2 };
}

function singleQuoted(next: number): Escape | null {
  return next === apostrophe ? { byte: apostrophe, length: 2 } : null;
}
