import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { FathomError, messageOf } from '../core/errors.js';
import { readTlsDirSync } from '../core/tls-files.js';

/** `global`: a Job plugin's one result. `single-node`: a DaemonSet pod's result for its node. */
export type WorkerMode = 'global' | 'single-node';

/** The worker's settings, read from the same environment variables Sonobuoy's worker reads. Frozen. */
export interface WorkerConfig {
  readonly mode: WorkerMode;
  /** `AGGREGATOR_URL` without a trailing slash, e.g. `https://10.0.0.5:8080`. */
  readonly aggregatorUrl: string;
  /** `NODE_NAME`; required in single-node mode, `''` when unset in global mode. */
  readonly nodeName: string;
  /** `SONOBUOY_RESULTS_DIR`, else `RESULTS_DIR`, else `/tmp/sonobuoy/results`; absolute. */
  readonly resultsDir: string;
  /** `RESULT_TYPE`: the plugin name. */
  readonly pluginName: string;
  /** As found at start: from `FATHOM_TLS_DIR` when set, else `CA_CERT`, `CLIENT_CERT`, `CLIENT_KEY`. */
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /**
   * `FATHOM_TLS_DIR`: `ca.crt`, `tls.crt` and `tls.key`, re-read on every request so that renewed
   * certificates are used. fathom's backends always set it; the env variables are Sonobuoy's way.
   */
  readonly tlsDir?: string;
  /** `SONOBUOY_PROGRESS_PORT` (0 = any free port, for tests). */
  readonly progressPort: number;
  /** `SONOBUOY_DONE_FILE_DELAY`: how long a done file must persist before it is acted on. */
  readonly doneFileDelayMs: number;
  /** `FATHOM_POLL_INTERVAL`: how often the done file is looked for. */
  readonly pollIntervalMs: number;
  /** `FATHOM_CONTAINER_CHECK_INTERVAL`: how often the no-done-file fallback looks at the other containers (Sonobuoy: 5s). */
  readonly containerCheckIntervalMs: number;
  /** `FATHOM_POD_STATUS_FILE`: JSON container states for the no-done-file fallback. */
  readonly podStatusFile?: string;
  /** `FATHOM_EXIT_CODE_VERDICT=true`: wait for the plugin to exit and send its exit code with the results dir. */
  readonly exitCodeVerdict: boolean;
  /** `SONOBUOY_WORKER_CONTAINER`: this container's name, ignored among the pod's containers. */
  readonly workerContainer: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_RESULTS_DIR = '/tmp/sonobuoy/results';
export const DEFAULT_PROGRESS_PORT = 8099;
export const DEFAULT_DONE_FILE_DELAY_MS = 5_000;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How often the no-done-file fallback looks at the other containers, as in Sonobuoy. */
export const CONTAINER_CHECK_INTERVAL_MS = 5_000;
export const DEFAULT_WORKER_CONTAINER = 'sonobuoy-worker';

// Plugin and node names end up in URLs and, on the aggregator, in paths: keep them plain.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

function invalid(variable: string, message: string, cause?: unknown): FathomError {
  return new FathomError('FATHOM_CONFIG_INVALID', `${variable}: ${message}`, {
    cause,
    details: { variable },
  });
}

function value(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

function required(env: Env, name: string, what: string): string {
  const v = value(env, name);
  if (v === undefined) throw invalid(name, `required (${what}) but not set`);
  return v;
}

function safeName(env: Env, name: string, what: string): string {
  const v = required(env, name, what).trim();
  if (!SAFE_NAME.test(v) || v.includes('..')) {
    throw invalid(name, `"${v}" is not a valid ${what} (letters, digits, '.', '_' and '-')`);
  }
  return v;
}

function aggregatorUrl(env: Env): string {
  const raw = required(env, 'AGGREGATOR_URL', 'the aggregator base URL').trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw invalid('AGGREGATOR_URL', `"${raw}" is not a URL`, cause);
  }
  if (url.protocol !== 'https:') {
    throw invalid('AGGREGATOR_URL', `"${raw}" must use https (uploads are mutual TLS)`);
  }
  if (url.search || url.hash || url.username || url.password || url.pathname !== '/') {
    // Sonobuoy replaces any path; refusing one beats silently dropping it.
    throw invalid('AGGREGATOR_URL', `"${raw}" must be just https://host[:port]`);
  }
  return url.origin;
}

function certificate(env: Env, name: string, what: string): string {
  const pem = required(env, name, `${what}, PEM`);
  try {
    new X509Certificate(pem);
  } catch (cause) {
    throw invalid(name, `not a PEM certificate (${what})`, cause);
  }
  return pem;
}

function privateKey(env: Env, name: string): string {
  const pem = required(env, name, 'the client private key, PEM');
  try {
    createPrivateKey(pem);
  } catch (cause) {
    throw invalid(name, 'not a PEM private key', cause);
  }
  return pem;
}

type Tls = Pick<WorkerConfig, 'caPem' | 'clientCertPem' | 'clientKeyPem' | 'tlsDir'>;

function tlsFromDir(dir: string): Tls {
  if (!isAbsolute(dir)) throw invalid('FATHOM_TLS_DIR', `"${dir}" must be an absolute path`);
  try {
    const tls = readTlsDirSync(dir);
    return { caPem: tls.caPem, clientCertPem: tls.certPem, clientKeyPem: tls.keyPem, tlsDir: dir };
  } catch (cause) {
    throw invalid('FATHOM_TLS_DIR', messageOf(cause), cause);
  }
}

function tlsFromEnv(env: Env): Tls {
  return {
    caPem: certificate(env, 'CA_CERT', 'the run CA certificate'),
    clientCertPem: certificate(env, 'CLIENT_CERT', 'the client certificate'),
    clientKeyPem: privateKey(env, 'CLIENT_KEY'),
  };
}

function port(env: Env): number {
  const raw = value(env, 'SONOBUOY_PROGRESS_PORT')?.trim();
  if (raw === undefined) return DEFAULT_PROGRESS_PORT;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n > 65_535) {
    throw invalid('SONOBUOY_PROGRESS_PORT', `"${raw}" is not a TCP port (0-65535)`);
  }
  return n;
}

