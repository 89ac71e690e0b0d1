/**
 * The lexical layer of the fast item-tree reader (yamlfast.ts): a cursor over the lines of the
 * text and the scalars of the YAML subset it knows (plain, single- and double-quoted, folded over
 * lines or not; literal blocks; `[]` and `{}`). Anything outside that subset calls `bail()`, and
 * the reader steps aside for the generic parser.
 */
import { decodeDoubleQuoted, foldLines, resolvePlain } from './yamlscalar.js';

/** Thrown inside the reader to step aside; caught by `parseItemYamlFast`, never further. */
class Unrecognised extends Error {}
export const UNRECOGNISED: Error = new Unrecognised('not in the fast reader’s subset');

export function bail(): never {
  throw UNRECOGNISED;
}

/** A value as the generic parser gives it for `details`. */
export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

/** Characters that cannot start a plain key or a plain scalar here (indicators). */
export const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

export const SPACE = 0x20;
export const COLON = 0x3a;
export const DASH = 0x2d;
export const SQ = 0x27;
export const DQ = 0x22;
const LF = 0x0a;

/** Plain values kept as one shared string each. */
const COMMON_VALUES = [
  'passed',
  'failed',
  'skipped',
  'unknown',
  'timeout',
  'file',
  'node',
  'summary',
];

/**
 * A one-line double-quoted scalar whose escapes are all JSON's (`\\n`, `\\"`, `\\uXXXX`...), read by
 * the native JSON parser: those escapes mean the same in YAML, and fathom writes only them.
 */
function jsonString(src: string, open: number, close: number): string | undefined {
  try {
    return JSON.parse(src.slice(open, close + 1)) as string;
  } catch {
    return undefined;
  }
}

/**
 * One pass over the text, line by line. The reader always sits at the start of a line that has
 * content (`pos`), with its indentation (`ind`), first non-space (`cs`) and end (`eol`) known;
 * at the end of the text `ind` is -1 so every open block closes.
 */
export class LineReader {
  protected readonly len: number;
  protected pos = 0;
  protected ind = 0;
  protected cs = 0;
  protected eol = 0;

  constructor(protected readonly src: string) {
    this.len = src.length;
  }

  /** Moves to the first line at or after `from` that has content. */
  protected next(from: number): void {
    const src = this.src;
    let p = from;
    while (p < this.len) {
      let i = p;
      while (src.charCodeAt(i) === SPACE) i++;
      let e = src.indexOf('\n', i);
      if (e === -1) e = this.len;
      if (i < e) {
        this.pos = p;
        this.ind = i - p;
        this.cs = i;
        this.eol = e;
        return;
      }
      p = e + 1;
    }
    this.pos = this.cs = this.eol = this.len;
    this.ind = -1;
  }

  protected isDash(i: number): boolean {
    const src = this.src;
    return src.charCodeAt(i) === DASH && (i + 1 === this.eol || src.charCodeAt(i + 1) === SPACE);
  }

  /** True when only spaces follow `i` on the current line. */
  protected restBlank(i: number): boolean {
    const src = this.src;
    while (i < this.eol && src.charCodeAt(i) === SPACE) i++;
    return i === this.eol;
  }

  protected skipSpaces(i: number): number {
    while (this.src.charCodeAt(i) === SPACE) i++;
    return i;
  }

  /**
   * A scalar (or `[]`/`{}`) starting at `v`; continuation lines must be indented past `indent`.
   * Leaves the reader on the next content line.
   */
  protected scalar(v: number, indent: number): Value {
    const src = this.src;
    const c = src.charCodeAt(v);
    switch (c) {
      case SQ:
        return this.quoted(v, indent, this.singleEnd(v), false);
      case DQ:
        return this.quoted(v, indent, this.doubleEnd(v), true);
      case 0x7c: // |
        return this.literal(v, indent);
      case 0x5b: // [ (only [] here)
      case 0x7b: {
        // { (only {} here)
        const close = c === 0x5b ? 0x5d : 0x7d;
        if (src.charCodeAt(v + 1) !== close || !this.restBlank(v + 2)) bail();
        this.next(this.eol + 1);
        return c === 0x5b ? [] : {};
      }
      case DASH:
      case 0x3f: // ?
      case COLON: {
        const n = src.charCodeAt(v + 1);
        if (v + 1 === this.eol || n === SPACE) bail();
        break;
      }
      default:
        if (INDICATORS.has(c)) bail();
    }
    return this.plain(v, indent);
  }

  protected checkPlainLine(text: string): void {
    if (text.includes(': ') || text.includes(' #') || text.charCodeAt(text.length - 1) === COLON) {
      bail();
    }
  }

  /** The shared string for a status or meta value every item repeats, so 100,000 leaves hold one. */
  protected common(v: number, end: number): string | undefined {
    const len = end - v;
    if (len > 7) return undefined;
    for (const word of COMMON_VALUES) {
      if (word.length === len && this.src.startsWith(word, v)) return word;
    }
    return undefined;
  }

