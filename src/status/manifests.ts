/**
 * Objects from manifests for `fathom health -f FILE|DIR|-`: multi-document YAML or JSON (one
 * value, or several in a row), where a `kind: List` (any object with top-level `items`, as
 * Kubernetes decodes it) stands for its items. Input streams: a list of 100,000 objects is
 * parsed one object at a time. Errors name the file and line.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { FathomError } from '../core/errors.js';
import { syntaxError } from '../core/yaml-locate.js';
import type { ComputeOptions } from './compute.js';
import { compute } from './compute.js';
import { isMap, topString } from './fields.js';
import { JsonScanError, scanJson } from './json-stream.js';
import type { JsonPiece } from './json-stream.js';
import type { KubeObject, Status } from './types.js';
import { splitYaml, streamLine } from './yaml-stream.js';
import type { YamlPiece } from './yaml-stream.js';

/** An object read from a manifest, with where it starts. */
export interface ManifestObject {
  readonly object: KubeObject;
  readonly file: string;
  /** 1-based line of the object's first line. */
  readonly line: number;
}

/** One line of `fathom health` output (its `-o json|yaml` shape). */
export interface HealthRow {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly status: Status;
  readonly message: string;
}

const MAX_ALIASES = 100;
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function located(file: string, line: number, problem: string): FathomError {
  return new FathomError('FATHOM_CONFIG_INVALID', `${file}:${line}: ${problem}`, {
    details: { file, line },
  });
}

/** Checks that `value` is a Kubernetes object: a mapping with apiVersion and kind. */
function toObject(value: unknown, file: string, line: number): ManifestObject {
  if (!isMap(value)) throw located(file, line, 'is not a Kubernetes object (not a mapping)');
  for (const key of ['apiVersion', 'kind'] as const) {
    const v = value[key];
    if (typeof v !== 'string' || v === '') {
      throw located(file, line, `is not a Kubernetes object: "${key}" is missing or not a string`);
    }
  }
  return { object: value, file, line };
}

/** A document's objects: itself, or its items when it has top-level `items`. */
function* expand(
  value: unknown,
  file: string,
  line: number,
  itemLine: (i: number) => number,
): Generator<ManifestObject> {
  if (isMap(value) && Object.hasOwn(value, 'items')) {
    const items = value.items;
    if (items === null || items === undefined) return;
    if (!Array.isArray(items)) throw located(file, line, '"items" is not a list');
    for (let i = 0; i < items.length; i++) yield toObject(items[i], file, itemLine(i));
    return;
  }
  yield toObject(value, file, line);
}

function* fromYamlPiece(piece: YamlPiece, file: string): Generator<ManifestObject> {
  const lines = new LineCounter();
  const docs = parseAllDocuments(piece.text, {
    lineCounter: lines,
    merge: true,
    prettyErrors: true,
  });
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
      throw syntaxError(file, {
        message: err.message,
        linePos: [{ line: streamLine(piece, pos.line), col: pos.col }],
      });
    }
  }
  for (const doc of docs) {
    const c = doc.contents;
    if (c === null || (isScalar(c) && c.value === null)) continue;
    const at = (offset: number | undefined): number =>
      streamLine(piece, offset === undefined ? 1 : lines.linePos(offset).line);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (cause) {
      throw new FathomError(
        'FATHOM_YAML_SYNTAX',
        `${file}:${at(c.range?.[0])}: ${(cause as Error).message}`,
        {
          cause,
          details: { file },
        },
      );
    }
    const line = at(c.range?.[0]);
    if (piece.role === 'item') {
      yield toObject(value, file, line);
      continue;
    }
    yield* expand(value, file, line, (i) => {
      const node = doc.getIn(['items', i], true) as
        { range?: [number, number, number] } | undefined;
      return at(node?.range?.[0]);
    });
  }
}

/** Strict JSON, as kubectl reads input that starts with `{` or `[` (no YAML fallback). */
function parseJsonPiece(piece: JsonPiece, file: string): unknown {
  try {
    return JSON.parse(piece.text) as unknown;
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    let line = piece.line;
    let column = piece.column;
    if (m) {
      const lines = piece.text.slice(0, Number(m[1])).split('\n');
      line += lines.length - 1;
      column = lines.length > 1 ? lines[lines.length - 1]!.length + 1 : column + lines[0]!.length;
    }
    const text = (err as Error).message.replace(/ in JSON at position \d+.*$/, '');
    throw new FathomError('FATHOM_YAML_SYNTAX', `${file}:${line}:${column}: ${text}`, {
      details: { file, line, column },
    });
  }
}

