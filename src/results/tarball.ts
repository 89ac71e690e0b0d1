/**
 * The results tarball: writing it (deterministic, streaming) and reading it back safely.
 * Tarballs come from plugins and from other machines, so extraction treats every entry as
 * hostile: only plain files and directories, no `..`, no absolute paths, bounded size and count.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { create as tarCreate, Parser, type ReadEntry } from 'tar';
import { FathomError } from '../core/errors.js';
import { isGzip, safeEntryPath } from './tarpath.js';

export { safeEntryPath };

/** `<YYYYMMDDHHMM>_sonobuoy_<uuid>.tar.gz`, the time in UTC (Go layout `200601021504`). */
export function tarballName(date: Date, uuid: string): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp =
    String(date.getUTCFullYear()).padStart(4, '0') +
    p(date.getUTCMonth() + 1) +
    p(date.getUTCDate()) +
    p(date.getUTCHours()) +
    p(date.getUTCMinutes());
  return `${stamp}_sonobuoy_${uuid}.tar.gz`;
}

/** Relative paths of every directory and regular file under `dir`, parents first, names sorted. */
async function listTree(dir: string, skip: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (skip.has(resolve(dir, child))) continue;
      // Symlinks, sockets and devices are left out: the tarball holds regular files only.
      if (e.isDirectory()) {
        out.push(child);
        await walk(child);
      } else if (e.isFile()) {
        out.push(child);
      }
    }
  };
  await walk('');
  return out;
}

/**
 * Writes a gzip tar of `sourceDir` to `destFile`: entry names relative (no `./`), directories
 * included, regular files only, in sorted order, without owner ids (portable). Streams, and
 * hashes while writing; the file appears under its name only once complete.
 */
