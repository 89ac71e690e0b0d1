/**
 * Splits a stream of JSON text into the pieces fathom computes statuses for, without holding
 * a whole list in memory: the elements of a top-level array, the elements of a top-level
 * object's `items` array (a List, as Kubernetes decodes any object with `items`), or a whole
 * top-level object. Several top-level values may follow each other (JSON lines).
 */

import { FathomError } from '../core/errors.js';

/** One piece of text to JSON.parse, with where it starts in the stream (1-based). */
export interface JsonPiece {
  readonly text: string;
  readonly line: number;
  readonly column: number;
  /** `element`: of a list (top-level array or `items`); `value`: a whole top-level value. */
  readonly role: 'element' | 'value';
}

/** A scan error at a position of the stream. */
export class JsonScanError extends FathomError {
  override readonly name = 'JsonScanError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super('FATHOM_YAML_SYNTAX', message, { details: { line, column } });
  }
}

const OPEN_OBJ = 0x7b; // {
const CLOSE_OBJ = 0x7d; // }
const OPEN_ARR = 0x5b; // [
const CLOSE_ARR = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

class Scanner {
  buf = '';
  /** Absolute offset of buf[0]. */
  base = 0;
  i = 0;
  line = 1;
  lineStart = 0;
  depth = 0;
  inString = false;
  escape = false;
  /** Where the current top-level value / captured element starts (absolute), -1 when none. */
  valueStart = -1;
  valueLine = 1;
  valueCol = 1;
  topIsObject = false;
  /** Depth at which list elements sit (1: top-level array, 2: `items`), 0 when not in a list. */
  listDepth = 0;
  elemStart = -1;
  elemLine = 1;
  elemCol = 1;
  /** At depth 1 of an object: the next string is a key. */
  expectKey = false;
  keyStart = -1;
  lastKey = '';
  out: JsonPiece[] = [];

  col(abs: number): number {
    return abs - this.lineStart + 1;
  }

  fail(message: string, abs: number): never {
    throw new JsonScanError(message, this.line, this.col(abs));
  }

  text(from: number, to: number): string {
    return this.buf.slice(from - this.base, to - this.base);
  }

  feed(chunk: string): void {
    this.buf += chunk;
    const buf = this.buf;
    for (; this.i < buf.length; this.i++) {
      const c = buf.charCodeAt(this.i);
      const abs = this.base + this.i;
      if (c === NEWLINE) {
        this.line++;
        this.lineStart = abs + 1;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === BACKSLASH) this.escape = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyStart >= 0) {
            this.lastKey = this.text(this.keyStart, abs + 1);
            this.keyStart = -1;
          }
        }
        continue;
      }
      if (this.depth === 0) {
        if (isSpace(c) || c === 0xfeff) continue;
        if (c !== OPEN_OBJ && c !== OPEN_ARR) {
          this.fail('expected a JSON object or array at the top level', abs);
        }
        this.topIsObject = c === OPEN_OBJ;
        this.valueStart = abs;
        this.valueLine = this.line;
        this.valueCol = this.col(abs);
        this.listDepth = this.topIsObject ? 0 : 1;
        this.expectKey = this.topIsObject;
        this.lastKey = '';
        this.depth = 1;
        continue;
      }
      if (this.listDepth > 0 && this.depth === this.listDepth && this.elemStart < 0) {
        if (isSpace(c) || c === COMMA) continue;
        if (c === CLOSE_ARR) {
          this.listDepth = -1; // the list is over; the rest of the value is not kept
          this.depth--;
          this.closed(abs);
          continue;
        }
        if (c !== OPEN_OBJ) this.fail('a list element is not an object', abs);
        this.elemStart = abs;
        this.elemLine = this.line;
        this.elemCol = this.col(abs);
      }
      switch (c) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.topIsObject && this.expectKey) {
            this.keyStart = abs;
            this.expectKey = false;
          }
          break;
        case COMMA:
          if (this.depth === 1 && this.topIsObject) this.expectKey = true;
          break;
        case COLON:
          break;
        case OPEN_OBJ:
        case OPEN_ARR:
          this.depth++;
          if (c === OPEN_ARR && this.depth === 2 && this.topIsObject && this.listDepth === 0) {
            if (this.lastKey === '"items"') this.listDepth = 2;
          }
          break;
        case CLOSE_OBJ:
        case CLOSE_ARR:
          this.depth--;
          this.closed(abs);
          break;
      }
    }
    this.compact();
  }

  /** After a closing bracket at `abs`. */
  closed(abs: number): void {
    if (this.depth < 0) this.fail('unbalanced closing bracket', abs);
    if (this.elemStart >= 0 && this.depth === this.listDepth) {
      this.out.push({
        text: this.text(this.elemStart, abs + 1),
        line: this.elemLine,
        column: this.elemCol,
        role: 'element',
      });
      this.elemStart = -1;
    }
    if (this.depth === 0) {
      if (this.listDepth === 0) {
        this.out.push({
          text: this.text(this.valueStart, abs + 1),
          line: this.valueLine,
          column: this.valueCol,
          role: 'value',
        });
      }
      this.valueStart = -1;
      this.listDepth = 0;
    }
  }

  /** Drops text nothing refers to any more. */
  compact(): void {
    let keep = this.base + this.i;
    if (this.elemStart >= 0) keep = this.elemStart;
    else if (this.valueStart >= 0 && this.listDepth === 0) keep = this.valueStart;
    if (this.keyStart >= 0) keep = Math.min(keep, this.keyStart);
    const drop = keep - this.base;
    if (drop > 0) {
      this.buf = this.buf.slice(drop);
      this.base = keep;
      this.i -= drop;
    }
  }

  end(): void {
    if (this.depth !== 0 || this.inString) {
      throw new JsonScanError(
        'unexpected end of JSON input',
        this.line,
        this.col(this.base + this.i),
      );
    }
  }
}

/**
 * Yields the pieces of a JSON stream as they complete. Memory holds one element (plus the
 * chunk being read), whatever the length of the list. Throws JsonScanError on structure errors;
 * the pieces themselves are checked by JSON.parse.
 */
export async function* scanJson(chunks: AsyncIterable<string>): AsyncGenerator<JsonPiece> {
  const s = new Scanner();
  for await (const chunk of chunks) {
    s.feed(chunk);
    const ready = s.out;
    s.out = [];
    yield* ready;
  }
  s.end();
}
