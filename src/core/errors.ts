/**
 * The one error catalogue. Every error fathom raises on purpose carries a stable `FATHOM_*`
 * code from this table; `docs/errors.md` documents each one (a test keeps the two in step).
 * The `kind` decides the HTTP status and the process exit code in exactly one place.
 */

/** What went wrong, in the terms callers act on. */
export type ErrorKind =
  | 'input' // the user's or client's input is wrong: fix it and retry
  | 'notAllowed' // the caller may not do this (403)
  | 'notFound'
  | 'conflict' // it already exists or already happened (409)
  | 'tooLarge' // 413
  | 'timeout'
  | 'requestTimeout' // a client sent its request too slowly (408): it may retry
  | 'unavailable' // a dependency did not answer
  | 'failed' // the work ran and reported failure
  | 'internal';

export const errorCatalogue = {
  FATHOM_USAGE: { kind: 'input', summary: 'Unknown command, flag or argument.' },
  FATHOM_BAD_DURATION: { kind: 'input', summary: 'A duration flag is not like 90s, 5m or 1h30m.' },
  FATHOM_BAD_FLAG_VALUE: { kind: 'input', summary: 'A flag has a value outside what it accepts.' },
  FATHOM_YAML_SYNTAX: {
    kind: 'input',
    summary: 'A YAML file does not parse; the message names file, line and column.',
  },
  FATHOM_PLUGIN_INVALID: {
    kind: 'input',
    summary: 'A plugin definition breaks a rule; the message names file, line and field.',
  },
  FATHOM_PLUGIN_NOT_FOUND: {
    kind: 'input',
    summary: 'A --plugin names no file, directory or built-in plugin.',
  },
  FATHOM_PLUGIN_DUPLICATE: {
    kind: 'input',
    summary: 'Two plugins in one run share a plugin-name.',
  },
  FATHOM_PLUGIN_TOO_LARGE: {
    kind: 'input',
    summary:
      'A plugin file, field or plugin set is over a size limit (see the README); the message names the file and the limit.',
  },
  FATHOM_CONFIG_INVALID: {
    kind: 'input',
    summary: 'A configuration file or environment variable is invalid.',
  },
  FATHOM_RESULT_UNEXPECTED: {
    kind: 'notAllowed',
    summary: 'An upload names a plugin and node the aggregator does not expect.',
  },
  FATHOM_RESULT_DUPLICATE: {
    kind: 'conflict',
    summary: 'A result for that plugin and node was already received.',
  },
  FATHOM_RESULT_TOO_LARGE: {
    kind: 'tooLarge',
    summary: 'An upload is larger than the aggregator accepts.',
  },
  FATHOM_RESULT_BAD_ARCHIVE: {
    kind: 'input',
    summary:
      'An uploaded tarball is corrupt or holds unsafe entries (.., absolute paths, links out, devices).',
  },
  FATHOM_RESULT_BAD_NAME: {
    kind: 'input',
    summary: 'A plugin, node or file name from the network is not a safe path segment.',
  },
  FATHOM_RESULT_WRITE_FAILED: {
    kind: 'internal',
    summary: 'The aggregator could not store a result; the sender may retry.',
  },
  FATHOM_RESULTS_NOT_FOUND: {
    kind: 'notFound',
    summary: 'A results tarball or directory given to fathom does not exist.',
  },
  FATHOM_RESULTS_INVALID: {
    kind: 'input',
    summary:
      'A results tarball or directory lacks what fathom reads (meta/info.json, plugins/<p>/sonobuoy_results.yaml), holds it malformed, or holds it larger than fathom reads (256 MiB for a results file).',
  },
  FATHOM_PROGRESS_INVALID: {
    kind: 'input',
    summary: 'A progress update is not a JSON object of the expected shape.',
  },
  FATHOM_PROGRESS_TOO_LARGE: {
    kind: 'tooLarge',
    summary: 'A progress update is larger than one update may be (64 KiB).',
  },
  FATHOM_CLIENT_CERT_MISMATCH: {
    kind: 'notAllowed',
    summary: 'A client certificate was not issued for the plugin named in the URL.',
  },
  FATHOM_ROUTE_NOT_FOUND: {
    kind: 'notFound',
    summary: 'No aggregator route matches the request method and path.',
  },
  FATHOM_DONE_FILE_INVALID: {
    kind: 'input',
    summary: 'The done file names a path that is missing or outside the results directory.',
  },
  FATHOM_UPLOAD_STALLED: {
    kind: 'requestTimeout',
    summary:
      'An upload sent no bytes for the idle timeout, or did not finish within the request deadline; the worker retries.',
  },
  FATHOM_JOURNAL_INVALID: {
    kind: 'internal',
    summary:
      "The aggregator's journal (its on-disk state for crash recovery) is unreadable; the message names the file and line.",
  },
  FATHOM_STATE_INVALID: {
    kind: 'input',
    summary:
      "A file fathom wrote and reads back (a local run's run.json or status.json, the Kubernetes run config) is corrupt or not of this version; the message names the file and field.",
  },
  FATHOM_UPLOAD_FAILED: {
    kind: 'unavailable',
    summary: 'The worker could not deliver its result to the aggregator after retrying.',
  },
  FATHOM_TLS_INVALID: {
    kind: 'input',
    summary: 'A certificate or key is missing or cannot be parsed.',
  },
  FATHOM_RUN_EXISTS: {
    kind: 'conflict',
    summary: 'A run already exists in that namespace; delete it first.',
  },
  FATHOM_RUN_NOT_FOUND: { kind: 'notFound', summary: 'No run exists in that namespace.' },
  FATHOM_RUN_NOT_DONE: {
    kind: 'conflict',
    summary: 'The run has not produced its results tarball yet.',
  },
  FATHOM_RUN_FAILED: {
    kind: 'failed',
    summary: 'The run completed but a plugin failed or timed out.',
  },
  FATHOM_TIMEOUT: { kind: 'timeout', summary: 'An operation did not finish within its --timeout.' },
  FATHOM_NOT_READY: { kind: 'failed', summary: '`fathom health`: some objects are not Current.' },
  FATHOM_PROCESS_FAILED: {
    kind: 'failed',
    summary: 'A local process could not be started or stopped.',
  },
  FATHOM_KUBE_UNREACHABLE: {
    kind: 'unavailable',
    summary:
      'The Kubernetes API server did not answer: connection refused, name not found, TLS failure or --request-timeout.',
  },
  FATHOM_KUBE_UNAUTHORIZED: {
    kind: 'notAllowed',
    summary:
      'The Kubernetes API server rejected the credentials (401): an expired or invalid token or certificate.',
  },
  FATHOM_KUBE_FORBIDDEN: {
    kind: 'notAllowed',
    summary: 'RBAC forbids the request (403); the message names the user, verb and resource.',
  },
  FATHOM_KUBE_QUOTA: {
    kind: 'notAllowed',
    summary: 'A ResourceQuota refused to admit an object (403 exceeded quota).',
  },
  FATHOM_KUBE_CONFLICT: {
    kind: 'conflict',
    summary: 'A Kubernetes object already exists or was changed meanwhile (409).',
  },
  FATHOM_KUBE_NOT_FOUND: {
    kind: 'notFound',
    summary: 'A Kubernetes object or its namespace does not exist (404).',
  },
  FATHOM_KUBE_INVALID: {
    kind: 'input',
    summary:
      'The Kubernetes API server refused an object as invalid (400, 422); the message names the field.',
  },
  FATHOM_KUBE_API_ERROR: {
    kind: 'unavailable',
    summary: 'Any other Kubernetes API error (5xx, 429 Too Many Requests, 410 Gone...).',
  },
  FATHOM_RETRIEVE_TOKEN_INVALID: {
    kind: 'notAllowed',
    summary: "The aggregator's results listener got no retrieve token or a wrong one.",
  },
  FATHOM_INTERNAL: {
    kind: 'internal',
    summary: 'A bug in fathom: please report it with the message.',
  },
} as const satisfies Record<`FATHOM_${string}`, { kind: ErrorKind; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FathomErrorOptions {
  cause?: unknown;
  /** Structured facts for machine output (file, line, field, key...). */
  details?: Readonly<Record<string, unknown>>;
}

/** An error with a stable code. The message is one line meant for people. */
export class FathomError extends Error {
  override readonly name = 'FathomError';
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: FathomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kind = errorCatalogue[code].kind;
    this.details = options.details ?? {};
  }
}

export function isFathomError(err: unknown, code?: ErrorCode): err is FathomError {
  return err instanceof FathomError && (code === undefined || err.code === code);
}

const httpStatusByKind: Record<ErrorKind, number> = {
  input: 400,
  notAllowed: 403,
  notFound: 404,
  conflict: 409,
  tooLarge: 413,
  timeout: 504,
  requestTimeout: 408,
  unavailable: 503,
  failed: 500,
  internal: 500,
};

/** The HTTP status an error maps to; anything that is not a FathomError is a 500. */
export function httpStatusOf(err: unknown): number {
  return err instanceof FathomError ? httpStatusByKind[err.kind] : 500;
}

/** Exit codes: 2 for bad input (nothing was started), 1 for everything else. */
export function exitCodeOf(err: unknown): number {
  return err instanceof FathomError && err.kind === 'input' ? 2 : 1;
}

/** A message that never throws, for errors of unknown shape. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
