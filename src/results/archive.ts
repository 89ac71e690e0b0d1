/**
 * A results tarball read in one streaming pass, keeping only the few files a caller asks for
 * (`fathom results` needs meta/info.json, the plugins' sonobuoy_results.yaml and the cluster
 * health, not the logs and raw results around them). Entries come from the one untrusted-archive
 * reader (core/untrusted-tar.ts), checked exactly as extraction checks them. Reads then answer like the file
 * system would for the extracted tree, down to the error codes (ENOENT, EISDIR).
 *
 * Memory is bounded whatever the files hold: small files are kept in memory up to a budget,
 * larger ones are written to a temporary directory as they stream by, and a file larger than
 * its reader will ever read (its cap, from `keep`) is neither kept nor written.
 */
import { closeSync, createReadStream, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { FathomError } from '../core/errors.js';
import { makeTempDir, removeTempDir } from '../core/tempdir.js';
import {
  badArchive,
  DEFAULT_MAX_ARCHIVE_BYTES,
  DEFAULT_MAX_ARCHIVE_ENTRIES,
  isGzip,
  walkUntrustedTar,
  type UntrustedEntry,
} from '../core/untrusted-tar.js';

export interface ArchiveLimits {
  /** Sum of file sizes (default 8 GiB, as extraction). */
  maxBytes?: number;
  /** Files plus directories (default 200,000, as extraction). */
  maxEntries?: number;
  /** Largest file kept in memory (default 1 MiB); larger ones go to a temporary file. */
  maxKeptFile?: number;
  /** All files kept in memory together (default 64 MiB); beyond it, temporary files. */
  maxKeptBytes?: number;
}

/**
 * Which files a reader wants: `false` for none of it; `true` for all of it; a number for a file
 * read only when it is at most that many bytes (a larger one is only stat-ed, never stored).
 */
export type KeepFile = (rel: string) => boolean | number;

/** What `stat` tells about a path of the archive. */
export interface ArchiveStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
}

interface FileEntry {
  size: number;
  /** The file decoded as UTF-8 (invalid bytes become U+FFFD), for the files kept in memory. */
  text?: string;
  /** Where the file was written, for the files kept on disk. */
  spilled?: string;
}

const DEFAULT_MAX_KEPT_FILE = 1024 * 1024;
const DEFAULT_MAX_KEPT_BYTES = 64 * 1024 * 1024;
/** Pieces in which `chunks` hands over a file kept on disk. */
export const CHUNK_BYTES = 64 * 1024;

/** An error shaped like the one fs gives, so callers treat both alike. */
function fsError(code: 'ENOENT' | 'EISDIR', rel: string): NodeJS.ErrnoException {
  const message =
    code === 'EISDIR'
      ? 'EISDIR: illegal operation on a directory, read'
      : `ENOENT: no such file or directory, open '${rel}'`;
  return Object.assign(new Error(message), { code, path: rel });
}

/** The tree of a results tarball: every path it holds, and the bytes of the files kept. */
export class ResultsArchive {
  constructor(
    /** The tarball. */
    readonly file: string,
    private readonly fileEntries: ReadonlyMap<string, FileEntry>,
    private readonly dirs: ReadonlySet<string>,
    /** The temporary directory of the files kept on disk, if any. */
    private readonly spillDir?: string,
  ) {}

  /** Removes the files kept on disk; reads of them fail afterwards. */
  cleanup(): void {
    if (this.spillDir) removeTempDir(this.spillDir);
  }

  /** Every file's path, in archive order. */
  files(): IterableIterator<string> {
    return this.fileEntries.keys();
  }

  /** Like fs.stat on the extracted tree; `undefined` when nothing is there. */
  stat(rel: string): ArchiveStat | undefined {
    const f = this.fileEntries.get(rel);
    if (f) return { isFile: true, isDirectory: false, size: f.size };
    if (this.dirs.has(rel)) return { isFile: false, isDirectory: true, size: 0 };
    return undefined;
  }

  /**
   * Like fs.readFile(path, 'utf8'): ENOENT when absent, EISDIR for a directory. Only the files
   * the reader was asked to keep have their contents; asking for another is a bug.
   */
  readText(rel: string): string {
    const f = this.kept(rel);
    return f.text ?? readFileSync(f.spilled!, 'utf8');
  }

  /**
   * The file's text in pieces, decoded across their boundaries: at most `maxKeptFile` bytes'
   * worth for a file kept in memory, at most CHUNK_BYTES for one kept on disk.
   */
  async *chunks(rel: string): AsyncGenerator<string> {
    const f = this.kept(rel);
    if (f.text !== undefined) {
      if (f.text) yield f.text;
      return;
    }
    const decoder = new StringDecoder('utf8');
    for await (const chunk of createReadStream(f.spilled!, { highWaterMark: CHUNK_BYTES })) {
      const text = decoder.write(chunk as Buffer);
      if (text) yield text;
    }
    const tail = decoder.end();
    if (tail) yield tail;
  }

  private kept(rel: string): FileEntry {
    const f = this.fileEntries.get(rel);
    if (!f) throw fsError(this.dirs.has(rel) ? 'EISDIR' : 'ENOENT', rel);
    if (f.text === undefined && f.spilled === undefined) {
      throw new Error(`${this.file}: "${rel}" was not kept`);
    }
    return f;
  }
}

/** A failure to write a temporary file: the machine's problem, not the tarball's. */
class SpillError extends Error {}

