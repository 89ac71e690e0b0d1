/**
 * What every tarball reader shares, in a module of its own so that readers that do not extract
 * (archive.ts) need not load the tar package: the rule for a path inside an untrusted tarball,
 * and gzip detection.
 */
import { open } from 'node:fs/promises';
import { FathomError } from '../core/errors.js';

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
