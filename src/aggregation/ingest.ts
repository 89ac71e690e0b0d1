import { createWriteStream } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { FathomError, messageOf } from '../core/errors.js';

/**
 * Streaming writers for uploaded results. Nothing here buffers a body: bytes flow from the
 * socket to disk with backpressure, and every name that came from the network is checked
 * before it becomes part of a path.
 */

const MAX_SEGMENT_BYTES = 255; // NAME_MAX on the filesystems results land on
// eslint-disable-next-line no-control-regex
const UNSAFE_SEGMENT = /[/\\\u0000-\u001f\u007f]/;

/** True when `name` can be one path component: non-empty, no separators, not `.` or `..`. */
export function isSafeSegment(name: string): boolean {
  return (
    name.length > 0 &&
    name !== '.' &&
    name !== '..' &&
    !UNSAFE_SEGMENT.test(name) &&
    Buffer.byteLength(name) <= MAX_SEGMENT_BYTES
  );
}

/** Throws FATHOM_RESULT_BAD_NAME unless `name` is a safe path segment. */
export function assertSafeSegment(what: string, name: string): void {
  if (!isSafeSegment(name)) {
    throw new FathomError(
      'FATHOM_RESULT_BAD_NAME',
      `${what} name ${JSON.stringify(name)} is not a safe path segment`,
      { details: { [what]: name } },
    );
  }
}

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

/** Passes bytes through, fails once more than `limit` have gone by, and fails when aborted. */
class ByteLimit extends Transform {
  #seen = 0;
  readonly #onBytes: ((bytes: number) => void) | undefined;
  constructor(
    readonly limit: number,
    control: WriteControl,
  ) {
    super();
    this.#onBytes = control.onBytes;
    const { signal } = control;
    if (signal?.aborted) queueMicrotask(() => this.destroy(abortError(signal)));
    signal?.addEventListener('abort', () => this.destroy(abortError(signal)), { once: true });
  }
  get seen(): number {
    return this.#seen;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    this.#onBytes?.(chunk.length);
    if (this.#seen > this.limit) cb(tooLarge(this.limit));
    else cb(null, chunk);
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
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

/**
 * Feeds `body` into `first` without ever destroying `body`: on failure it is only unpiped, so
 * an HTTP server can still answer on the request's socket. Returns the detach function.
 */
function feed(body: Readable, first: Writable): () => void {
  body.pipe(first);
  finished(body, { writable: false }).catch((err: unknown) => {
    first.destroy(err instanceof Error ? err : new Error(messageOf(err)));
  });
  return () => body.unpipe(first);
}

/** Streams `body` into the new file `path` (which must not exist), at most `limit` bytes. */
export async function writeBodyToFile(
  body: Readable,
  path: string,
  limit: number,
  control: WriteControl = {},
): Promise<void> {
  const limiter = new ByteLimit(limit, control);
  const detach = feed(body, limiter);
  try {
    await pipeline(limiter, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    detach();
    throw storeError(err, false);
  }
}

/**
 * Un-gzips and un-tars `body` into the directory `root` (which must exist and be empty). At most
 * `limit` compressed bytes are read and at most `limit` bytes of files written. Rejects `..`,
 * absolute names, hard links, devices, FIFOs, and symbolic links that are absolute or hold `..`
 * (a link may only point down from where it sits, so no chain of links can leave `root`).
 * An empty archive (no body at all, gzip of nothing, or only end-of-archive blocks) is a valid
 * empty result and leaves `root` empty.
 * On failure `root` may hold partial files: callers extract into a scratch directory.
 */
export async function extractTarball(
  body: Readable,
  root: string,
  limit: number,
  control: WriteControl = {},
): Promise<void> {
  const limiter = new ByteLimit(limit, control);
  const extractor = new TarExtractor(root, limit);
  const detach = feed(body, limiter);
  try {
    await pipeline(limiter, createGunzip(), extractor);
  } catch (err) {
    detach();
    extractor.destroy();
    await extractor.settled;
    // A zero-length body is no gzip stream at all, but it holds no files either.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'Z_BUF_ERROR' && limiter.seen === 0 && !extractor.failure) return;
    throw storeError(extractor.failure ?? err, true);
  }
  await extractor.settled;
  if (extractor.failure) throw storeError(extractor.failure, true);
}

/** Splits an entry name into safe components, or throws; `[]` means the root itself (`./`). */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw badArchive(`entry name ${JSON.stringify(name)} holds NUL`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw badArchive(`entry ${JSON.stringify(name)} is an absolute path`);
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw badArchive(`entry ${JSON.stringify(name)} leaves the results directory`);
  return parts;
}

function checkLinkTarget(name: string, target: string): void {
  const parts = target.split('/');
  if (target === '' || target.startsWith('/') || target.includes('\0') || parts.includes('..')) {
    throw badArchive(
      `symbolic link ${JSON.stringify(name)} -> ${JSON.stringify(target)} may point outside the results directory`,
    );
  }
}

type Callback = (err?: Error | null) => void;

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * A Writable that unpacks a plain tar stream. Entries arrive one at a time from tar's Parser;
 * their disk work runs strictly in order on a promise chain, and the parser is held back
 * (backpressure) while the current file is written.
 */
class TarExtractor extends Writable {
  readonly #root: string;
  readonly #limit: number;
  readonly #parser: Parser;
  readonly #symlinks = new Set<string>();
  #written = 0;
  /** Only zero bytes so far: no entry, at most end-of-archive blocks. */
  #allZero = true;
  #chain: Promise<void> = Promise.resolve();
  #active: Writable | undefined;
  #pending: Callback | undefined;
  failure: FathomError | undefined;

  constructor(root: string, limit: number) {
    super();
    this.#root = root;
    this.#limit = limit;
    this.#parser = new Parser({ strict: true, onReadEntry: (e) => this.#onEntry(e) });
    this.#parser.on('error', (err: Error & { code?: string }) => {
      // tar refuses an archive without entries; Sonobuoy (Go's archive/tar) reads it as empty.
      if (this.#allZero && err.code === 'TAR_BAD_ARCHIVE') return;
      this.#fail(badArchive(err.message, err));
    });
  }

  /** Resolves once no disk work is running any more (after success or failure). */
  get settled(): Promise<void> {
    return this.#chain;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: Callback): void {
    if (this.failure) return cb(this.failure);
    if (this.#allZero && chunk.some((b) => b !== 0)) this.#allZero = false;
    this.#pending = cb;
    const ok = this.#parser.write(chunk);
    if (this.#pending !== cb) return; // a failure already answered
    if (ok) this.#release();
    else this.#parser.once('drain', () => this.#release());
  }

  override _final(cb: Callback): void {
    if (this.failure) return cb(this.failure);
    this.#pending = cb;
    this.#parser.once('end', () => void this.#chain.then(() => this.#release()));
    this.#parser.end();
  }

  override _destroy(err: Error | null, cb: Callback): void {
    this.#active?.destroy();
    cb(err);
  }

  /** Answers the write or final callback that is waiting, if any. */
  #release(): void {
    const cb = this.#pending;
    this.#pending = undefined;
    cb?.(this.failure);
  }

  #fail(err: FathomError): void {
    if (this.failure) return;
    this.failure = err;
    this.#active?.destroy();
    if (this.#pending) this.#release();
    else this.destroy(err);
  }

  /** Queues disk work behind earlier entries; any failure stops the extraction. */
  #then(work: () => Promise<void>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.failure) return;
      try {
        await work();
      } catch (err) {
        this.#fail(storeError(err, true));
      }
    });
  }

  #onEntry(entry: ReadEntry): void {
    try {
      this.#accept(entry);
    } catch (err) {
      entry.resume();
      this.#fail(storeError(err, true));
    }
  }