export async function writeResultsTarball(
  sourceDir: string,
  destFile: string,
): Promise<{ sha256: string; size: number }> {
  const dest = resolve(destFile);
  const partial = `${dest}.partial-${process.pid}`;
  const list = await listTree(sourceDir, new Set([dest, partial]));
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const pack = tarCreate(
    { gzip: true, cwd: sourceDir, portable: true, noDirRecurse: true, strict: true },
    list,
  );
  try {
    await pipeline(pack, tap, createWriteStream(partial));
    await rename(partial, dest);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Bounds for extracting an untrusted tarball. */
export interface ExtractLimits {
  /** Sum of file sizes (default 8 GiB). */
  maxBytes?: number;
  /** Files plus directories (default 200,000). */
  maxEntries?: number;
}

const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;
const DEFAULT_MAX_ENTRIES = 200_000;

function badArchive(
  tarball: string,
  message: string,
  entry?: string,
  cause?: unknown,
): FathomError {
  const where = entry === undefined ? '' : ` (entry "${entry}")`;
  return new FathomError('FATHOM_RESULT_BAD_ARCHIVE', `${tarball}: ${message}${where}`, {
    cause,
    details: entry === undefined ? { file: tarball } : { file: tarball, entry },
  });
}

const allowedTypes = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

/**
 * Extracts a tarball (gzip or plain tar) from an untrusted source into `destDir`, streaming.
 * Rejects `..`, absolute paths, links, devices and FIFOs, corrupt or truncated archives,
 * and archives over the limits, with a FathomError naming the entry; files get mode 0644.
 */
export async function extractResults(
  tarball: string,
  destDir: string,
  limits: ExtractLimits = {},
): Promise<{ files: number; bytes: number }> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  // Bound what is decompressed too (headers, padding, zeros after the end): a gzip bomb stops here.
  const maxStream = maxBytes + (maxEntries + 4) * 1536 + 16 * 1024 * 1024;
  const root = resolve(destDir);
  mkdirSync(root, { recursive: true });

  let entries = 0;
  let files = 0;
  let bytes = 0;
  let sawEof = false;
  const writes: Promise<void>[] = [];
  const parser = new Parser({ strict: true });
  // The parser is an EventEmitter, not a Node stream: adapt it so pipeline() handles backpressure and errors.
  const sink: Writable = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (sawEof || parser.write(chunk)) return cb();
      parser.once('drain', () => cb());
    },
    final(cb) {
      parser.once('end', () => {
        Promise.all(writes).then(() => cb(), cb);
      });
      parser.end();
    },
  });
  const fail = (err: unknown): void => {
    if (!sink.destroyed) sink.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  parser.on('error', (err: Error) =>
    fail(err instanceof FathomError ? err : badArchive(tarball, `corrupt archive: ${err.message}`)),
  );
  parser.on('eof', () => (sawEof = true));
  parser.on('ignoredEntry', (entry: ReadEntry) =>
    fail(badArchive(tarball, `unsupported entry type ${entry.type}`, entry.path)),
  );
  parser.on('entry', (entry: ReadEntry) => {
    if (sink.destroyed) return void entry.resume();
    try {
      writes.push(takeEntry(entry));
    } catch (err) {
      entry.resume();
      fail(err);
    }
  });

  const takeEntry = (entry: ReadEntry): Promise<void> => {
    const name = entry.path;
    if (!allowedTypes.has(entry.type)) {
      const what = /Link/.test(entry.type)
        ? 'links are not allowed'
        : 'only files and directories are allowed';
      throw badArchive(tarball, `${entry.type}: ${what}`, name);
    }
    let rel: string | undefined;
    try {
      rel = safeEntryPath(name);
    } catch (err) {
      throw badArchive(tarball, `unsafe path: ${(err as Error).message}`, name);
    }
    if (++entries > maxEntries) {
      throw new FathomError(
        'FATHOM_RESULT_TOO_LARGE',
        `${tarball}: more than ${maxEntries} entries (at entry "${name}")`,
        { details: { file: tarball, entry: name, maxEntries } },
      );
    }
    if (rel === undefined) {
      entry.resume();
      return Promise.resolve();
    }
    const target = join(root, rel);
    if (!target.startsWith(root + sep)) throw badArchive(tarball, 'unsafe path', name);
    const parent = target.slice(0, target.lastIndexOf(sep));
    try {
      if (entry.type === 'Directory') {
        mkdirSync(target, { recursive: true, mode: 0o755 });
        entry.resume();
        return Promise.resolve();
      }
      mkdirSync(parent, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw badArchive(tarball, `cannot create: ${(err as Error).message}`, name, err);
    }
    bytes += entry.size;
    if (bytes > maxBytes) {
      throw new FathomError(
        'FATHOM_RESULT_TOO_LARGE',
        `${tarball}: contents exceed ${maxBytes} bytes (at entry "${name}")`,
        { details: { file: tarball, entry: name, maxBytes } },
      );
    }
    files++;
    const ws: WriteStream = createWriteStream(target, { mode: 0o644 });
    const done = new Promise<void>((res) => {
      ws.on('close', res);
      ws.on('error', (err) => {
        fail(badArchive(tarball, `cannot write: ${err.message}`, name, err));
        res();
      });
    });
    entry.pipe(ws);
    return done;
  };

  let decompressed = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      decompressed += chunk.length;
      if (decompressed > maxStream) {
        return cb(
          new FathomError(
            'FATHOM_RESULT_TOO_LARGE',
            `${tarball}: decompresses to more than ${maxStream} bytes`,
            {
              details: { file: tarball, maxBytes },
            },
          ),
        );
      }
      cb(null, chunk);
    },
  });

  const gz = await isGzip(tarball);
  try {
    if (gz) await pipeline(createReadStream(tarball), createGunzip(), counter, sink);
    else await pipeline(createReadStream(tarball), counter, sink);
  } catch (err) {
    if (err instanceof FathomError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && e.path === tarball) {
      throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${tarball}: no such file`, { cause: err });
    }
    throw badArchive(tarball, `corrupt archive: ${e.message}`, undefined, err);
  }
  return { files, bytes };
}

/** An opened results tree; `cleanup` removes the temporary copy when one was made. */
export interface OpenedResults {
  root: string;
  /** True when `root` is a temporary extraction. */
  extracted: boolean;
  cleanup(): Promise<void>;
}

/**
 * Accepts a results `.tar.gz` (or plain tar) or an already extracted directory and returns
 * the directory holding `meta/` and `plugins/`. Tarballs are extracted safely into a temp dir.
 */
export async function openResults(
  pathOrDir: string,
  limits?: ExtractLimits,
): Promise<OpenedResults> {
  let st;
  try {
    st = await stat(pathOrDir);
  } catch (err) {
    throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${pathOrDir}: no such file or directory`, {
      cause: err,
      details: { path: pathOrDir },
    });
  }
  if (st.isDirectory()) {
    return { root: resolve(pathOrDir), extracted: false, cleanup: () => Promise.resolve() };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'fathom-results-'));
  const cleanup = (): Promise<void> => rm(tmp, { recursive: true, force: true });
  try {
    await extractResults(pathOrDir, tmp, limits);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { root: tmp, extracted: true, cleanup };
}
