/**
 * A fast, strict reader for Item trees in the YAML layout yaml.v2 (Sonobuoy) and yamlout.ts
 * (fathom) write: block maps and sequences, keys name/status/meta/details/items, plain, single-
 * and double-quoted scalars (folded over lines or not), literal block scalars, `[]` and `{}`.
 * It builds the Item the generic path (the yaml package, then `toItem`) would build, at a
 * fraction of the time and memory. Whatever it does not fully recognise — comments, anchors,
 * tags, flow collections, folded blocks, odd indentation, a wrong type, a limit reached — makes
 * it return `undefined`, and the caller parses the text the generic way, which also gives the
 * error messages. So correctness never rests on this file: it either agrees or steps aside.
 * Scalars and the line cursor are in yamllines.ts; the structure of a tree is here.
 */
import { FathomError } from '../core/errors.js';
import type { Item } from './item.js';
import { decodeDoubleQuoted, resolvePlain } from './yamlscalar.js';
import {
  bail,
  COLON,
  DQ,
  INDICATORS,
  LineReader,
  SPACE,
  SQ,
  UNRECOGNISED,
  type Value,
} from './yamllines.js';

export interface ItemYamlLimits {
  /** Largest file read (default 256 MiB). */
  maxBytes?: number;
  /** Most items in one file (default 2,000,000). */
  maxItems?: number;
  /** Deepest item or details nesting (default 128). */
  maxDepth?: number;
  /** yaml's alias expansion cap (default 1000). */
  maxAliasCount?: number;
}

export const DEFAULT_MAX_YAML_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_ITEMS = 2_000_000;
export const DEFAULT_MAX_DEPTH = 128;

/** The input does not hold a valid Item tree; the message says where. */
export class ItemYamlError extends FathomError {
  override readonly name = 'ItemYamlError';
  constructor(message: string) {
    super('FATHOM_RESULTS_INVALID', message);
  }
}

/**
 * Characters the fast reader accepts: line feeds and printable text. Tabs, carriage returns,
 * control and C1 characters, U+2028/9 and a byte-order mark all go the generic way.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const OUTSIDE_SUBSET = /[\0-\t\v-\x1f\x7f-\x9f\u2028\u2029\ufeff]/;

/** Bits for the item keys seen, to refuse duplicates. */
const ITEM_KEYS: Record<string, number> = { name: 1, status: 2, meta: 4, details: 8, items: 16 };

/** Keys read without slicing them out of the text. */
const COMMON_KEYS = ['name', 'status', 'items', 'meta', 'details', 'file', 'type'];

/** The generic parser refuses implicit keys longer than this; leave them to it. */
const MAX_KEY_LENGTH = 1000;

/**
 * Parses `source` as one Item tree if it is in the fast reader's subset; `undefined` means "use
 * the generic parser". When it returns an Item, it is the Item the generic path returns.
 */
export function parseItemYamlFast(source: string, limits: ItemYamlLimits = {}): Item | undefined {
  if (OUTSIDE_SUBSET.test(source)) return undefined;
  try {
    return new Reader(
      source,
      limits.maxItems ?? DEFAULT_MAX_ITEMS,
      limits.maxDepth ?? DEFAULT_MAX_DEPTH,
    ).document();
  } catch (err) {
    if (err === UNRECOGNISED) return undefined;
    throw err;
  }
}

/** Converts a scalar the way `toItem` turns YAML scalars into Go-like strings. */
function textOf(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return bail(); // a list or map where text belongs: the generic path reports it
}

/** The structure of an item tree over the line reader: items, meta, details. */
class Reader extends LineReader {
  private items = 0;
  private key = '';

  constructor(
    src: string,
    private readonly maxItems: number,
    private readonly maxDepth: number,
  ) {
    super(src);
  }

  document(): Item {
    this.next(0);
    if (this.ind !== 0) bail(); // empty, or not a map at the left margin
    const item = this.item(this.cs, 0, 0);
    if (this.pos < this.len) bail(); // something after the tree
    return item;
  }

