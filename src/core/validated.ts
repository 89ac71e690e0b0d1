/**
 * State fathom writes and reads back (run records, status files, the cluster file, the
 * Kubernetes run config) is checked against its schema when read, then frozen: a corrupt or
 * hand-edited file becomes one line naming the file and the first bad field, never a bare cast
 * that fails later, far from the cause.
 */
import { FathomError, type ErrorCode } from './errors.js';
import { firstProblem, type Schema, type Static } from './schema.js';

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

/**
 * `value` checked against `schema` and deep-frozen. Throws a FathomError (FATHOM_STATE_INVALID
 * unless `code` says otherwise) whose one-line message names the file and the path of the first
 * bad field: `run.json: nodes[1].name: must be string`.
 */
export function validated<S extends Schema<unknown>>(
  schema: S,
  value: unknown,
  options: ValidatedOptions,
): Static<S> {
  const problem = firstProblem(schema, value);
  if (problem) {
    const { path, message } = problem;
    throw new FathomError(
      options.code ?? 'FATHOM_STATE_INVALID',
      `${options.file}: ${path ? `${path}: ` : ''}${message}`,
      { details: { file: options.file, ...(path ? { field: path } : {}) } },
    );
  }
  return deepFreeze(value as Static<S>);
}

/** `validated` over JSON text; text that is not JSON is the same one-line error. */
export function validatedJson<S extends Schema<unknown>>(
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