function duration(env: Env, name: string, fallback: number, allowZero: boolean): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  let ms: number;
  try {
    ms = parseDuration(raw, name);
  } catch (cause) {
    throw invalid(name, `"${raw}" is not a duration like 500ms, 5s or 1m`, cause);
  }
  if (!allowZero && ms <= 0) throw invalid(name, `"${raw}" must be greater than zero`);
  return ms;
}

/**
 * Reads and validates the worker's environment once, as Sonobuoy's `worker global|single-node`
 * does (same variable names and defaults), plus fathom's `FATHOM_POLL_INTERVAL` and
 * `FATHOM_POD_STATUS_FILE`. Throws `FATHOM_CONFIG_INVALID` naming the variable.
 */
export function loadWorkerConfig(mode: WorkerMode, env: Env = process.env): WorkerConfig {
  const resultsDir =
    value(env, 'SONOBUOY_RESULTS_DIR') ?? value(env, 'RESULTS_DIR') ?? DEFAULT_RESULTS_DIR;
  const resultsVar = value(env, 'SONOBUOY_RESULTS_DIR') ? 'SONOBUOY_RESULTS_DIR' : 'RESULTS_DIR';
  if (!isAbsolute(resultsDir.trim())) {
    throw invalid(resultsVar, `"${resultsDir}" must be an absolute path`);
  }
  const nodeName =
    mode === 'single-node'
      ? safeName(env, 'NODE_NAME', 'node name')
      : value(env, 'NODE_NAME')
        ? safeName(env, 'NODE_NAME', 'node name')
        : '';
  const podStatusFile = value(env, 'FATHOM_POD_STATUS_FILE')?.trim();
  const tlsDir = value(env, 'FATHOM_TLS_DIR')?.trim();
  const config: WorkerConfig = {
    mode,
    aggregatorUrl: aggregatorUrl(env),
    nodeName,
    resultsDir: resolve(resultsDir.trim()),
    pluginName: safeName(env, 'RESULT_TYPE', 'plugin name'),
    ...(tlsDir ? tlsFromDir(tlsDir) : tlsFromEnv(env)),
    progressPort: port(env),
    doneFileDelayMs: duration(env, 'SONOBUOY_DONE_FILE_DELAY', DEFAULT_DONE_FILE_DELAY_MS, true),
    pollIntervalMs: duration(env, 'FATHOM_POLL_INTERVAL', DEFAULT_POLL_INTERVAL_MS, false),
    containerCheckIntervalMs: duration(
      env,
      'FATHOM_CONTAINER_CHECK_INTERVAL',
      CONTAINER_CHECK_INTERVAL_MS,
      false,
    ),
    workerContainer: value(env, 'SONOBUOY_WORKER_CONTAINER')?.trim() ?? DEFAULT_WORKER_CONTAINER,
    exitCodeVerdict: flag(env, 'FATHOM_EXIT_CODE_VERDICT'),
    ...(podStatusFile ? { podStatusFile: resolve(podStatusFile) } : {}),
  };
  return Object.freeze(config);
}

/** The aggregator path this worker PUTs its result to. */
export function resultPath(config: WorkerConfig): string {
  return config.mode === 'global'
    ? `/api/v1/results/global/${encodeURIComponent(config.pluginName)}`
    : `/api/v1/results/by-node/${encodeURIComponent(config.nodeName)}/${encodeURIComponent(config.pluginName)}`;
}

/** The aggregator path progress updates are relayed to (always slash-prefixed; see reference c.3). */
export function progressPath(config: WorkerConfig): string {
  return config.mode === 'global'
    ? `/api/v1/progress/global/${encodeURIComponent(config.pluginName)}`
    : `/api/v1/progress/by-node/${encodeURIComponent(config.nodeName)}/${encodeURIComponent(config.pluginName)}`;
}

function flag(env: Env, name: string): boolean {
  const raw = value(env, name)?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new FathomError('FATHOM_CONFIG_INVALID', `${name} must be true or false, not "${raw}"`, {
    details: { variable: name },
  });
}
