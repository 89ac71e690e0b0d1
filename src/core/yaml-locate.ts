import type { Document, LineCounter, Node } from 'yaml';
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import { FathomError } from './errors.js';
import type { ErrorCode } from './errors.js';

/** A path into a YAML document: mapping keys and sequence indexes. */
export type FieldPath = readonly (string | number)[];

/** Where a parsed document came from, so errors can name the file, line and column. */
export interface DocContext {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** `sonobuoy-config.result-files[0]`, `config-map["a.yaml"]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function start(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object' || !('range' in node)) return undefined;
  const range = (node as Node).range;
  return range ? range[0] : undefined;
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.source === '';
}

/**
 * The offset of the value at `path`; when part of the path is missing, the offset of the
 * deepest key that exists (the parent of the missing field), else the document start.
 */
function offsetOf(ctx: DocContext, path: FieldPath): number {
  let node: unknown = ctx.doc.contents;
  let fallback = start(node) ?? ctx.doc.range[0];
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(ctx.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return fallback;
      fallback = start(pair.key) ?? fallback;
      node = pair.value;
      if (node === null || isEmptyScalar(node)) return fallback;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      fallback = start(node) ?? fallback;
    } else {
      return fallback;
    }
  }
  return start(node) ?? fallback;
}

export function positionOf(ctx: DocContext, path: FieldPath): Position {
  const { line, col } = ctx.lines.linePos(offsetOf(ctx, path));
  return { line, column: col };
}

/** `file:line:col: field problem`, as one line. */
export function locatedMessage(ctx: DocContext, path: FieldPath, problem: string): string {
  const { line, column } = positionOf(ctx, path);
  const field = formatPath(path);
  return `${ctx.file}:${line}:${column}: ${field === '' ? '' : `${field} `}${problem}`;
}

/** A FathomError pointing at a field of a plugin document. */
export function fieldError(
  ctx: DocContext,
  path: FieldPath,
  problem: string,
  code: ErrorCode = 'FATHOM_PLUGIN_INVALID',
): FathomError {
  const { line, column } = positionOf(ctx, path);
  return new FathomError(code, locatedMessage(ctx, path, problem), {
    details: { file: ctx.file, line, column, field: formatPath(path) },
  });
}

/** Turns the yaml package's multi-line parse error into `file:line:col: message`. */
export function syntaxError(
  file: string,
  err: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] },
): FathomError {
  const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
  const text = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return new FathomError('FATHOM_YAML_SYNTAX', `${file}:${pos.line}:${pos.col}: ${text}`, {
    details: { file, line: pos.line, column: pos.col },
  });
}

/** `a.b[0]["x.y"]`, as the schema builder writes paths, back into segments. */
export function splitPath(path: string): FieldPath {
  const out: (string | number)[] = [];
  const part = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\./gy;
  for (let m = part.exec(path); m && m[0] !== ''; m = part.exec(path)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}
