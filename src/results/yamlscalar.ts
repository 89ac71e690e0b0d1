/**
 * Scalar rules of YAML 1.2 for the fast item-tree reader (yamlfast.ts): how a plain scalar
 * resolves under the core schema, and how quoted scalars unfold across lines. Anything these
 * helpers are not sure of returns `undefined`, and the reader hands the file to the generic
 * parser instead.
 */

const OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const INF_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/**
 * What a plain (unquoted) scalar means under the YAML 1.2 core schema, the schema the generic
 * parser uses: null, a boolean, an integer (decimal, 0o octal, 0x hex), a float, or the text.
 */
export function resolvePlain(s: string): string | number | boolean | null {
  if (s.length === 0) return null;
  const c = s.charCodeAt(0);
  switch (c) {
    case 0x7e: // ~
      return s === '~' ? null : s;
    case 0x6e: // n
    case 0x4e: // N
      return s === 'null' || s === 'Null' || s === 'NULL' ? null : s;
    case 0x74: // t
    case 0x54: // T
      return s === 'true' || s === 'True' || s === 'TRUE' ? true : s;
    case 0x66: // f
    case 0x46: // F
      return s === 'false' || s === 'False' || s === 'FALSE' ? false : s;
  }
  // Every number starts with a digit, a sign or a dot.
  if (!((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return s;
  if (OCT.test(s)) return parseInt(s.slice(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (HEX.test(s)) return parseInt(s.slice(2), 16);
  if (INF_NAN.test(s)) {
    if (s.endsWith('nan') || s.endsWith('NaN') || s.endsWith('NAN')) return NaN;
    return s.startsWith('-') ? -Infinity : Infinity;
  }
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/** `s` without the spaces at its end. */
function trimSpacesEnd(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 0x20) e--;
  return e === s.length ? s : s.slice(0, e);
}

/** Index of the first character of `s` at or after `from` that is not a space. */
function skipSpaces(s: string, from: number): number {
  while (s.charCodeAt(from) === 0x20) from++;
  return from;
}

/**
 * Line folding of a multi-line flow scalar (the text between the quotes, or a plain scalar's
 * lines): spaces around each line break go, one break becomes a space, n+1 breaks become n
 * newlines. Single-quoted text still holds its `''` escapes.
 */
export function foldLines(raw: string): string {
  const lines = raw.split('\n');
  let out = trimSpacesEnd(lines[0]!);
  let breaks = 0;
  const last = lines.length - 1;
  for (let i = 1; i <= last; i++) {
    const line = lines[i]!;
    const end = i === last ? line : trimSpacesEnd(line);
    const text = end.slice(skipSpaces(end, 0));
    if (text === '' && i !== last) {
      breaks++;
      continue;
    }
    out += breaks === 0 ? ' ' : '\n'.repeat(breaks);
    out += text;
    breaks = 0;
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };
const HEX_DIGITS = /^[0-9a-fA-F]+$/;

/**
 * The value of a double-quoted scalar from the text between its quotes: escapes decoded, line
 * breaks folded (an escaped break joins the lines). `undefined` for anything doubtful: an unknown
 * or malformed escape, or an escaped break followed by an empty line.
 */
export function decodeDoubleQuoted(raw: string): string | undefined {
  let out = '';
  // Spaces before an unescaped break are dropped, but never those an escape produced.
  let kept = 0;
  let i = 0;
  const n = raw.length;
  while (i < n) {
    let j = i;
    for (; j < n; j++) {
      const c = raw.charCodeAt(j);
      if (c === 0x5c || c === 0x0a) break;
    }
    if (j > i) out += raw.slice(i, j);
    if (j >= n) break;
    if (raw.charCodeAt(j) === 0x0a) {
      let e = out.length;
      while (e > kept && out.charCodeAt(e - 1) === 0x20) e--;
      out = out.slice(0, e);
      let k = skipSpaces(raw, j + 1);
      let breaks = 0;
      while (raw.charCodeAt(k) === 0x0a) {
        breaks++;
        k = skipSpaces(raw, k + 1);
      }
      out += breaks === 0 ? ' ' : '\n'.repeat(breaks);
      i = k;
      continue;
    }
    const next = raw[j + 1];
    if (next === undefined) return undefined;
    if (next === '\n') {
      const k = skipSpaces(raw, j + 2);
      if (raw.charCodeAt(k) === 0x0a) return undefined;
      i = k;
      kept = out.length;
      continue;
    }
    const simple = ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i = j + 2;
    } else {
      const len = HEX_LENGTH[next];
      if (len === undefined) return undefined;
      const digits = raw.slice(j + 2, j + 2 + len);
      if (digits.length !== len || !HEX_DIGITS.test(digits)) return undefined;
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) return undefined;
      out += String.fromCodePoint(code);
      i = j + 2 + len;
    }
    kept = out.length;
  }
  return out;
}
