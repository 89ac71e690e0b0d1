/**
 * Session documents: YAML text bounded before it is parsed, each document validated once into a
 * frozen Session. Every problem is one FATHOM_SESSION_INVALID naming the file, line, column and
 * field: `load.yaml:7:15: spec.components[1].replicas must be <= 1000`.
 */
import type { Document } from 'yaml';
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { formatBytes, jsonSize, MiB, yamlShapeProblem } from '../core/bounded.js';
import { parseDuration } from '../core/duration.js';
import { FathomError } from '../core/errors.js';
import type { Schema } from '../core/schema.js';
import { Type } from '../core/schema.js';
import { deepFreeze } from '../core/validated.js';
import { workloadLimits } from '../core/workload.js';
import type { DocContext, FieldPath } from '../core/yaml-locate.js';
import { fieldError, positionOf, splitPath, syntaxError } from '../core/yaml-locate.js';
import type { PoolNeeds, Session, SessionComponent, SessionSpec } from './types.js';
import { driverKind, sessionApiVersion, sessionKind } from './types.js';

export const sessionLimits = {
  fileBytes: 1 * MiB,
  documents: 100,
  yamlNodes: 200_000,
  aliases: 100,
  /** One session as JSON, aliases expanded. */
  sessionBytes: 512 * 1024,
  nestingDepth: 32,
  components: 100,
  replicas: 1000,
  priority: 1_000_000_000,
} as const;

export const sessionDefaults = {
  /** The original server's `-testTimeout` flag default. */
  timeout: '15m',
  ttl: '1h',
  priority: 0,
} as const;

export interface SessionParseOptions {
  /** Kubernetes runs images: every component must name one. */
  readonly requireImage?: boolean;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const labelValue = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelKey =
  /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const envName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const topFields = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const metadataFields = ['name', 'namespace', 'labels'];
const specFields = ['components', 'timeout', 'ttl', 'priority'];
const componentFields = [
  ...['name', 'kind', 'pool', 'replicas', 'command', 'args', 'env', 'image', 'port'],
];

type Bad = (path: FieldPath, problem: string) => never;

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const article: Record<string, string> = {
  'must be string': 'must be a string',
  'must be integer': 'must be an integer',
  'must be array': 'must be a list',
  'must be object': 'must be a mapping',
};

function checked<T>(bad: Bad, path: FieldPath, schema: Schema<T>, value: unknown): T {
  const p = schema.problem(value, '');
  if (p) bad([...path, ...splitPath(p.path)], article[p.message] ?? p.message);
  return value as T;
}

function onlyFields(bad: Bad, path: FieldPath, v: Record<string, unknown>, known: string[]): void {
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) bad([...path, key], `is not a field (${known.join(', ')})`);
  }
}

function durationField(bad: Bad, path: FieldPath, v: unknown, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  const text = typeof v === 'number' && Number.isInteger(v) && v >= 0 ? String(v) : v;
  if (typeof text !== 'string') bad(path, 'must be a duration such as 90s, 15m or 1h30m');
  try {
    parseDuration(text);
  } catch {
    bad(path, `"${String(text)}" is not a duration (use forms like 90s, 15m, 1h30m)`);
  }
  return text;
}

function stringMap(bad: Bad, path: FieldPath, v: unknown, key: RegExp, what: string) {
  const map = checked(bad, path, Type.Record(Type.String(), Type.String()), v);
  for (const k of Object.keys(map)) if (!key.test(k)) bad([...path, k], `is not ${what}`);
  return map;
}

