import { createWriteStream } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Pack } from 'tar';
import { FathomError, messageOf } from '../core/errors.js';

/** Name of the done file inside the results directory. */
export const DONE_FILE = 'done';
/** Where a directory result is archived (inside that directory), as Sonobuoy names it. */
export const DIRECTORY_TARBALL = 'results.tar.gz';
/** Where the no-done-file fallback archives the whole results directory. */
export const FALLBACK_TARBALL = 'out.tar.gz';

/** A result ready to stream: a regular file inside the results directory. */
export interface ResolvedResult {
  /** Real path of the file to send. */
  readonly file: string;
  readonly size: number;
  /** True when `file` was made by archiving a directory. */
  readonly archived: boolean;
}

function invalid(message: string, details: Record<string, unknown>): FathomError {
  return new FathomError('FATHOM_DONE_FILE_INVALID', message, { details });
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The done file's trimmed contents, or undefined while it does not exist. */
export async function readDoneFile(resultsDir: string): Promise<string | undefined> {
  try {
    return (await readFile(join(resultsDir, DONE_FILE), 'utf8')).trim();
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** Whether the done file exists right now. */
export async function doneFileExists(resultsDir: string): Promise<boolean> {
  try {
    await stat(join(resultsDir, DONE_FILE));
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/**
 * Turns the done file's contents into a file to upload. Relative paths are taken from the
 * results directory. The path, after following symlinks, must stay inside the results
 * directory; a directory is archived first. Throws `FATHOM_DONE_FILE_INVALID` whose message
 * becomes the `{"error": ...}` body sent instead.
 */
export async function resolveResult(resultsDir: string, named: string): Promise<ResolvedResult> {
  if (named === '') throw invalid('the done file is empty; it must name the result path', {});
  const dir = resolve(resultsDir);
  const target = resolve(dir, named);
  const details = { path: named, resultsDir: dir };
  if (!inside(dir, target)) {
    throw invalid(`result path ${named} is outside the results directory ${dir}`, details);
  }
  let real: string;
  let info: Stats;
  try {
    real = await realpath(target);
    info = await stat(real);
  } catch (err) {
    if (isMissing(err)) throw invalid(`result path ${named} does not exist`, details);
    throw invalid(`result path ${named} cannot be read: ${messageOf(err)}`, details);
  }
  if (!inside(await realpath(dir), real)) {
    throw invalid(`result path ${named} leads outside the results directory ${dir}`, details);
  }
  if (info.isDirectory()) {
    const file = join(real, DIRECTORY_TARBALL);
    await tarDirectory(real, file);
    return { file, size: (await stat(file)).size, archived: true };
  }
  if (!info.isFile()) {
    throw invalid(`result path ${named} is not a regular file or directory`, details);
  }
  return { file: real, size: info.size, archived: false };
}

/**
 * Writes `dir` as a gzipped tar to `outFile`, with entry names relative to `dir` (no `./`),
 * directories as entries, regular files only (links, sockets and devices are left out) and
 * `outFile` itself skipped, which is what Sonobuoy's worker produces.
 */
export async function tarDirectory(dir: string, outFile: string): Promise<void> {
  const skip = relative(dir, outFile);
  const entries = (await readdir(dir)).filter((name) => name !== skip).sort();
  const pack = new Pack({
    cwd: dir,
    gzip: true,
    portable: true,
    filter: (path, entry) => {
      const st = entry as Stats;
      return path !== skip && (st.isFile() || st.isDirectory());
    },
  });
  const out = createWriteStream(outFile);
  const written = new Promise<void>((resolveDone, reject) => {
    out.on('close', resolveDone);
    out.on('error', reject);
    pack.on('error', (err: unknown) => {
      out.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
  pack.pipe(out);
  for (const name of entries) pack.add(name);
  pack.end();
  await written;
}
