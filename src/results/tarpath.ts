/**
 * The one rule for a path inside an untrusted tarball, in a module of its own so that readers
 * that do not extract (archive.ts) need not load the tar package. tarball.ts applies the same
 * rule when extracting (a test keeps the two in step).
 */

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
