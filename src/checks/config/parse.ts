/**
 * Check config documents: YAML text bounded before it is parsed, each document validated once
 * and frozen. Every problem is one FathomError naming the source, line, column and field:
 * `checks/web.yaml:4:3: instances[0].url: must be a string`.
 */
import type { Document } from 'yaml';
import { isMap, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { formatBytes, jsonSize, yamlShapeProblem } from '../../core/bounded.js';
import { parseDuration } from '../../core/duration.js';
import { FathomError } from '../../core/errors.js';
import type { Schema } from '../../core/schema.js';
import { Type } from '../../core/schema.js';
import { deepFreeze } from '../../core/validated.js';
import type { DocContext, FieldPath, Position } from '../../core/yaml-locate.js';
import { formatPath, positionOf, splitPath, syntaxError } from '../../core/yaml-locate.js';
import type { CheckConfig, CheckInstance, CheckType } from '../types.js';
import { checkTypes } from '../types.js';
import { canonicalJson, configDigest } from './identity.js';
import { checkDurations, checkLimits } from './limits.js';
import { instanceSchemas } from './schemas.js';

/** One parsed, non-empty document and where it sits. */
export interface CheckDocument {
  readonly ctx: DocContext;
  readonly value: unknown;
}

/** What a source adds to or takes from a document (a Service annotation names its check). */
export interface DecodeOptions {
  /** The check's name, when the source gives it: the document must not have one. */
  readonly name?: string;
  /** An endpoints check: served only to this node's agent. */
  readonly node?: string;
  /** Replaces `file:line` as the config's source. */
  readonly source?: string;
}

const fields = [
  'name',
  'type',
  'interval',
  'timeout',
  'instances',
  'nodeSelector',
  'exclude',
  'pinned',
] as const;

/** A DNS label: it names metrics and check IDs. */
export const checkNamePattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A label key (optional DNS-subdomain prefix) and value, as Kubernetes checks them. */
const labelKey =
  /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** An error at `path` of a check document, `file:line:col: field: problem`. */
export function checkError(ctx: DocContext, path: FieldPath, problem: string): FathomError {
  // An unknown field is pointed at by its key, the rest by their values.
  const { line, column } = problem.startsWith(unknownField)
    ? keyPosition(ctx, path)
    : positionOf(ctx, path);
  const field = formatPath(path);
  return new FathomError(
    'FATHOM_CHECK_INVALID',
    `${ctx.file}:${line}:${column}: ${field === '' ? '' : `${field}: `}${problem}`,
    { details: { file: ctx.file, line, column, ...(field ? { field } : {}) } },
  );
}

/** How the schemas and the document check word a key that is not a field. */
const unknownField = 'is not a field of';

/** Where the last key of `path` is written; where its value is when it cannot be found. */
function keyPosition(ctx: DocContext, path: FieldPath): Position {
  const parent = ctx.doc.getIn(path.slice(0, -1), true);
  const pair = isMap(parent)
    ? parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(path.at(-1)))
    : undefined;
  const offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
  if (offset === undefined) return positionOf(ctx, path);
  const { line, col } = ctx.lines.linePos(offset);
  return { line, column: col };
}

/** An error about a whole source (its size, its shape), without a position. */
export function sourceError(file: string, problem: string): FathomError {
  return new FathomError('FATHOM_CHECK_INVALID', `${file}: ${problem}`, { details: { file } });
}

const article: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

/** The schema builder's terse `must be string` in words. */
function worded(message: string): string {
  if (message === 'must have at least 1 items') return 'must not be empty';
  const m = /^must be (\w+)$/.exec(message);
  const better = m ? article[m[1]!] : undefined;
  return better ? `must be ${better}` : message;
}

/** Checks `value` against `schema`; a problem becomes an error at `base` + the problem's path. */
function check(ctx: DocContext, base: FieldPath, schema: Schema<unknown>, value: unknown): void {
  const problem = schema.problem(value, '');
  if (problem) {
    throw checkError(ctx, [...base, ...splitPath(problem.path)], worded(problem.message));
  }
}

/**
 * Splits `text` into its non-empty YAML documents, after bounding its bytes, documents and
 * nodes (before the yaml library builds anything) and each document's expanded size.
 * @param file how the source is named in messages (`checks/web.yaml`, `ConfigMap ns/cm web.yaml`).
 */
export function readCheckDocuments(text: string, file: string): CheckDocument[] {
  const { fileBytes, documentsPerFile, yamlNodesPerFile } = checkLimits;
  const bytes = Buffer.byteLength(text);
  if (bytes > fileBytes) {
    throw sourceError(file, `is ${bytes} bytes, over the ${formatBytes(fileBytes)} limit`);
  }
  const shape = yamlShapeProblem(text, documentsPerFile, yamlNodesPerFile);
  if (shape === 'documents') {
    throw sourceError(file, `holds more than ${documentsPerFile} YAML documents, the limit`);
  }
  if (shape === 'nodes') {
    throw sourceError(file, `holds more than ${yamlNodesPerFile} YAML nodes, the limit`);
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, merge: true, prettyErrors: true });
  // Broken YAML anywhere in the file is reported before any document is judged.
  for (const doc of docs) if (doc.errors[0]) throw syntaxError(file, doc.errors[0]);
  const out: CheckDocument[] = [];
  for (const doc of docs) {
    if (isEmpty(doc)) continue;
    const ctx: DocContext = { file, doc, lines };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: checkLimits.aliases });
    } catch (cause) {
      throw checkError(ctx, [], (cause as Error).message);
    }
    const size = jsonSize(value, checkLimits.configBytes, checkLimits.nestingDepth);
    if (size === 'depth') {
      throw checkError(ctx, [], `nests deeper than ${checkLimits.nestingDepth} levels, the limit`);
    }
    if (size === 'bytes') {
      throw checkError(
        ctx,
        [],
        `is over ${formatBytes(checkLimits.configBytes)} as JSON (aliases expanded), the limit`,
      );
    }
    out.push({ ctx, value });
  }
  return out;
}

