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
  FATHOM_USAGE: {
    kind: 'input',
    summary: 'Unknown command, flag or argument.',
    action: 'Run the command with --help and correct the command line.',
  },
  FATHOM_BAD_DURATION: {
    kind: 'input',
    summary: 'A duration flag is not like 90s, 5m or 1h30m.',
    action: 'Give a Go-style duration (90s, 5m, 1h30m) or a whole number of seconds.',
  },
  FATHOM_BAD_FLAG_VALUE: {
    kind: 'input',
    summary: 'A flag has a value outside what it accepts.',
    action: 'Use one of the values the flag lists in --help.',
  },
  FATHOM_YAML_SYNTAX: {
    kind: 'input',
    summary: 'A YAML file does not parse; the message names file, line and column.',
    action: 'Fix the YAML at the file, line and column named.',
  },
  FATHOM_PLUGIN_INVALID: {
    kind: 'input',
    summary: 'A plugin definition breaks a rule; the message names file, line and field.',
    action: "Fix the named field of the plugin definition (see Sonobuoy's plugin format).",
  },
  FATHOM_PLUGIN_NOT_FOUND: {
    kind: 'input',
    summary: 'A --plugin names no file, directory or built-in plugin.',
    action: 'Check the path, or list the built-in plugins with `fathom gen plugin --help`.',
  },
  FATHOM_PLUGIN_DUPLICATE: {
    kind: 'input',
    summary: 'Two plugins in one run share a plugin-name.',
    action: 'Give each plugin its own plugin-name, or pass the file once.',
  },
  FATHOM_PLUGIN_TOO_LARGE: {
    kind: 'input',
    summary:
      'A plugin file, field or plugin set is over a size limit (see the README); the message names the file and the limit.',
    action:
      'Shrink the file or field under the limit named (README: plugin limits); move large data into the image.',
  },
  FATHOM_CONFIG_INVALID: {
    kind: 'input',
    summary: 'A configuration file or environment variable is invalid.',
    action: 'Fix the named file, field or variable.',
  },
  FATHOM_RESULT_UNEXPECTED: {
    kind: 'notAllowed',
    summary: 'An upload names a plugin and node the aggregator does not expect.',
    action:
      "The worker names a plugin or node this run does not expect: check the worker's RESULT_TYPE and NODE_NAME.",
  },
  FATHOM_RESULT_DUPLICATE: {
    kind: 'conflict',
    summary: 'A result for that plugin and node was already received.',
    action:
      'Nothing: the result (or its timeout error) is already stored; the worker stops sending.',
  },
  FATHOM_RESULT_TOO_LARGE: {
    kind: 'tooLarge',
    summary: 'An upload is larger than the aggregator accepts.',
    action: 'Make the plugin write less, or raise --max-result-size.',
  },
  FATHOM_RESULT_BAD_ARCHIVE: {
    kind: 'input',
    summary:
      'An uploaded tarball is corrupt or holds unsafe entries (.., absolute paths, links out, devices).',
    action: 'Make the plugin write a plain gzip tarball of relative paths and regular files.',
  },
  FATHOM_RESULT_BAD_NAME: {
    kind: 'input',
    summary: 'A plugin, node or file name from the network is not a safe path segment.',
    action: 'Use plugin, node and file names without slashes or control characters.',
  },
  FATHOM_RESULT_WRITE_FAILED: {
    kind: 'internal',
    summary: 'The aggregator could not store a result; the sender may retry.',
    action: 'Free disk space where the aggregator writes; the worker retries by itself.',
  },
  FATHOM_RESULTS_NOT_FOUND: {
    kind: 'notFound',
    summary: 'A results tarball or directory given to fathom does not exist.',
    action: 'Check the path; `fathom retrieve` prints where the tarball went.',
  },
  FATHOM_RESULTS_INVALID: {
    kind: 'input',
    summary:
      'A results tarball or directory lacks what fathom reads (meta/info.json, plugins/<p>/sonobuoy_results.yaml), holds it malformed, or holds it larger than fathom reads (256 MiB for a results file).',
    action: 'Retrieve the tarball again; if it persists, the plugin wrote a malformed result file.',
  },
  FATHOM_PROGRESS_INVALID: {
    kind: 'input',
    summary: 'A progress update is not a JSON object of the expected shape.',
    action: "Send a JSON object with Sonobuoy's progress fields (msg, total, completed, ...).",
  },
  FATHOM_PROGRESS_TOO_LARGE: {
    kind: 'tooLarge',
    summary: 'A progress update is larger than one update may be (64 KiB).',
    action: 'Send smaller progress updates (64 KiB at most); report increments with appendfailing.',
  },
  FATHOM_CLIENT_CERT_MISMATCH: {
    kind: 'notAllowed',
    summary: 'A client certificate was not issued for the plugin named in the URL.',
    action: 'Use the client certificate issued to the plugin named in the URL.',
  },
  FATHOM_ROUTE_NOT_FOUND: {
    kind: 'notFound',
    summary: 'No aggregator route matches the request method and path.',
    action: "Use the aggregator's routes: /api/v1/results/... and /api/v1/progress/...",
  },
  FATHOM_DONE_FILE_INVALID: {
    kind: 'input',
    summary: 'The done file names a path that is missing or outside the results directory.',
    action: 'Write into the done file a path inside the results directory that exists.',
  },
  FATHOM_UPLOAD_STALLED: {
    kind: 'requestTimeout',
    summary:
      'An upload sent no bytes for the idle timeout, or did not finish within the request deadline; the worker retries.',
    action:
      'Nothing if it passes: the worker sends again. If it repeats, check the network between worker and aggregator.',
  },
  FATHOM_JOURNAL_INVALID: {
    kind: 'internal',
    summary:
      "The aggregator's journal (its on-disk state for crash recovery) is unreadable; the message names the file and line.",
    action:
      'Inspect or remove the named line; `fathom retrieve --partial` still gives what was accepted.',
  },
  FATHOM_STATE_INVALID: {
    kind: 'input',
    summary:
      "A file fathom wrote and reads back (a local run's run.json or status.json, the Kubernetes run config) is corrupt or not of this version; the message names the file and field.",
    action: 'Fix the named field; `fathom delete` still removes a run whose state is corrupt.',
  },
  FATHOM_STATE_LOCKED: {
    kind: 'unavailable',
    summary:
      'The local state database (`state.db`) stayed locked by another process beyond the busy timeout; nothing was changed.',
    action:
      'Find the process holding the file (`fuser <file>`): a stuck fathom command or a tool with the database open; retry once it is gone.',
  },
  FATHOM_WORKLOAD_INVALID: {
    kind: 'input',
    summary:
      'A workload (containers to place on a node) is malformed: the message names the workload and field.',
    action: 'Fix the named field of the session component or check agent that produced it.',
  },
  FATHOM_WORKLOAD_EXISTS: {
    kind: 'conflict',
    summary: 'A workload of that name is already placed.',
    action: 'Remove the old workload first, or choose another name.',
  },
  FATHOM_DISPATCHER_UNAVAILABLE: {
    kind: 'unavailable',
    summary:
      'The check dispatcher did not answer, answered with an error, or no replica leads yet.',
    action:
      'Check `fathom checks state` and the dispatcher logs; agents keep polling and stop their checks once the node expiration passes unconfirmed.',
  },
  FATHOM_CHECKS_NOT_UP: {
    kind: 'notFound',
    summary: 'No cluster checks run on this backend (`fathom checks up` starts them).',
    action: 'Run `fathom checks up`, or check --backend and -n.',
  },
  FATHOM_CHECKS_UP: {
    kind: 'conflict',
    summary: 'Cluster checks already run on this backend.',
    action: 'Use them as they are, or `fathom checks down` first.',
  },
  FATHOM_STORE_INVALID: {
    kind: 'input',
    summary:
      "A key, collection or value given to fathom's durable store is malformed or over its size limit.",
    action: 'Use DNS-label names and keep a stored value under 512 KiB.',
  },
  FATHOM_UPLOAD_FAILED: {
    kind: 'unavailable',
    summary: 'The worker could not deliver its result to the aggregator after retrying.',
    action:
      'Check that the aggregator runs (`fathom status`, `fathom resume`) and that the worker reaches its URL.',
  },
  FATHOM_TLS_INVALID: {
    kind: 'input',
    summary: 'A certificate or key is missing or cannot be parsed.',
    action: 'Check the named certificate or key file; restart the run if its CA is gone.',
  },
  FATHOM_RUN_EXISTS: {
    kind: 'conflict',
    summary: 'A run already exists in that namespace; delete it first.',
    action: 'Run `fathom delete -n <namespace>` first, or use another namespace.',
  },
  FATHOM_RUN_NOT_FOUND: {
    kind: 'notFound',
    summary: 'No run exists in that namespace.',
    action: 'Check -n and --backend; `fathom run` starts one.',
  },
  FATHOM_RUN_NOT_DONE: {
    kind: 'conflict',
    summary: 'The run has not produced its results tarball yet.',
    action:
      'Wait for the run (`fathom status`), or take what is in with `fathom retrieve --partial`.',
  },
  FATHOM_RUN_FAILED: {
    kind: 'failed',
    summary: 'The run completed but a plugin failed or timed out.',
    action: 'Read the failed results (`fathom results`) and the logs (`fathom logs`).',
  },
  FATHOM_TIMEOUT: {
    kind: 'timeout',
    summary: 'An operation did not finish within its --timeout.',
    action: 'Raise --timeout, or look at what is still pending.',
  },
  FATHOM_STATUS_FIELD_INVALID: {
    kind: 'input',
    summary:
      "An object's field has a type kstatus's rules cannot read; the object's status is Unknown with this message.",
    action: "Look at the object's status as its controller writes it, or add --rules for its kind.",
  },
  FATHOM_NOT_READY: {
    kind: 'failed',
    summary: '`fathom health`: some objects are not Current.',
    action: 'Look at the objects that are not Current and their messages.',
  },
  FATHOM_PROCESS_FAILED: {
    kind: 'failed',
    summary: 'A local process could not be started or stopped.',
    action: 'Check that the command exists and that the process may be signalled.',
  },
  FATHOM_KUBE_UNREACHABLE: {
    kind: 'unavailable',
    summary:
      'The Kubernetes API server did not answer: connection refused, name not found, TLS failure or --request-timeout.',
    action:
      'Check the kubeconfig context (`kubectl cluster-info`), the network and --request-timeout.',
  },
  FATHOM_KUBE_UNAUTHORIZED: {
    kind: 'notAllowed',
    summary:
      'The Kubernetes API server rejected the credentials (401): an expired or invalid token or certificate.',
    action: 'Refresh the credentials in the kubeconfig.',
  },
  FATHOM_KUBE_FORBIDDEN: {
    kind: 'notAllowed',
    summary: 'RBAC forbids the request (403); the message names the user, verb and resource.',
    action: 'Grant the named verb and resource to the named user (RBAC).',
  },
  FATHOM_KUBE_QUOTA: {
    kind: 'notAllowed',
    summary: 'A ResourceQuota refused to admit an object (403 exceeded quota).',
    action: 'Raise the ResourceQuota of the namespace, or run in another one.',
  },
  FATHOM_KUBE_CONFLICT: {
    kind: 'conflict',
    summary: 'A Kubernetes object already exists or was changed meanwhile (409).',
    action: 'Delete the existing object (`fathom delete`), or retry.',
  },
  FATHOM_KUBE_NOT_FOUND: {
    kind: 'notFound',
    summary: 'A Kubernetes object or its namespace does not exist (404).',
    action: 'Check the namespace and that the run exists.',
  },
  FATHOM_KUBE_INVALID: {
    kind: 'input',
    summary:
      'The Kubernetes API server refused an object as invalid (400, 422); the message names the field.',
    action: 'Fix the named field (often of the plugin podSpec).',
  },
  FATHOM_KUBE_API_ERROR: {
    kind: 'unavailable',
    summary: 'Any other Kubernetes API error (5xx, 429 Too Many Requests, 410 Gone...).',
    action: "Retry; if it persists, look at the API server's health.",
  },
  FATHOM_RETRIEVE_TOKEN_INVALID: {
    kind: 'notAllowed',
    summary: "The aggregator's results listener got no retrieve token or a wrong one.",
    action: "Retrieve with fathom, which reads the token from the run's Secret.",
  },
  FATHOM_CLUSTER_EXISTS: {
    kind: 'conflict',
    summary: '`fathom cluster create`: the local cluster already exists; delete it first.',
    action: 'Use the existing cluster (`fathom cluster get`), or `fathom cluster delete` first.',
  },
  FATHOM_CLUSTER_NOT_FOUND: {
    kind: 'notFound',
    summary:
      'There is no local cluster yet (`fathom cluster create`, or any `fathom run`, makes one).',
    action: 'Run `fathom cluster create`, or any `fathom run`.',
  },
  FATHOM_CLUSTER_INVALID: {
    kind: 'input',
    summary:
      'The local cluster file ($FATHOM_HOME/cluster.json) is not what fathom wrote; the message names the file and field.',
    action: 'Fix the named field, or `fathom cluster delete` and create it anew.',
  },
  FATHOM_CLUSTER_IN_USE: {
    kind: 'conflict',
    summary:
      '`fathom cluster delete`: runs still exist on the cluster; delete them or use --force.',
    action: 'Delete the runs (`fathom delete --all`), or use `fathom cluster delete --force`.',
  },
  FATHOM_CHECK_INVALID: {
    kind: 'input',
    summary:
      'A check config (a file, a ConfigMap key or a Service annotation) breaks a rule or a limit; the message names the source, line and field.',
    action:
      'Fix the named field (README: check configs); the other check configs keep loading meanwhile.',
  },
  FATHOM_SESSION_INVALID: {
    kind: 'input',
    summary:
      'A Session document breaks a rule or a limit (a field, a duplicate component name, not exactly one driver); the message names the file, line, column and field.',
    action: 'Fix the named field of the Session (README: sessions) and submit it again.',
  },
  FATHOM_SESSION_REFUSED: {
    kind: 'input',
    summary:
      'A session can never run: a component names a pool no node is in (PoolError), or the session needs more nodes of a pool than the pool has (CapacityError); the message names the pool, the nodes requested and the capacity.',
    action:
      'Label nodes into the pool (`fathom pools` shows them) or ask for fewer replicas, then submit again.',
  },
  FATHOM_SESSION_EXISTS: {
    kind: 'conflict',
    summary:
      'A session of that name is already stored (queued, running, or finished and kept until its ttl).',
    action:
      'Choose another metadata.name, or cancel the existing session and wait until its ttl has passed.',
  },
  FATHOM_SESSION_FAILED: {
    kind: 'failed',
    summary:
      '`fathom session submit --wait`: the session ended Errored or Cancelled; the message gives its reason.',
    action: 'Read its events and logs (`fathom session events NAME`, `fathom session logs NAME`).',
  },
  FATHOM_SESSION_NOT_FOUND: {
    kind: 'notFound',
    summary: 'No session of that name is stored (never submitted, or removed after its ttl).',
    action: 'Check the name with `fathom session list`.',
  },
  FATHOM_SESSION_CONFLICT: {
    kind: 'conflict',
    summary:
      "A session's stored state kept changing under another writer (another controller?) while it was being updated.",
    action: 'Make sure one session controller runs per store, then retry.',
  },
  FATHOM_SESSION_CRD_MISSING: {
    kind: 'notAllowed',
    summary:
      'The Session CustomResourceDefinition (sessions.fathom.dev) is not installed and these credentials may not install it.',
    action:
      'Apply the output of `fathom gen sessions` with `kubectl apply -f -` as a cluster admin, then retry.',
  },
  FATHOM_POOL_REFUSED: {
    kind: 'input',
    summary:
      '`fathom run --pool` names a pool no node is in, or asks (--pool-nodes) for more nodes than the pool has; the message names the pool, the nodes requested and the capacity.',
    action:
      'Label nodes into the pool (`fathom pools` shows them) or ask for fewer nodes, then run again.',
  },
  FATHOM_INTERNAL: {
    kind: 'internal',
    summary: 'A bug in fathom: please report it with the message.',
    action: 'Report a bug with the message and `fathom logs`.',
  },
} as const satisfies Record<
  `FATHOM_${string}`,
  { kind: ErrorKind; summary: string; action: string }
>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FathomErrorOptions {
  cause?: unknown;
  /** Structured facts for machine output (file, line, field, key...). */
  details?: Readonly<Record<string, unknown>>;
}

/** An error with a stable code. The message is one line meant for people. */
export class FathomError extends Error {
  // A string, not the literal: a domain's own error class names itself and keeps its code.
  override readonly name: string = 'FathomError';
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