/** Collects the entries of one tarball, checking each as extraction does. */
class Collector {
  readonly files = new Map<string, FileEntry>();
  readonly dirs = new Set<string>();
  private kept = 0;
  private spilled = 0;
  /** The temporary directory, made when the first file goes to disk. */
  spillDir: string | undefined;
  private current:
    { entry: FileEntry; bytes: Buffer; at: number } | { entry: FileEntry; fd: number } | undefined;

  constructor(
    private readonly tarball: string,
    private readonly keep: KeepFile,
    private readonly limits: Required<Pick<ArchiveLimits, 'maxKeptFile' | 'maxKeptBytes'>>,
  ) {}

  /** Marks the parents of `rel` as directories; a parent that is a file cannot be one. */
  private parents(rel: string, name: string): void {
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) {
      const dir = rel.slice(0, i);
      if (this.files.has(dir)) {
        throw badArchive(this.tarball, `cannot create: "${dir}" is a file, not a directory`, name);
      }
      this.dirs.add(dir);
    }
  }

  /** Takes the checked entry; true when its bytes are wanted (then `data` and `end` follow). */
  entry(e: UntrustedEntry): boolean {
    const { name, rel } = e;
    if (rel === '') return false;
    this.parents(rel, name);
    if (e.type === 'Directory') {
      if (this.files.has(rel)) {
        throw badArchive(this.tarball, `cannot create: "${rel}" is a file, not a directory`, name);
      }
      this.dirs.add(rel);
      return false;
    }
    if (this.dirs.has(rel)) {
      throw badArchive(this.tarball, `cannot write: "${rel}" is a directory`, name);
    }
    const entry: FileEntry = { size: e.size };
    // A later entry for the same path replaces the earlier one, as extraction overwrites.
    const previous = this.files.get(rel);
    if (previous?.text !== undefined) this.kept -= previous.size;
    if (previous?.spilled !== undefined) rmSync(previous.spilled, { force: true });
    this.files.set(rel, entry);
    const want = this.keep(rel);
    // Checked on the header: what can never be read is never stored.
    if (want === false || (typeof want === 'number' && e.size > want)) return false;
    if (e.size <= this.limits.maxKeptFile && this.kept + e.size <= this.limits.maxKeptBytes) {
      this.kept += e.size;
      this.current = { entry, bytes: Buffer.allocUnsafe(e.size), at: 0 };
    } else {
      this.spillDir ??= makeTempDir('fathom-results-');
      entry.spilled = join(this.spillDir, String(++this.spilled));
      this.current = { entry, fd: this.guard(() => openSync(entry.spilled!, 'wx', 0o600)) };
    }
    if (e.size === 0) this.end();
    return e.size > 0;
  }

  data(chunk: Buffer): void {
    const c = this.current!;
    if ('fd' in c) {
      this.guard(() => writeSync(c.fd, chunk));
      return;
    }
    chunk.copy(c.bytes, c.at);
    c.at += chunk.length;
  }

  /** Decoded once, here, so that only the text stays in memory, never the bytes as well. */
  end(): void {
    const c = this.current!;
    this.current = undefined;
    if ('fd' in c) this.guard(() => closeSync(c.fd));
    else c.entry.text = c.bytes.toString('utf8');
  }

  /** A write that fails (disk full) is told apart from a corrupt tarball. */
  private guard<T>(write: () => T): T {
    try {
      return write();
    } catch (err) {
      throw new SpillError('spill', { cause: err });
    }
  }

  /** Closes the file being written, if any (after a failure). */
  abort(): void {
    const c = this.current;
    this.current = undefined;
    if (c && 'fd' in c) closeSync(c.fd);
  }
}

/**
 * Reads a results tarball (gzip or plain tar) from an untrusted source in one streaming pass,
 * keeping the files `keep` selects (by safe relative path). Throws FathomErrors as extraction
 * does: FATHOM_RESULTS_NOT_FOUND, FATHOM_RESULT_BAD_ARCHIVE naming the entry, or
 * FATHOM_RESULT_TOO_LARGE; a failure to write a temporary file as it is. The caller calls
 * `cleanup` on the result once done with it.
 */
export async function readArchive(
  tarball: string,
  keep: KeepFile,
  limits: ArchiveLimits = {},
): Promise<ResultsArchive> {
  const collector = new Collector(tarball, keep, {
    maxKeptFile: limits.maxKeptFile ?? DEFAULT_MAX_KEPT_FILE,
    maxKeptBytes: limits.maxKeptBytes ?? DEFAULT_MAX_KEPT_BYTES,
  });
  const gzip = await isGzip(tarball);
  const source = createReadStream(tarball, { highWaterMark: 1 << 20 });
  try {
    await walkUntrustedTar(
      source,
      {
        source: tarball,
        gzip,
        maxBytes: limits.maxBytes ?? DEFAULT_MAX_ARCHIVE_BYTES,
        maxEntries: limits.maxEntries ?? DEFAULT_MAX_ARCHIVE_ENTRIES,
      },
      async (entry) => {
        if (!collector.entry(entry)) return;
        for await (const chunk of entry.body) collector.data(chunk);
        collector.end();
      },
    );
  } catch (err) {
    collector.abort();
    if (collector.spillDir) removeTempDir(collector.spillDir);
    if (err instanceof SpillError) throw err.cause;
    if (err instanceof FathomError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && e.path === tarball) {
      throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${tarball}: no such file`, { cause: err });
    }
    throw badArchive(tarball, `corrupt archive: ${e.message}`);
  } finally {
    source.destroy();
  }
  return new ResultsArchive(tarball, collector.files, collector.dirs, collector.spillDir);
}
