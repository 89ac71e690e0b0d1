/**
 * Tarballs from elsewhere (a worker's upload, a results tarball from another machine) read
 * once, the same way everywhere: a strict parse with the `tar` package, every entry checked
 * before anyone sees it (no `..`, no absolute paths, no devices, FIFOs or hard links; symbolic
 * links only when asked for and only pointing down), bounded entry count, file bytes and
 * decompressed bytes (a gzip bomb stops), and one error vocabulary. `walkUntrustedTar` hands
 * the checked entries to a visitor one at a time; `extractUntrustedTar` writes them to disk.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { FathomError, messageOf } from './errors.js';

export const DEFAULT_MAX_ARCHIVE_BYTES = 8 * 1024 ** 3;
export const DEFAULT_MAX_ARCHIVE_ENTRIES = 200_000;

export interface UntrustedTarOptions {
  /** Names the archive in every error: its file, or what it is. */
  readonly source: string;
  readonly gzip: boolean;
  /** Sum of the files' sizes. */
  readonly maxBytes: number;
  /** Files plus directories. */
  readonly maxEntries: number;
  /** Bytes read from the input as it comes (compressed); unbounded when absent. */
  readonly maxInputBytes?: number;
  /** `downward`: symbolic links that point below where they sit are kept. Default `refuse`. */
  readonly symlinks?: 'refuse' | 'downward';
  /** No entries at all (no bytes, gzip of nothing, end blocks only) is an empty archive, not corrupt. */
  readonly allowEmpty?: boolean;
  /** Stops the read (timeouts). */
  readonly signal?: AbortSignal;
  /** Told of every input chunk (idle checks). */
  readonly onBytes?: (bytes: number) => void;
}

export type UntrustedEntryType = 'File' | 'Directory' | 'SymbolicLink';

/** An entry that passed the checks. */
export interface UntrustedEntry {
  /** The name as the archive wrote it, for messages. */
  readonly name: string;
  /** The safe relative path, `''` for the archive root (`./`). */
  readonly rel: string;
  readonly type: UntrustedEntryType;
  readonly size: number;
  /** A symbolic link's target, checked to point down. */
  readonly linkpath?: string;
  /** A file's bytes; whatever the visitor leaves unread is skipped. */
  readonly body: ReadEntry;
}

/** Called once per entry, in order; the next entry waits until the returned promise settles. */
export type UntrustedEntryVisitor = (entry: UntrustedEntry) => Promise<void> | void;

function where(entry: string | undefined): string {
  return entry === undefined ? '' : ` (entry "${entry}")`;
}

/** FATHOM_RESULT_BAD_ARCHIVE for `source`, naming the entry when there is one. */
export function badArchive(
  source: string,
  message: string,
  entry?: string,
  cause?: unknown,
): FathomError {
  return new FathomError('FATHOM_RESULT_BAD_ARCHIVE', `${source}: ${message}${where(entry)}`, {
    ...(cause === undefined ? {} : { cause }),
    details: entry === undefined ? { file: source } : { file: source, entry },
  });
}

function tooLarge(source: string, message: string, details: Record<string, unknown>): FathomError {
  return new FathomError('FATHOM_RESULT_TOO_LARGE', `${source}: ${message}`, {
    details: { file: source, ...details },
  });
}

/**
 * The safe relative path of an entry, or `undefined` for the archive root (`./`).
 * Throws on anything that could land outside the destination.
 */
export function safeEntryPath(raw: string): string | undefined {
  if (raw.includes('\0')) throw new Error('NUL byte in path');
  if (raw.includes('\\')) throw new Error('backslash in path');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new Error('absolute path');
  const parts = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new Error('path escapes with ".."');
  return parts.length === 0 ? undefined : parts.join('/');
}