  /** Reads the key starting at `k` on the current line into `this.key`; returns the index after its colon. */
  private readKey(k: number): number {
    const src = this.src;
    const eol = this.eol;
    // The keys every item has, without making a string for each.
    for (const key of COMMON_KEYS) {
      const after = k + key.length + 1;
      if (
        src.startsWith(key, k) &&
        src.charCodeAt(after - 1) === COLON &&
        (after === eol || src.charCodeAt(after) === SPACE)
      ) {
        this.key = key;
        return after;
      }
    }
    const c = src.charCodeAt(k);
    if (c === SQ || c === DQ) {
      const end = c === SQ ? this.singleEnd(k) : this.doubleEnd(k);
      if (end === -1 || end >= eol || src.charCodeAt(end + 1) !== COLON) bail();
      const raw = src.slice(k + 1, end);
      const text = c === SQ ? raw.replaceAll("''", "'") : decodeDoubleQuoted(raw);
      if (text === undefined || end - k > MAX_KEY_LENGTH) bail();
      const after = end + 2;
      if (after !== eol && src.charCodeAt(after) !== SPACE) bail();
      this.key = text;
      return after;
    }
    if (INDICATORS.has(c)) bail();
    let i = src.indexOf(':', k);
    while (i !== -1 && i < eol && i + 1 !== eol && src.charCodeAt(i + 1) !== SPACE) {
      i = src.indexOf(':', i + 1);
    }
    if (i === -1 || i >= eol || i - k > MAX_KEY_LENGTH) bail();
    const key = src.slice(k, i);
    if (key.charCodeAt(key.length - 1) === SPACE || key.includes(' #')) bail();
    if (resolvePlain(key) !== key) bail(); // a null, boolean or number as a key
    this.key = key;
    return i + 1;
  }

  /** Whether the text at `i` on the current line starts a `key:` (so a sequence entry is a map). */
  private startsKey(i: number): boolean {
    const src = this.src;
    const c = src.charCodeAt(i);
    if (c === SQ || c === DQ) {
      const end = c === SQ ? this.singleEnd(i) : this.doubleEnd(i);
      return end !== -1 && end < this.eol && src.charCodeAt(end + 1) === COLON;
    }
    if (INDICATORS.has(c)) return false;
    let j = src.indexOf(':', i);
    while (j !== -1 && j < this.eol) {
      if (j + 1 === this.eol || src.charCodeAt(j + 1) === SPACE) return true;
      j = src.indexOf(':', j + 1);
    }
    return false;
  }

  /**
   * After `key:` with nothing on the line: moves to the next content line and says what the
   * value is: a map or sequence below, or nothing (null).
   */
  private blockBelow(indent: number): 'map' | 'seq' | 'none' {
    this.next(this.eol + 1);
    if (this.ind > indent) return this.isDash(this.cs) ? 'seq' : 'map';
    if (this.ind === indent && this.isDash(this.cs)) return 'seq';
    return 'none';
  }

  /** An item: a block map whose first key starts at `k`, its keys at column `indent`. */
  private item(k: number, indent: number, depth: number): Item {
    if (++this.items > this.maxItems || depth > this.maxDepth) bail();
    let name = '';
    let status = '';
    let meta: Record<string, string> | undefined;
    let details: Record<string, Value> | undefined;
    let items: Item[] | undefined;
    let seen = 0;
    for (;;) {
      const v = this.skipSpaces(this.readKey(k));
      const bit = ITEM_KEYS[this.key];
      const empty = v === this.eol;
      if (bit === undefined) {
        // Unknown keys are ignored, as yaml.v2 does, once their value is known to parse.
        if (this.key === '__proto__' || this.key === '<<') bail();
        this.value(v, indent, 0);
      } else if (seen & bit) {
        bail();
      }
      seen |= bit ?? 0;
      switch (bit) {
        case undefined:
          break;
        case 1:
        case 2: {
          let text = '';
          if (!empty) text = textOf(this.scalar(v, indent));
          else if (this.blockBelow(indent) !== 'none') bail();
          if (bit === 1) name = text;
          else status = text;
          break;
        }
        case 4:
          meta = empty ? this.metaBelow(indent) : this.emptyMap(v, indent);
          break;
        case 8:
          details = empty ? this.detailsBelow(indent, depth) : this.emptyMap(v, indent);
          break;
        default:
          items = empty ? this.itemsBelow(indent, depth) : this.emptyList(v, indent);
      }
      if (this.ind !== indent) {
        if (this.ind < indent) break;
        bail();
      }
      k = this.cs;
    }
    const item: Item = { name, status };
    if (meta) item.meta = meta;
    if (details) item.details = details;
    if (items) item.items = items;
    return item;
  }