  /** A plain scalar, folded over the more-indented lines that follow it. */
  protected plain(v: number, indent: number): Value {
    const src = this.src;
    let end = this.eol;
    while (src.charCodeAt(end - 1) === SPACE) end--;
    const first = this.common(v, end) ?? src.slice(v, end);
    this.checkPlainLine(first);
    this.next(this.eol + 1);
    if (this.ind <= indent) return resolvePlain(first);
    // Continuation lines: fold them like the generic parser does.
    while (this.ind > indent) {
      const c = src.charCodeAt(this.cs);
      if (INDICATORS.has(c)) bail();
      let e = this.eol;
      while (src.charCodeAt(e - 1) === SPACE) e--;
      this.checkPlainLine(src.slice(this.cs, e));
      end = e;
      this.next(this.eol + 1);
    }
    return resolvePlain(foldLines(src.slice(v, end)));
  }

  /** Index of the quote closing the single-quoted scalar opened at `q`, or -1. */
  protected singleEnd(q: number): number {
    const src = this.src;
    let e = src.indexOf("'", q + 1);
    while (e !== -1 && src.charCodeAt(e + 1) === SQ) e = src.indexOf("'", e + 2);
    return e;
  }

  /** Index of the quote closing the double-quoted scalar opened at `q`, or -1. */
  protected doubleEnd(q: number): number {
    const src = this.src;
    let e = src.indexOf('"', q + 1);
    while (e !== -1) {
      let backslashes = 0;
      while (src.charCodeAt(e - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) return e;
      e = src.indexOf('"', e + 1);
    }
    return -1;
  }

  /** A quoted scalar from `v` to its closing quote `end`, possibly over several lines. */
  protected quoted(v: number, indent: number, end: number, double: boolean): Value {
    const src = this.src;
    if (end === -1) bail();
    let raw = src.slice(v + 1, end);
    const multiline = end > this.eol;
    if (multiline) {
      // Every line it continues on must be blank or indented past its parent.
      let nl = this.eol;
      while (nl !== -1 && nl < end) {
        let i = nl + 1;
        while (src.charCodeAt(i) === SPACE) i++;
        if (src.charCodeAt(i) !== LF && i - nl - 1 <= indent) bail();
        nl = src.indexOf('\n', nl + 1);
      }
      this.eol = nl === -1 ? this.len : nl;
      if (!double) raw = foldLines(raw);
    }
    if (!this.restBlank(end + 1)) bail();
    let value: string | undefined;
    if (!double) value = raw.includes("''") ? raw.replaceAll("''", "'") : raw;
    else if (multiline) value = decodeDoubleQuoted(raw);
    else if (raw.includes('\\')) value = jsonString(src, v, end) ?? decodeDoubleQuoted(raw);
    else value = raw;
    if (value === undefined) bail();
    this.next(this.eol + 1);
    return value;
  }

  /**
   * A literal block scalar whose header (`|`, then `-` or `+` and an indentation digit in either
   * order) is at `v`; `indent` is the parent's column, which an explicit indentation counts from.
   */
  protected literal(v: number, indent: number): string {
    const src = this.src;
    let h = v + 1;
    let chomp = 0;
    let explicit = 0;
    for (let n = 0; n < 2 && h < this.eol; n++, h++) {
      const c = src.charCodeAt(h);
      if ((c === DASH || c === 0x2b) && chomp === 0) chomp = c;
      else if (c >= 0x31 && c <= 0x39 && explicit === 0) explicit = c - 0x30;
      else break;
    }
    if (h !== this.eol) bail(); // a comment after the header goes the generic way
    const lines: string[] = [];
    let at = explicit ? indent + explicit : -1; // content indentation, else from the first line
    let leadingSpaces = 0;
    let blank = 0;
    let p = this.eol + 1;
    while (p < this.len) {
      let i = p;
      while (src.charCodeAt(i) === SPACE) i++;
      const lf = src.indexOf('\n', i);
      const e = lf === -1 ? this.len : lf;
      const spaces = i - p;
      if (i === e) {
        if (lf === -1) bail(); // a last line without its line break
        if (at === -1) leadingSpaces = Math.max(leadingSpaces, spaces);
        else if (spaces > at) bail(); // spaces that would be content
        blank++;
        p = e + 1;
        continue;
      }
      if (at === -1) {
        if (spaces <= indent || leadingSpaces > spaces) bail();
        at = spaces;
      } else if (spaces < at) break;
      for (; blank > 0; blank--) lines.push('');
      lines.push(src.slice(p + at, e));
      if (lf === -1) bail();
      p = e + 1;
    }
    if (lines.length === 0) bail();
    let value = lines.join('\n');
    if (chomp !== DASH) value += '\n';
    if (chomp === 0x2b) value += '\n'.repeat(blank);
    this.next(p);
    return value;
  }
}