/** True when the file starts with gzip's magic bytes; a missing file is FATHOM_RESULTS_NOT_FOUND. */
export async function isGzip(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${file}: no such file or directory`, {
        cause: err,
        details: { path: file },
      });
    }
    throw err;
  }
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Passes bytes through and fails once more than `limit` have gone by, or when aborted. */
export class ByteLimit extends Transform {
  #seen = 0;
  constructor(
    readonly limit: number,
    private readonly fail: () => Error,
    private readonly onBytes?: (bytes: number) => void,
    signal?: AbortSignal,
  ) {
    super();
    const abort = (): void => {
      this.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal?.aborted) queueMicrotask(abort);
    signal?.addEventListener('abort', abort, { once: true });
  }
  get seen(): number {
    return this.#seen;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    this.onBytes?.(chunk.length);
    if (this.#seen > this.limit) cb(this.fail());
    else cb(null, chunk);
  }
}

/**
 * Feeds `body` into `first` without ever destroying `body`: on failure it is only unpiped, so
 * an HTTP server can still answer on the request's socket. Returns the detach function.
 */
export function feed(body: Readable, first: Writable): () => void {
  body.pipe(first);
  finished(body, { writable: false }).catch((err: unknown) => {
    first.destroy(err instanceof Error ? err : new Error(messageOf(err)));
  });
  return () => body.unpipe(first);
}

type Callback = (err?: Error | null) => void;
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * A Writable that parses a plain tar stream and hands checked entries to the visitor, strictly
 * in order; the parser is held back (backpressure) while a visit runs.
 */
class Walker extends Writable {
  readonly #parser: Parser;
  readonly #symlinks = new Set<string>();
  #entries = 0;
  #bytes = 0;
  /** Only zero bytes so far: no entry, at most end-of-archive blocks. */
  #allZero = true;
  #sawEof = false;
  #chain: Promise<void> = Promise.resolve();
  #pending: Callback | undefined;
  /** The entry being visited, so that a failure can end it and let the visit return. */
  #current: ReadEntry | undefined;
  failure: Error | undefined;

  constructor(
    private readonly options: UntrustedTarOptions,
    private readonly visit: UntrustedEntryVisitor,
  ) {
    super();
    this.#parser = new Parser({ strict: true, onReadEntry: (e) => this.#onEntry(e) });
    this.#parser.on('error', (err: Error & { code?: string }) => {
      if (this.options.allowEmpty && this.#allZero && err.code === 'TAR_BAD_ARCHIVE') return;
      this.#fail(
        badArchive(this.options.source, `corrupt archive: ${err.message}`, undefined, err),
      );
    });
    this.#parser.on('eof', () => (this.#sawEof = true));
    this.#parser.on('ignoredEntry', (e: ReadEntry) =>
      this.#fail(badArchive(this.options.source, `unsupported entry type ${e.type}`, e.path)),
    );
  }

  /** Resolves once no visit is running any more (after success or failure). */
  get settled(): Promise<void> {
    return this.#chain;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: Callback): void {
    if (this.failure) return cb(this.failure);
    // Zeros after the end-of-archive marker are padding: not parsed, still counted upstream.
    if (this.#sawEof) return cb();
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
    // The pipeline failed elsewhere (gunzip, the input): let a running visit return.
    if (err) this.#current?.end();
    cb(err);
  }

  #release(): void {
    const cb = this.#pending;
    this.#pending = undefined;
    cb?.(this.failure);
  }

  #fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.#current?.end();
    if (this.#pending) this.#release();
    else this.destroy(err);
  }

  #onEntry(entry: ReadEntry): void {
    if (this.failure) return void entry.resume();
    let checked: UntrustedEntry;
    try {
      checked = this.#check(entry);
    } catch (err) {
      entry.resume();
      return this.#fail(err as Error);
    }
    this.#chain = this.#chain.then(async () => {
      if (this.failure) return void entry.resume();
      this.#current = entry;
      try {
        await this.visit(checked);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(messageOf(err)));
      }
      this.#current = undefined;
      entry.resume();
    });
  }

  #check(entry: ReadEntry): UntrustedEntry {
    const { source, maxEntries, maxBytes } = this.options;
    const name = entry.path;
    const link = entry.type === 'SymbolicLink' && this.options.symlinks === 'downward';
    if (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory' && !link) {
      const what = /Link/.test(entry.type)
        ? 'links are not allowed'
        : 'only files and directories are allowed';
      throw badArchive(source, `${entry.type}: ${what}`, name);
    }
    let rel: string | undefined;
    try {
      rel = safeEntryPath(name);
    } catch (err) {
      throw badArchive(source, `unsafe path: ${(err as Error).message}`, name);
    }
    if (++this.#entries > maxEntries) {
      throw tooLarge(source, `more than ${maxEntries} entries${where(name)}`, {
        entry: name,
        maxEntries,
      });
    }
    const parts = rel === undefined ? [] : rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.#symlinks.has(prefix)) {
        throw badArchive(source, `goes through symbolic link ${prefix}`, name);
      }
    }
    const type: UntrustedEntryType =
      entry.type === 'Directory' ? 'Directory' : link ? 'SymbolicLink' : 'File';
    if (type !== 'Directory' && rel === undefined) {
      throw badArchive(source, 'an entry that is not a directory names the root', name);
    }
    if (type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target === '' || target.startsWith('/') || target.split('/').includes('..')) {
        throw badArchive(
          source,
          `symbolic link to ${JSON.stringify(target)} may point outside`,
          name,
        );
      }
      this.#symlinks.add(rel!);
      return { name, rel: rel!, type, size: 0, linkpath: target, body: entry };
    }
    if (type === 'File') {
      this.#bytes += entry.size;
      if (this.#bytes > maxBytes) {
        throw tooLarge(source, `contents exceed ${maxBytes} bytes${where(name)}`, {
          entry: name,
          maxBytes,
        });
      }
    }
    return { name, rel: rel ?? '', type, size: type === 'File' ? entry.size : 0, body: entry };
  }
}

/**
 * Reads the tar (gzipped when `options.gzip`) in `input` and calls `visit` for every checked
 * entry. Never destroys `input` (an HTTP server can still answer on its socket). Throws
 * FATHOM_RESULT_BAD_ARCHIVE or FATHOM_RESULT_TOO_LARGE, a visitor's own error as it is, or the
 * input's error.
 */
export async function walkUntrustedTar(
  input: Readable,
  options: UntrustedTarOptions,
  visit: UntrustedEntryVisitor,
): Promise<void> {
  const { source, maxBytes, maxEntries } = options;
  const inputLimit = new ByteLimit(
    options.maxInputBytes ?? Infinity,
    () =>
      tooLarge(source, `is larger than ${options.maxInputBytes} bytes`, {
        limit: options.maxInputBytes,
      }),
    options.onBytes,
    options.signal,
  );
  // Headers, padding and zeros after the end are bounded too: a gzip bomb stops here.
  const maxStream = maxBytes + (maxEntries + 4) * 1536 + 16 * 1024 * 1024;
  const streamLimit = new ByteLimit(maxStream, () =>
    tooLarge(source, `decompresses to more than ${maxStream} bytes`, { maxBytes }),
  );
  const walker = new Walker(options, visit);
  const detach = feed(input, inputLimit);
  try {
    if (options.gzip) await pipeline(inputLimit, createGunzip(), streamLimit, walker);
    else await pipeline(inputLimit, streamLimit, walker);
  } catch (err) {
    detach();
    await walker.settled;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    // A zero-length body is no gzip stream at all, but it holds no entries either.
    if (options.allowEmpty && code === 'Z_BUF_ERROR' && inputLimit.seen === 0 && !walker.failure)
      return;
    const failure = walker.failure ?? err;
    if (failure instanceof FathomError) throw failure;
    if (code?.startsWith('Z_') || code?.startsWith('TAR_')) {
      throw badArchive(source, `corrupt archive: ${messageOf(err)}`, undefined, err);
    }
    throw failure;
  }
  await walker.settled;
  if (walker.failure) throw walker.failure;
}

/** Codes an archive's own content causes on disk; anything else is the disk failing. */
const CONTENT_FS_ERRORS = new Set(['EEXIST', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

/**
 * `walkUntrustedTar` into the directory `root` (which must exist): directories 0755, files
 * 0644, symbolic links as checked. A file system error the archive causes (a file where a
 * directory is, a name too long) is FATHOM_RESULT_BAD_ARCHIVE; any other is thrown as it is.
 * On failure `root` may hold partial files: callers extract into a scratch directory.
 */
export async function extractUntrustedTar(
  input: Readable,
  root: string,
  options: UntrustedTarOptions,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  await walkUntrustedTar(input, options, async (entry) => {
    if (entry.rel === '') return;
    const target = join(root, ...entry.rel.split('/'));
    try {
      if (entry.type === 'Directory') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        return;
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      if (entry.type === 'SymbolicLink') {
        await symlink(entry.linkpath!, target);
        return;
      }
      const out = createWriteStream(target, { mode: 0o644 });
      entry.body.pipe(out);
      await finished(out);
      files++;
      bytes += entry.size;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code && CONTENT_FS_ERRORS.has(code)) {
        throw badArchive(options.source, `cannot write: ${messageOf(err)}`, entry.name, err);
      }
      throw err;
    }
  });
  return { files, bytes };
}