function isEmpty(doc: Document.Parsed): boolean {
  const c = doc.contents;
  return c === null || (isScalar(c) && c.value === null);
}

/** A duration field: `30s`, `5m`, `1h30m`, or a whole number of seconds. */
function duration(ctx: DocContext, field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const text = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : v;
  if (typeof text !== 'string') {
    throw checkError(ctx, [field], 'must be a duration such as 30s, 5m or 1h30m');
  }
  try {
    return parseDuration(text, field);
  } catch {
    throw checkError(ctx, [field], `"${text}" is not a duration (use forms like 30s, 5m, 1h30m)`);
  }
}

function nodeSelectorOf(ctx: DocContext, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  check(ctx, ['nodeSelector'], Type.Record(Type.String(), Type.String()), v);
  const selector = v as Record<string, string>;
  for (const [key, value] of Object.entries(selector)) {
    if (!labelKey.test(key)) throw checkError(ctx, ['nodeSelector', key], 'is not a label key');
    if (!labelValue.test(value)) {
      throw checkError(ctx, ['nodeSelector', key], `"${value}" is not a label value`);
    }
  }
  return Object.keys(selector).length > 0 ? selector : undefined;
}

function flag(ctx: DocContext, field: string, v: unknown): true | undefined {
  if (v === undefined || v === null) return undefined;
  check(ctx, [field], Type.Boolean(), v);
  return v === true ? true : undefined;
}

/**
 * Validates one document into a frozen CheckConfig. Absent and default-valued optional fields
 * are left out (`exclude: false` is no field), so the digest changes only with behaviour.
 */
export function decodeCheck(doc: CheckDocument, options: DecodeOptions = {}): CheckConfig {
  const { ctx, value } = doc;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw checkError(ctx, [], 'must be a mapping (name, type, interval, instances, ...)');
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(fields as readonly string[]).includes(key)) {
      throw checkError(ctx, [key], `${unknownField} a check config (${fields.join(', ')})`);
    }
  }
  let name = options.name;
  if (name === undefined) {
    if (v.name === undefined || v.name === null) throw checkError(ctx, [], 'needs a "name"');
    check(ctx, ['name'], Type.String(), v.name);
    name = v.name as string;
    if (!checkNamePattern.test(name)) {
      throw checkError(
        ctx,
        ['name'],
        `"${name}" is not a check name (lowercase letters, digits and '-', at most 63)`,
      );
    }
  } else if (v.name !== undefined) {
    throw checkError(ctx, ['name'], 'is given by the source (the annotation key): remove it');
  }
  if (v.type === undefined || v.type === null) {
    throw checkError(ctx, [], `needs a "type" (${checkTypes.join(', ')})`);
  }
  if (!checkTypes.includes(v.type as CheckType)) {
    throw checkError(ctx, ['type'], `must be one of ${checkTypes.join(', ')}`);
  }
  const type = v.type as CheckType;

  const { defaultIntervalMs, minIntervalMs, maxIntervalMs, defaultTimeoutMs } = checkDurations;
  const intervalMs = duration(ctx, 'interval', v.interval) ?? defaultIntervalMs;
  if (intervalMs < minIntervalMs || intervalMs > maxIntervalMs) {
    throw checkError(ctx, ['interval'], 'must be from 1s to 24h');
  }
  const timeoutMs = duration(ctx, 'timeout', v.timeout) ?? Math.min(defaultTimeoutMs, intervalMs);
  if (timeoutMs <= 0) throw checkError(ctx, ['timeout'], 'must be more than 0');
  if (timeoutMs > intervalMs) {
    throw checkError(ctx, ['timeout'], 'must be at most the interval (a run ends before the next)');
  }

  if (v.instances === undefined || v.instances === null) {
    throw checkError(ctx, [], 'needs "instances", a list of at least one instance');
  }
  const instanceList = Type.Array<unknown>(instanceSchemas[type], {
    minItems: 1,
    maxItems: checkLimits.instances,
  });
  check(ctx, ['instances'], instanceList, v.instances);
  const instances = v.instances as CheckInstance[];
  const seen = new Map<string, number>();
  instances.forEach((instance, i) => {
    const key = canonicalJson(instance);
    const first = seen.get(key);
    if (first !== undefined) throw checkError(ctx, ['instances', i], `repeats instances[${first}]`);
    seen.set(key, i);
  });

  const nodeSelector = nodeSelectorOf(ctx, v.nodeSelector);
  const exclude = flag(ctx, 'exclude', v.exclude);
  const pinned = flag(ctx, 'pinned', v.pinned);
  const content = {
    name,
    type,
    intervalMs,
    timeoutMs,
    instances,
    ...(nodeSelector ? { nodeSelector } : {}),
    ...(exclude ? { exclude } : {}),
    ...(pinned ? { pinned } : {}),
    ...(options.node !== undefined ? { node: options.node } : {}),
  };
  const source = options.source ?? `${ctx.file}:${positionOf(ctx, []).line}`;
  // A copy: the frozen config shares nothing with the caller's parsed value.
  const copy = structuredClone(content);
  return deepFreeze({ ...copy, source, digest: configDigest(copy) });
}

/** Every check config of one YAML text; the first problem throws, so a bad file adds nothing. */
export function parseCheckText(text: string, file: string): CheckConfig[] {
  return readCheckDocuments(text, file).map((doc) => decodeCheck(doc));
}