  /** An inline value where a map belongs: only `{}` and null mean "none"; the rest is an error. */
  private emptyMap(v: number, indent: number): undefined {
    const value = this.scalar(v, indent);
    if (value === null) return undefined;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)
      return undefined;
    return bail();
  }

  /** An inline value where a list belongs: only `[]` and null mean "none". */
  private emptyList(v: number, indent: number): undefined {
    const value = this.scalar(v, indent);
    if (value === null || (Array.isArray(value) && value.length === 0)) return undefined;
    return bail();
  }

  private metaBelow(indent: number): Record<string, string> | undefined {
    const kind = this.blockBelow(indent);
    if (kind === 'none') return undefined;
    if (kind === 'seq') bail();
    const at = this.ind;
    const meta: Record<string, string> = {};
    for (;;) {
      const v = this.skipSpaces(this.readKey(this.cs));
      const key = this.key;
      if (key === '__proto__' || key === '<<' || Object.hasOwn(meta, key)) bail();
      if (v !== this.eol) meta[key] = textOf(this.scalar(v, at));
      else if (this.blockBelow(at) === 'none') meta[key] = '';
      else bail();
      if (this.ind !== at) {
        if (this.ind < at) break;
        bail();
      }
    }
    return meta;
  }

  private detailsBelow(indent: number, depth: number): Record<string, Value> | undefined {
    const kind = this.blockBelow(indent);
    if (kind === 'none') return undefined;
    if (kind === 'seq') bail();
    return this.map(this.cs, this.ind, depth);
  }

  private itemsBelow(indent: number, depth: number): Item[] | undefined {
    const kind = this.blockBelow(indent);
    if (kind === 'none') return undefined;
    if (kind === 'map') bail();
    const at = this.ind;
    const list: Item[] = [];
    do {
      const e = this.skipSpaces(this.cs + 1);
      if (e === this.eol) bail(); // the entry on the lines below: not yaml.v2's layout
      if (this.startsKey(e)) {
        list.push(this.item(e, e - this.pos, depth + 1));
      } else {
        // Only an empty entry is an item; `toItem` counts it and checks its depth first.
        if (++this.items > this.maxItems || depth + 1 > this.maxDepth) bail();
        const value = this.scalar(e, at);
        const emptyMap =
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length === 0;
        if (value !== null && !emptyMap) bail();
        list.push({ name: '', status: '' });
      }
      if (this.ind > at) bail();
    } while (this.ind === at && this.isDash(this.cs));
    return list;
  }

  /** A block map at column `indent` whose first key is at `k`; `depth` as `toItem` counts it. */
  private map(k: number, indent: number, depth: number): Record<string, Value> {
    if (depth > this.maxDepth) bail();
    const out: Record<string, Value> = {};
    for (;;) {
      const v = this.skipSpaces(this.readKey(k));
      const key = this.key;
      if (key === '__proto__' || key === '<<' || Object.hasOwn(out, key)) bail();
      out[key] = this.value(v, indent, depth + 1);
      if (this.ind !== indent) {
        if (this.ind < indent) break;
        bail();
      }
      k = this.cs;
    }
    return out;
  }

  /**
   * A block sequence at column `indent` whose first dash is at `d` on the current line (later
   * ones start their lines); `- - x` nests a sequence on the same line.
   */
  private seq(d: number, indent: number, depth: number): Value[] {
    if (depth > this.maxDepth) bail();
    const out: Value[] = [];
    for (;;) {
      const e = this.skipSpaces(d + 1);
      if (e === this.eol) bail(); // the entry on the lines below: not a layout written here
      if (this.isDash(e)) out.push(this.seq(e, e - this.pos, depth + 1));
      else if (this.startsKey(e)) out.push(this.map(e, e - this.pos, depth + 1));
      else out.push(this.value(e, indent, depth + 1));
      if (this.ind > indent) bail();
      if (this.ind < indent || !this.isDash(this.cs)) return out;
      d = this.cs;
    }
  }

  /** The value of a key in a map at column `indent`, starting at `v` (the line's end if empty). */
  private value(v: number, indent: number, depth: number): Value {
    if (depth > this.maxDepth) bail();
    if (v !== this.eol) return this.scalar(v, indent);
    const kind = this.blockBelow(indent);
    if (kind === 'none') return null;
    return kind === 'map' ? this.map(this.cs, this.ind, depth) : this.seq(this.cs, this.ind, depth);
  }
}