function decodeComponent(bad: Bad, at: FieldPath, v: unknown, opts: SessionParseOptions) {
  if (!isMapping(v)) bad(at, 'must be a mapping (name, kind, pool, command, ...)');
  const c = v;
  onlyFields(bad, at, c, componentFields);
  for (const f of ['name', 'kind', 'pool', 'command']) {
    if (c[f] === undefined || c[f] === null) bad(at, `needs "${f}"`);
  }
  const name = checked(bad, [...at, 'name'], Type.String(), c.name);
  if (!dnsLabel.test(name)) bad([...at, 'name'], `"${name}" is not a DNS label (a-z, 0-9, -)`);
  const kind = checked(bad, [...at, 'kind'], Type.String(), c.kind);
  if (!dnsLabel.test(kind)) bad([...at, 'kind'], `"${kind}" is not a role (driver, server, ...)`);
  const pool = checked(bad, [...at, 'pool'], Type.String(), c.pool);
  if (!labelValue.test(pool)) bad([...at, 'pool'], `"${pool}" is not a label value`);
  const replicas =
    c.replicas === undefined || c.replicas === null
      ? 1
      : checked(
          bad,
          [...at, 'replicas'],
          Type.Integer({ minimum: 1, maximum: sessionLimits.replicas }),
          c.replicas,
        );
  const list = Type.Array(Type.String(), { maxItems: 1024 });
  const command = checked(bad, [...at, 'command'], list, c.command);
  if (!command[0]) bad([...at, 'command'], 'must name an executable');
  const args = c.args == null ? undefined : checked(bad, [...at, 'args'], list, c.args);
  const argBytes = [...command, ...(args ?? [])].reduce((n, a) => n + Buffer.byteLength(a), 0);
  if (argBytes > workloadLimits.argBytes) bad([...at, 'args'], 'are over 128 KiB with command');
  const env = c.env == null ? undefined : stringMap(bad, [...at, 'env'], c.env, envName, 'a name');
  if (env && Object.keys(env).length > workloadLimits.envEntries) {
    bad([...at, 'env'], `has more than ${workloadLimits.envEntries} entries`);
  }
  const image =
    c.image == null ? undefined : checked(bad, [...at, 'image'], Type.String(), c.image);
  if (image === '') bad([...at, 'image'], 'must not be empty');
  if (opts.requireImage && image === undefined) bad(at, 'needs "image" on Kubernetes');
  const port =
    c.port == null
      ? undefined
      : checked(bad, [...at, 'port'], Type.Integer({ minimum: 1, maximum: 65535 }), c.port);
  const out: SessionComponent = {
    name,
    kind,
    pool,
    replicas,
    command: command as [string, ...string[]],
    ...(args ? { args } : {}),
    ...(env ? { env } : {}),
    ...(image !== undefined ? { image } : {}),
    ...(port !== undefined ? { port } : {}),
  };
  return out;
}

function decodeSpec(bad: Bad, v: unknown, opts: SessionParseOptions): SessionSpec {
  if (!isMapping(v)) bad(['spec'], 'must be a mapping (components, timeout, ttl, priority)');
  const s = v;
  onlyFields(bad, ['spec'], s, specFields);
  if (s.components == null) bad(['spec'], 'needs "components", a list with one driver');
  const max = sessionLimits.components;
  const raw = checked(
    bad,
    ['spec', 'components'],
    Type.Array(Type.Unknown(), { minItems: 1, maxItems: max }),
    s.components,
  );
  const components = raw.map((c, i) => decodeComponent(bad, ['spec', 'components', i], c, opts));
  const seen = new Map<string, number>();
  components.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first !== undefined) {
      bad(['spec', 'components', i, 'name'], `"${c.name}" is used by components[${first}] too`);
    }
    seen.set(c.name, i);
  });
  const drivers = components.flatMap((c, i) => (c.kind === driverKind ? [i] : []));
  if (drivers.length === 0) bad(['spec', 'components'], 'needs exactly one driver (none given)');
  if (drivers.length > 1) {
    bad(
      ['spec', 'components', drivers[1]!, 'kind'],
      `is a second driver (components[${drivers[0]}] is one)`,
    );
  }
  if (components[drivers[0]!]!.replicas !== 1) {
    bad(['spec', 'components', drivers[0]!, 'replicas'], 'must be 1 for the driver');
  }
  const timeout = durationField(bad, ['spec', 'timeout'], s.timeout, sessionDefaults.timeout);
  const ttl = durationField(bad, ['spec', 'ttl'], s.ttl, sessionDefaults.ttl);
  const limit = sessionLimits.priority;
  const priority =
    s.priority == null
      ? sessionDefaults.priority
      : checked(
          bad,
          ['spec', 'priority'],
          Type.Integer({ minimum: -limit, maximum: limit }),
          s.priority,
        );
  return { components, timeout, ttl, priority };
}

