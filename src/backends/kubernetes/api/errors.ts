/**
 * The one place where Kubernetes API failures become FathomErrors. Every caller names what it
 * was doing (`creating Pod fathom/fathom-aggregator`); the message keeps the API's own reason
 * and message on one line, so a user sees which object failed and why.
 */
import { FathomError, isFathomError, messageOf, type ErrorCode } from '../../../core/errors.js';

/** A `meta/v1` Status, as the API server sends with every error. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * An HTTP error answer from the API server: its status code and the Status body when it sent
 * one. Its code is the catalogue's for that status; `apiError` adds what was being done.
 */
export class KubeApiError extends FathomError {
  override readonly name = 'KubeApiError';
  constructor(
    readonly statusCode: number,
    readonly status: KubeStatus | undefined,
    readonly text: string,
    /** The Retry-After header of a 429 or 503, in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    const message = status?.message ?? (text.trim() || `HTTP ${statusCode}`);
    super(codeForHttp({ code: statusCode, reason: status?.reason ?? '', message }), message, {
      details: { status: statusCode },
    });
  }
}

/** A Retry-After header given in seconds (the API server never sends a date). */
export function retryAfterHeader(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

/** Parses an error body: a Status object, or undefined for anything else. */
export function parseStatus(text: string): KubeStatus | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

/** Node and fetch error codes that mean the server was never reached or stopped answering. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const tlsCodes = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_SSL_)/;

const reasonByStatus: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

interface HttpFacts {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
}

/** Status code, reason and message from any of the shapes the client and the API produce. */
function httpFacts(err: unknown): HttpFacts | undefined {
  if (err instanceof KubeApiError) {
    return {
      code: err.statusCode,
      reason: err.status?.reason ?? reasonByStatus[err.statusCode] ?? `HTTP ${err.statusCode}`,
      message: err.status?.message ?? oneLine(err.text).slice(0, 300),
    };
  }
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as Record<string, unknown>;
  // A Status object itself (a watch ERROR event), or client-node's ApiException (`code`, `body`),
  // or its Watch error (`statusCode`, message = the HTTP status text).
  const code =
    typeof e.statusCode === 'number'
      ? e.statusCode
      : typeof e.code === 'number'
        ? e.code
        : undefined;
  if (code === undefined || code < 400) return undefined;
  const body =
    e.kind === 'Status'
      ? (e as KubeStatus)
      : typeof e.body === 'string'
        ? parseStatus(e.body)
        : e.body && typeof e.body === 'object'
          ? (e.body as KubeStatus)
          : undefined;
  const fallback = e.kind === 'Status' ? '' : err instanceof Error ? err.message : '';
  return {
    code,
    reason: body?.reason ?? reasonByStatus[code] ?? `HTTP ${code}`,
    message: body?.message ?? (fallback.startsWith('HTTP-Code:') ? '' : oneLine(fallback)),
  };
}

function codeForHttp(f: HttpFacts): ErrorCode {
  if (f.code === 401) return 'FATHOM_KUBE_UNAUTHORIZED';
  if (f.code === 403)
    return /exceeded quota/i.test(f.message) ? 'FATHOM_KUBE_QUOTA' : 'FATHOM_KUBE_FORBIDDEN';
  if (f.code === 404) return 'FATHOM_KUBE_NOT_FOUND';
  if (f.code === 409) return 'FATHOM_KUBE_CONFLICT';
  if (f.code === 400 || f.code === 422) return 'FATHOM_KUBE_INVALID';
  return 'FATHOM_KUBE_API_ERROR';
}

/** The error code of a Node or fetch error (`ECONNREFUSED`, `CERT_HAS_EXPIRED`...), also through `cause`. */
function systemCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || (err as { type?: unknown } | null)?.type === 'request-timeout';
}

/**
 * Maps any failure of a Kubernetes API call to a FathomError whose one-line message is
 * `<what>: <Reason>: <the API's message>`. `what` names the object and the action
 * (`creating Role fathom/fathom-aggregator`). FathomErrors pass through unchanged.
 */
export function apiError(err: unknown, what: string): FathomError {
  if (isFathomError(err) && !(err instanceof KubeApiError)) return err;
  const http = httpFacts(err);
  if (http) {
    const message = http.message ? `${http.reason}: ${oneLine(http.message)}` : http.reason;
    return new FathomError(codeForHttp(http), `${what}: ${message}`, {
      cause: err,
      details: { object: what, status: http.code, reason: http.reason },
    });
  }
  if (isTimeout(err)) {
    return new FathomError(
      'FATHOM_KUBE_UNREACHABLE',
      `${what}: the API server did not answer within --request-timeout`,
      { cause: err, details: { object: what, reason: 'Timeout' } },
    );
  }
  const code = systemCode(err);
  if (code && (networkCodes.has(code) || tlsCodes.test(code))) {
    const why = tlsCodes.test(code) ? 'TLS' : 'cannot reach the API server';
    return new FathomError(
      'FATHOM_KUBE_UNREACHABLE',
      `${what}: ${why}: ${oneLine(messageOf(err))}`,
      {
        cause: err,
        details: { object: what, reason: code },
      },
    );
  }
  return new FathomError('FATHOM_KUBE_API_ERROR', `${what}: ${oneLine(messageOf(err))}`, {
    cause: err,
    details: { object: what },
  });
}

/** True for errors that retrying cannot fix (bad credentials, RBAC, invalid objects). */
export function isPermanent(err: FathomError): boolean {
  return (
    err.code === 'FATHOM_KUBE_UNAUTHORIZED' ||
    err.code === 'FATHOM_KUBE_FORBIDDEN' ||
    err.code === 'FATHOM_KUBE_INVALID' ||
    err.code === 'FATHOM_KUBE_NOT_FOUND' ||
    err.code === 'FATHOM_CONFIG_INVALID'
  );
}
