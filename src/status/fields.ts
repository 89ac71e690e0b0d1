/**
 * Field access on unstructured objects with Go's apimachinery semantics: the strict getters
 * fail with apimachinery's "accessor error" text, the lenient ones (kstatus's GetIntField and
 * friends) fall back to a default for anything of the wrong type.
 */
import { FathomError } from '../core/errors.js';
import type { GroupKind, KubeObject, ObjectIdentifier } from './types.js';

/** Thrown by the strict getters; `compute` turns it into an Unknown result. */
export class FieldError extends FathomError {
  override readonly name = 'FieldError';
  constructor(message: string) {
    super('FATHOM_STATUS_FIELD_INVALID', message);
  }
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An int64 in Go's terms: a bigint, or a number with no fraction, within int64's range. Go's
 * JSON decoder reads a larger integer (1e19, 1e+21) as float64, so it is not an integer here.
 */
export function isInteger(v: unknown): v is number | bigint {
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX;
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63;
}

/** Go's `%T` for a decoded JSON value. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (isInteger(v)) return 'int64';
  if (typeof v === 'number' || typeof v === 'bigint') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/**
 * Go's `%v` for a float64: the shortest digits that round-trip (as JS has them), in exponent
 * form (`1.5e+06`, `1e-05`) when the exponent is below -4 or at least 6, else plain.
 */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  const [mantissa, e] = f.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp >= -4 && exp < 6) return String(f);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Go's `%v` for a decoded JSON value (maps print with sorted keys, as fmt does). */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (isInteger(v)) return formatInt(v);
  if (typeof v === 'number' || typeof v === 'bigint') return goFloat(Number(v));
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  const m = v as Record<string, unknown>;
  const keys = Object.keys(m).sort();
  return `map[${keys.map((k) => `${k}:${goValue(m[k])}`).join(' ')}]`;
}

/** Integers print in full (never 1e+21); other numbers as JS prints them. */
export function formatInt(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  return Number.isInteger(n) ? BigInt(n).toString() : String(n);
}

const jsonPath = (fields: readonly string[]): string => `.${fields.join('.')}`;

export interface Found {
  readonly found: boolean;
  readonly value: unknown;
}

/**
 * apimachinery's NestedFieldNoCopy: a nil on the way means not found; a non-map on the way is
 * an error; the last field may hold anything, null included (found).
 */
export function nestedField(obj: unknown, ...fields: string[]): Found {
  let val: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (val === null || val === undefined) return { found: false, value: undefined };
    if (!isMap(val)) {
      throw new FieldError(
        `${jsonPath(fields.slice(0, i + 1))} accessor error: ${goValue(val)} is of the type ${goTypeName(val)}, expected map[string]interface{}`,
      );
    }
    const field = fields[i]!;
    if (!Object.hasOwn(val, field) || val[field] === undefined) {
      return { found: false, value: undefined };
    }
    val = val[field];
  }
  return { found: true, value: val };
}

function typed<T>(
  obj: unknown,
  fields: string[],
  check: (v: unknown) => v is T,
  expected: string,
): T | undefined {
  const { found, value } = nestedField(obj, ...fields);
  if (!found) return undefined;
  if (!check(value)) {
    throw new FieldError(
      `${jsonPath(fields)} accessor error: ${goValue(value)} is of the type ${goTypeName(value)}, expected ${expected}`,
    );
  }
  return value;
}

/** apimachinery's NestedInt64: undefined when missing, FieldError when not an integer (null included). */
export function nestedInt64(obj: unknown, ...fields: string[]): bigint | undefined {
  const v = typed(obj, fields, isInteger, 'int64');
  return v === undefined ? undefined : BigInt(v);
}

export function nestedString(obj: unknown, ...fields: string[]): string | undefined {
  return typed(obj, fields, (v): v is string => typeof v === 'string', 'string');
}

export function nestedSlice(obj: unknown, ...fields: string[]): unknown[] | undefined {
  return typed(obj, fields, (v): v is unknown[] => Array.isArray(v), '[]interface{}');
}

export function nestedMap(obj: unknown, ...fields: string[]): Record<string, unknown> | undefined {
  return typed(obj, fields, isMap, 'map[string]interface{}');
}

function lenient(obj: unknown, path: string): unknown {
  try {
    const { found, value } = nestedField(obj, ...path.split('.').filter((f) => f !== ''));
    return found ? value : undefined;
  } catch {
    return undefined;
  }
}

/** kstatus's GetIntField: the value when it is an integer, else the default. */
export function intField(obj: unknown, path: string, dflt: bigint): bigint {
  const v = lenient(obj, path);
  return isInteger(v) ? BigInt(v) : dflt;
}

/** kstatus's GetStringField: the value when it is a string, else the default. */
export function stringField(obj: unknown, path: string, dflt: string): string {
  const v = lenient(obj, path);
  return typeof v === 'string' ? v : dflt;
}

/** kstatus's GetBoolField: the value when it is a bool, else the default. */
export function boolField(obj: unknown, path: string, dflt: boolean): boolean {
  const v = lenient(obj, path);
  return typeof v === 'boolean' ? v : dflt;
}

/** Unstructured.GetKind/GetAPIVersion/...: a string field at the top of metadata, else ''. */
export function topString(obj: unknown, ...fields: string[]): string {
  return stringField(obj, fields.join('.'), '');
}

/**
 * schema.ParseGroupVersion: '' and 'v1' are the core group; 'apps/v1' is group apps; more
 * than one slash is invalid (undefined).
 */
export function parseGroupVersion(
  apiVersion: string,
): { group: string; version: string } | undefined {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return undefined;
}

/**
 * The object's GroupKind as Unstructured.GroupVersionKind gives it: an unparsable apiVersion
 * gives an empty GroupKind (so no per-kind rule applies).
 */
export function groupKindOf(obj: unknown): GroupKind {
  const gv = parseGroupVersion(topString(obj, 'apiVersion'));
  if (!gv) return { group: '', kind: '' };
  return { group: gv.group, kind: topString(obj, 'kind') };
}

export function identifierOf(obj: unknown): ObjectIdentifier {
  const gk = groupKindOf(obj);
  return {
    group: gk.group,
    kind: topString(obj, 'kind'),
    namespace: topString(obj, 'metadata', 'namespace'),
    name: topString(obj, 'metadata', 'name'),
  };
}

/** `Deployment.apps`, or `Pod` for the core group (schema.GroupKind.String). */
export function formatGroupKind(gk: GroupKind): string {
  return gk.group === '' ? gk.kind : `${gk.kind}.${gk.group}`;
}

/** A map key for a GroupKind. */
export function groupKindKey(gk: GroupKind): string {
  return `${gk.group}/${gk.kind}`;
}

/** A map key for an identifier. */
export function identifierKey(id: ObjectIdentifier): string {
  return `${id.group}/${id.kind}/${id.namespace}/${id.name}`;
}

/** Labels of an object: only string values count. */
export function labelsOf(obj: KubeObject): Record<string, string> {
  const labels = lenient(obj, 'metadata.labels');
  const out: Record<string, string> = {};
  if (isMap(labels)) {
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}