/** Validates one document's value into a frozen Session (its `status`, if any, is dropped). */
export function decodeSession(
  ctx: DocContext,
  value: unknown,
  opts: SessionParseOptions = {},
): Session {
  const bad: Bad = (path, problem) => {
    throw fieldError(ctx, path, problem, 'FATHOM_SESSION_INVALID');
  };
  if (!isMapping(value)) bad([], 'must be a mapping (apiVersion, kind, metadata, spec)');
  const v = value;
  onlyFields(bad, [], v, topFields);
  if (v.apiVersion !== sessionApiVersion) bad(['apiVersion'], `must be ${sessionApiVersion}`);
  if (v.kind !== sessionKind) bad(['kind'], `must be ${sessionKind}`);
  if (!isMapping(v.metadata)) bad(['metadata'], 'must be a mapping with a name');
  const m = v.metadata;
  onlyFields(bad, ['metadata'], m, metadataFields);
  if (m.name == null) bad(['metadata'], 'needs "name"');
  const name = checked(bad, ['metadata', 'name'], Type.String(), m.name);
  if (!dnsLabel.test(name)) {
    bad(['metadata', 'name'], `"${name}" is not a DNS label (a-z, 0-9, -; at most 63)`);
  }
  const namespace =
    m.namespace == null
      ? undefined
      : checked(bad, ['metadata', 'namespace'], Type.String(), m.namespace);
  if (namespace !== undefined && !dnsLabel.test(namespace)) {
    bad(['metadata', 'namespace'], `"${namespace}" is not a DNS label`);
  }
  const labels =
    m.labels == null
      ? undefined
      : stringMap(bad, ['metadata', 'labels'], m.labels, labelKey, 'a label key');
  for (const [k, l] of Object.entries(labels ?? {})) {
    if (l !== '' && !labelValue.test(l))
      bad(['metadata', 'labels', k], `"${l}" is not a label value`);
  }
  if (v.spec == null) bad([], 'needs "spec"');
  const spec = decodeSpec(bad, v.spec, opts);
  const session: Session = {
    apiVersion: sessionApiVersion,
    kind: sessionKind,
    metadata: {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(labels ? { labels } : {}),
    },
    spec,
  };
  // A copy: the frozen session shares nothing with the parsed value.
  return deepFreeze(structuredClone(session));
}

function sourceError(file: string, problem: string): FathomError {
  return new FathomError('FATHOM_SESSION_INVALID', `${file}: ${problem}`, { details: { file } });
}

function isEmpty(doc: Document.Parsed): boolean {
  const c = doc.contents;
  return c === null || (isScalar(c) && c.value === null);
}

/**
 * Every Session of a YAML text (one per document, empty documents skipped), bounded before
 * parsing; the first problem throws, so a bad file submits nothing.
 * @param file how the source is named in messages (`load.yaml`, `-`).
 */
export function parseSessionText(
  text: string,
  file: string,
  opts: SessionParseOptions = {},
): Session[] {
  const L = sessionLimits;
  const bytes = Buffer.byteLength(text);
  if (bytes > L.fileBytes) {
    throw sourceError(file, `is ${bytes} bytes, over the ${formatBytes(L.fileBytes)} limit`);
  }
  const shape = yamlShapeProblem(text, L.documents, L.yamlNodes);
  if (shape === 'documents') throw sourceError(file, `holds more than ${L.documents} documents`);
  if (shape === 'nodes') throw sourceError(file, `holds more than ${L.yamlNodes} YAML nodes`);
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, merge: true, prettyErrors: true });
  for (const doc of docs) if (doc.errors[0]) throw syntaxError(file, doc.errors[0]);
  const out: Session[] = [];
  const names = new Map<string, number>();
  for (const doc of docs) {
    if (isEmpty(doc)) continue;
    const ctx: DocContext = { file, doc, lines };
    const bad = (problem: string): never => {
      throw fieldError(ctx, [], problem, 'FATHOM_SESSION_INVALID');
    };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: L.aliases });
    } catch (cause) {
      bad((cause as Error).message);
    }
    const size = jsonSize(value, L.sessionBytes, L.nestingDepth);
    if (size === 'depth') bad(`nests deeper than ${L.nestingDepth} levels`);
    if (size === 'bytes') bad(`is over ${formatBytes(L.sessionBytes)} as JSON`);
    const session = decodeSession(ctx, value, opts);
    const first = names.get(session.metadata.name);
    if (first !== undefined) {
      throw fieldError(
        ctx,
        ['metadata', 'name'],
        `"${session.metadata.name}" is also the name of the session at line ${first}`,
        'FATHOM_SESSION_INVALID',
      );
    }
    names.set(session.metadata.name, positionOf(ctx, ['metadata', 'name']).line);
    out.push(session);
  }
  if (out.length === 0) throw sourceError(file, 'holds no Session (the file is empty)');
  return out;
}

/** Milliseconds of spec.timeout; undefined for no limit (`0`). */
export function timeoutMs(spec: SessionSpec): number | undefined {
  const ms = parseDuration(spec.timeout);
  return ms > 0 ? ms : undefined;
}

export function ttlMs(spec: SessionSpec): number {
  return parseDuration(spec.ttl);
}

/** Nodes per pool: one per replica of every component, pools in sorted order. */
export function needsOf(spec: SessionSpec): PoolNeeds {
  const counts = new Map<string, number>();
  for (const c of spec.components) counts.set(c.pool, (counts.get(c.pool) ?? 0) + c.replicas);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
