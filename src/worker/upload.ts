import type { OutgoingHttpHeaders } from 'node:http';
import { basename, extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import { FathomError, messageOf } from '../core/errors.js';
import type { WorkerLogger } from './logger.js';
import type { MtlsClient, MtlsResponse } from '../core/mtls-client.js';

/**
 * Content types as Go's `mime.TypeByExtension` gives them to Sonobuoy's worker on a Debian
 * image: Go's built-in table wins over the system globs, and the worker forces `.gz`.
 * Only types a result file plausibly has are listed; anything else is sent without one.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.gz': 'application/gzip',
  '.json': 'application/json',
  '.xml': 'text/xml; charset=utf-8',
  '.xsl': 'text/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.text': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  // Not in Go's table: from shared-mime-info's globs2, which Go reads first on Debian.
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.tar': 'application/x-tar',
  '.tgz': 'application/x-compressed-tar',
  '.log': 'text/x-log; charset=utf-8',
};

/** The content type Sonobuoy's worker would send for `file`, or undefined for none. Only `application/gzip` is unpacked by the aggregator. */
export function contentTypeFor(file: string): string | undefined {
  return CONTENT_TYPES[extname(file).toLowerCase()];
}

/** `attachment;filename=<basename>`, or bare `attachment` when the name cannot travel in a header. */
export function contentDispositionFor(file: string | undefined): string {
  const name = file === undefined ? '' : basename(file);
  return /^[\x21-\x7e][\x20-\x7e]*$/.test(name) && !name.includes(';')
    ? `attachment;filename=${name}`
    : 'attachment';
}

/** Exponential backoff for transient failures (connection errors, 408 and 5xx). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * 1 s, 2 s, 4 s, 8 s, 16 s, then every 30 s: 25 attempts over about ten minutes, long enough
 * for a crashed aggregator to be restarted (by `fathom status`, or by its pod) and resume.
 */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 25,
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
});

/** The delay before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
}

/** What to PUT. `open` is called once per attempt so a file is streamed afresh each time. */
export interface UploadBody {
  open(): Readable | Buffer;
  /** Sent as content-length when known. */
  readonly size?: number;
  readonly contentType?: string;
  /** `content-disposition` value. */
  readonly disposition?: string;
}

export interface UploadResult {
  /** `accepted`: 2xx. `already-received`: 409, which Sonobuoy's worker also treats as success. */
  readonly status: 'accepted' | 'already-received';
  readonly attempts: number;
  readonly httpStatus: number;
}

export interface UploadDeps {
  clock: Clock;
  signal?: AbortSignal;
  logger: WorkerLogger;
}

function failed(message: string, details: Record<string, unknown>, cause?: unknown): FathomError {
  return new FathomError('FATHOM_UPLOAD_FAILED', message, { cause, details });
}

function bodyText(res: MtlsResponse): string {
  return res.body.toString('utf8').trim().slice(0, 500);
}

/**
 * PUTs a body to the aggregator with retries. 2xx and 409 succeed; any other 4xx fails at
 * once; connection errors, 408 and 5xx are retried with backoff through the clock. Throws
 * `FATHOM_UPLOAD_FAILED`, or the signal's reason when aborted.
 */
export async function putWithRetry(
  client: MtlsClient,
  path: string,
  body: UploadBody,
  deps: UploadDeps,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<UploadResult> {
  const url = new URL(path, client.baseUrl).toString();
  const headers: OutgoingHttpHeaders = {};
  if (body.contentType) headers['content-type'] = body.contentType;
  if (body.disposition) headers['content-disposition'] = body.disposition;
  if (body.size !== undefined) headers['content-length'] = body.size;

  let lastProblem = '';
  let lastCause: unknown;
  for (let attempt = 1; ; attempt++) {
    deps.signal?.throwIfAborted();
    let res: MtlsResponse | undefined;
    try {
      res = await client.request({
        method: 'PUT',
        path,
        headers,
        body: body.open(),
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
    } catch (err) {
      deps.signal?.throwIfAborted();
      lastProblem = messageOf(err);
      lastCause = err;
    }
    if (res) {
      if (res.status >= 200 && res.status < 300) {
        return { status: 'accepted', attempts: attempt, httpStatus: res.status };
      }
      if (res.status === 409) {
        deps.logger.warn(
          { url, status: 409, body: bodyText(res) },
          'aggregator already has this result; treating the upload as done',
        );
        return { status: 'already-received', attempts: attempt, httpStatus: 409 };
      }
      // 408: the aggregator cut off an upload that stalled; sending it again may well work.
      if (res.status < 500 && res.status !== 408) {
        throw failed(`aggregator refused ${url}: HTTP ${res.status} ${bodyText(res)}`.trim(), {
          url,
          status: res.status,
          attempts: attempt,
        });
      }
      lastProblem = `HTTP ${res.status} ${bodyText(res)}`.trim();
      lastCause = undefined;
    }
    if (attempt >= policy.maxAttempts) break;
    const delay = backoffDelay(policy, attempt);
    deps.logger.warn(
      { url, attempt, retryInMs: delay, problem: lastProblem },
      'upload failed; retrying',
    );
    await deps.clock.sleep(delay, deps.signal);
  }
  throw failed(
    `could not upload to ${url} after ${policy.maxAttempts} attempts: ${lastProblem}`,
    { url, attempts: policy.maxAttempts },
    lastCause,
  );
}
