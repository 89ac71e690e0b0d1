/**
 * State fathom writes and reads back (run records, status files, the cluster file, the
 * Kubernetes run config) is checked against its schema when read, then frozen: a corrupt or
 * hand-edited file becomes one line naming the file and the first bad field, never a bare cast
 * that fails later, far from the cause.
 */
import type { Static, TSchema } from 'typebox';
import { Check, Errors } from 'typebox/value';
import { FathomError, type ErrorCode } from './errors.js';

export interface ValidatedOptions {
  /** The file (or ConfigMap key) the value came from, as the error should name it. */
  readonly file: string;
  /** Default FATHOM_STATE_INVALID. */
  readonly code?: ErrorCode;
}

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A JSON Pointer (`/nodes/1/name`) as people read it (`nodes[1].name`). */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^(0|[1-9]\d*)$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** The schema at a `#/properties/x/...` path, for its `description`. */
function schemaAt(schema: unknown, path: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const raw of path.replace(/^#\/?/, '').split('/')) {
    if (raw === '') continue;
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** The first bad field and what it must be. */
function firstProblem(schema: TSchema, value: unknown): { path: string; message: string } {
  const errors = Errors(schema, value);
  const first = errors[0];
  if (!first) return { path: '', message: 'does not match its schema' };
  if (first.keyword === 'required') {
    const names = (first.params as { requiredProperties?: string[] }).requiredProperties ?? [];
    const name = names[0] ?? '?';
    return {
      path: fieldPath(`${first.instancePath}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`),
      message: 'is missing',
    };
  }
  // A union reports each branch, then itself: say what the union accepts, not its first branch.
  const union = errors.find((e) => e.instancePath === first.instancePath && e.keyword === 'anyOf');
  const chosen = union ?? first;
  const described = schemaAt(schema, chosen.schemaPath)?.description;
  let message = typeof described === 'string' ? `must be ${described}` : chosen.message;
  if (union && typeof described !== 'string') {
    const allowed = errors
      .filter((e) => e.instancePath === first.instancePath && e.keyword === 'const')
      .map((e) => JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue));
    if (allowed.length > 0) message = `must be one of ${allowed.join(', ')}`;
  }
  return { path: fieldPath(first.instancePath), message };
}

/**
 * `value` checked against `schema` and deep-frozen. Throws a FathomError (FATHOM_STATE_INVALID
 * unless `code` says otherwise) whose one-line message names the file and the JSON path of the
 * first bad field: `run.json: nodes[1].name: must be string`. A schema's `description`, when it
 * has one, is what the field "must be".
 */
export function validated<S extends TSchema>(
  schema: S,
  value: unknown,
  options: ValidatedOptions,
): Static<S> {
  if (!Check(schema, value)) {
    const { path, message } = firstProblem(schema, value);
    throw new FathomError(
      options.code ?? 'FATHOM_STATE_INVALID',
      `${options.file}: ${path ? `${path}: ` : ''}${message}`,
      { details: { file: options.file, ...(path ? { field: path } : {}) } },
    );
  }
  return deepFreeze(value);
}

/** `validated` over JSON text; text that is not JSON is the same one-line error. */
export function validatedJson<S extends TSchema>(
  schema: S,
  text: string,
  options: ValidatedOptions,
): Static<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new FathomError(
      options.code ?? 'FATHOM_STATE_INVALID',
      `${options.file}: not JSON (${(cause as Error).message})`,
      { cause, details: { file: options.file } },
    );
  }
  return validated(schema, value, options);
}
