import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { FathomError, messageOf } from '../core/errors.js';
import {
  ByteLimit,
  DEFAULT_MAX_ARCHIVE_ENTRIES,
  extractUntrustedTar,
  feed,
} from '../core/untrusted-tar.js';

/**
 * Streaming writers for uploaded results. Nothing here buffers a body: bytes flow from the
 * socket to disk with backpressure, and every name that came from the network is checked
 * before it becomes part of a path.
 */

/** The name Sonobuoy stores an upload under when the sender gives none. */
export const DEFAULT_FILENAME = 'result';

function unquote(value: string): string {
  const v = value.trim();
  return v.startsWith('"') && v.endsWith('"') && v.length >= 2
    ? v.slice(1, -1).replace(/\\(.)/g, '$1')
    : v;
}

/**
 * The `filename` parameter of a `content-disposition` header (RFC 2231 `filename*` wins), or
 * `result` when there is none, as Sonobuoy's aggregator does. The name is returned unchecked.
 */
export function filenameFromContentDisposition(header: string | undefined): string {
  if (!header) return DEFAULT_FILENAME;
  const params = new Map<string, string>();
  for (const part of header.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const extended = params.get('filename*');
  if (extended !== undefined) {
    const m = /^([^']*)'[^']*'(.*)$/.exec(extended.trim());
    if (m) {
      try {
        return decodeURIComponent(m[2]!) || DEFAULT_FILENAME;
      } catch {
        // a malformed escape: fall back to the plain parameter
      }
    }
  }
  const plain = params.get('filename');
  return plain === undefined ? DEFAULT_FILENAME : unquote(plain) || DEFAULT_FILENAME;
}

function tooLarge(limit: number): FathomError {
  return new FathomError('FATHOM_RESULT_TOO_LARGE', `result is larger than ${limit} bytes`, {
    details: { limit },
  });
}

/** Throws FATHOM_RESULT_TOO_LARGE for a declared length over the limit. */
export function checkDeclaredSize(size: number | undefined, limit: number): void {
  if (size !== undefined && size > limit) throw tooLarge(limit);
}

/** How a write is watched from outside: aborted (timeouts), and told of every chunk (idle checks). */
export interface WriteControl {
  readonly signal?: AbortSignal;
  readonly onBytes?: (bytes: number) => void;
}

/** Codes an archive's own content causes; anything else is the aggregator's disk failing. */
const CONTENT_FS_ERRORS = new Set(['EEXIST', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

function badArchive(message: string, cause?: unknown): FathomError {
  return new FathomError('FATHOM_RESULT_BAD_ARCHIVE', `bad result archive: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A FathomError for any failure while storing: already-classified errors pass through. */
export function storeError(err: unknown, archive: boolean): FathomError {
  if (err instanceof FathomError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (archive && code && CONTENT_FS_ERRORS.has(code)) return badArchive(messageOf(err), err);
  if (archive && (code?.startsWith('Z_') || code?.startsWith('TAR_'))) {
    return badArchive(messageOf(err), err);
  }
  return new FathomError(
    'FATHOM_RESULT_WRITE_FAILED',
    `could not store result: ${messageOf(err)}`,
    {
      cause: err,
    },
  );
}

/** Streams `body` into the new file `path` (which must not exist), at most `limit` bytes. */
export async function writeBodyToFile(
  body: Readable,
  path: string,
  limit: number,
  control: WriteControl = {},
): Promise<void> {
  const limiter = new ByteLimit(limit, () => tooLarge(limit), control.onBytes, control.signal);
  const detach = feed(body, limiter);
  try {
    await pipeline(limiter, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    detach();
    throw storeError(err, false);
  }
}

/**
 * Un-gzips and un-tars `body` into the directory `root` (which must exist and be empty) with
 * the untrusted-archive rules of core/untrusted-tar.ts: at most `limit` compressed bytes read
 * and `limit` bytes of files written; symbolic links kept only when they point down from where
 * they sit (as Sonobuoy keeps them), so no chain of links can leave `root`. An empty archive
 * (no body at all, gzip of nothing, or only end-of-archive blocks) is a valid empty result.
 * On failure `root` may hold partial files: callers extract into a scratch directory.
 */
export async function extractTarball(
  body: Readable,
  root: string,
  limit: number,
  control: WriteControl = {},
): Promise<void> {
  try {
    await extractUntrustedTar(body, root, {
      source: 'result archive',
      gzip: true,
      maxBytes: limit,
      maxEntries: DEFAULT_MAX_ARCHIVE_ENTRIES,
      maxInputBytes: limit,
      symlinks: 'downward',
      allowEmpty: true,
      ...(control.signal ? { signal: control.signal } : {}),
      ...(control.onBytes ? { onBytes: control.onBytes } : {}),
    });
  } catch (err) {
    throw storeError(err, true);
  }
}
