/**
 * The results tarball: writing it (deterministic, streaming) and reading it back safely.
 * Tarballs come from plugins and from other machines, so extraction goes through the one
 * untrusted-archive reader (core/untrusted-tar.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create as tarCreate } from 'tar';
import { FathomError } from '../core/errors.js';
import {
  badArchive,
  DEFAULT_MAX_ARCHIVE_BYTES,
  DEFAULT_MAX_ARCHIVE_ENTRIES,
  extractUntrustedTar,
  isGzip,
} from '../core/untrusted-tar.js';

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

/** What `retrieve --partial` names its tarball: the run's name with `_partial`. */
export function partialTarballName(date: Date, uuid: string): string {
  return tarballName(date, uuid).replace(/\.tar\.gz$/, '_partial.tar.gz');
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

/**
 * Extracts a tarball (gzip or plain tar) from an untrusted source into `destDir`, streaming,
 * with the rules of core/untrusted-tar.ts: no `..`, absolute paths, links, devices or FIFOs,
 * corrupt or truncated archives or archives over the limits, each a FathomError naming the
 * entry; files get mode 0644.
 */
export async function extractResults(
  tarball: string,
  destDir: string,
  limits: ExtractLimits = {},
): Promise<{ files: number; bytes: number }> {
  const root = resolve(destDir);
  await mkdir(root, { recursive: true });
  const gzip = await isGzip(tarball);
  try {
    return await extractUntrustedTar(createReadStream(tarball), root, {
      source: tarball,
      gzip,
      maxBytes: limits.maxBytes ?? DEFAULT_MAX_ARCHIVE_BYTES,
      maxEntries: limits.maxEntries ?? DEFAULT_MAX_ARCHIVE_ENTRIES,
    });
  } catch (err) {
    if (err instanceof FathomError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && e.path === tarball) {
      throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${tarball}: no such file`, { cause: err });
    }
    throw badArchive(tarball, `cannot write: ${e.message}`, undefined, err);
  }
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