async function* decode(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of source) {
    yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  const tail = decoder.decode();
  if (tail !== '') yield tail;
}

/** Reads until the first non-blank character to tell JSON from YAML, then replays. */
async function sniff(
  source: AsyncIterable<string>,
): Promise<{ json: boolean; chunks: AsyncIterable<string> }> {
  const it = source[Symbol.asyncIterator]();
  const seen: string[] = [];
  let json = false;
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    seen.push(next.value);
    const m = /[^\s\uFEFF]/.exec(next.value);
    if (m) {
      json = m[0] === '{' || m[0] === '[';
      break;
    }
  }
  async function* replay(): AsyncGenerator<string> {
    yield* seen;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { json, chunks: replay() };
}

/**
 * The objects of one manifest stream, in order, as they are parsed. Throws FathomError
 * (FATHOM_YAML_SYNTAX, FATHOM_CONFIG_INVALID) with `file:line` for bad input.
 * @param file how the input is named in messages (`-` for stdin).
 */
export async function* parseManifests(
  source: AsyncIterable<string | Uint8Array> | string,
  file: string,
): AsyncGenerator<ManifestObject> {
  const text = typeof source === 'string' ? toAsync([source]) : source;
  const { json, chunks } = await sniff(decode(text));
  if (!json) {
    for await (const piece of splitYaml(chunks)) yield* fromYamlPiece(piece, file);
    return;
  }
  try {
    for await (const piece of scanJson(chunks)) {
      const value = parseJsonPiece(piece, file);
      if (piece.role === 'element') yield toObject(value, file, piece.line);
      else yield* expand(value, file, piece.line, () => piece.line);
    }
  } catch (err) {
    if (err instanceof JsonScanError) {
      throw new FathomError(
        'FATHOM_YAML_SYNTAX',
        `${file}:${err.line}:${err.column}: ${err.message}`,
        {
          details: { file, line: err.line, column: err.column },
        },
      );
    }
    throw err;
  }
}

async function* toAsync<T>(source: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  for await (const x of source) yield x;
}

/** kubectl's `-f DIR`: the .yaml, .yml and .json files in it, sorted (recursive on request). */
export async function manifestFiles(dir: string, recursive = false): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await manifestFiles(p, true)));
    } else if (MANIFEST_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      out.push(p);
    }
  }
  return out;
}

/**
 * The objects of every `-f` argument in order: `-` is `stdin`, a directory its manifest files.
 * A path that cannot be read is FATHOM_BAD_FLAG_VALUE.
 */
export async function* readManifests(
  paths: readonly string[],
  options: { stdin?: AsyncIterable<string | Uint8Array>; recursive?: boolean } = {},
): AsyncGenerator<ManifestObject> {
  for (const p of paths) {
    if (p === '-') {
      if (!options.stdin) throw new FathomError('FATHOM_BAD_FLAG_VALUE', '-f -: no standard input');
      yield* parseManifests(options.stdin, '-');
      continue;
    }
    let files: string[];
    try {
      files = (await stat(p)).isDirectory() ? await manifestFiles(p, options.recursive) : [p];
    } catch (cause) {
      throw new FathomError('FATHOM_BAD_FLAG_VALUE', `-f ${p}: ${(cause as Error).message}`, {
        cause,
        details: { path: p },
      });
    }
    for (const f of files) yield* parseManifests(createReadStream(f, { encoding: 'utf8' }), f);
  }
}

/** The health of one object (pure). */
export function healthRow(object: KubeObject, options: ComputeOptions = {}): HealthRow {
  const res = compute(object, options);
  return {
    apiVersion: topString(object, 'apiVersion'),
    kind: topString(object, 'kind'),
    namespace: topString(object, 'metadata', 'namespace'),
    name: topString(object, 'metadata', 'name'),
    status: res.status,
    message: res.message,
  };
}

/** Rows for a stream of objects, as they come. */
export async function* healthRows(
  objects: AsyncIterable<ManifestObject>,
  options: ComputeOptions = {},
): AsyncGenerator<HealthRow> {
  for await (const { object } of objects) yield healthRow(object, options);
}