  #accept(entry: ReadEntry): void {
    if (this.failure) {
      entry.resume();
      return;
    }
    const parts = entryComponents(entry.path);
    const rel = parts.join('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.#symlinks.has(prefix)) {
        throw badArchive(
          `entry ${JSON.stringify(entry.path)} goes through symbolic link ${prefix}`,
        );
      }
    }
    const target = join(this.#root, ...parts);
    if (entry.type === 'Directory') {
      entry.resume();
      if (parts.length) this.#then(() => mkdir(target, { recursive: true, mode: 0o755 }).then());
    } else if (FILE_TYPES.has(entry.type)) {
      if (!parts.length) throw badArchive('a file entry names the results directory itself');
      this.#written += entry.size;
      if (this.#written > this.#limit) throw tooLarge(this.#limit);
      this.#then(async () => {
        await mkdir(dirname(target), { recursive: true, mode: 0o755 });
        const out = createWriteStream(target, { mode: 0o644 });
        this.#active = out;
        entry.pipe(out);
        await finished(out);
        this.#active = undefined;
      });
    } else if (entry.type === 'SymbolicLink') {
      if (!parts.length) throw badArchive('a link entry names the results directory itself');
      checkLinkTarget(entry.path, entry.linkpath ?? '');
      this.#symlinks.add(rel);
      entry.resume();
      const linkTarget = entry.linkpath!;
      this.#then(async () => {
        await mkdir(dirname(target), { recursive: true, mode: 0o755 });
        await symlink(linkTarget, target);
      });
    } else {
      throw badArchive(`entry ${JSON.stringify(entry.path)} has unsupported type ${entry.type}`);
    }
  }
}
