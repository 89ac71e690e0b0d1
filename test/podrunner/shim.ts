/**
 * Commands for pods run by the test pod runner: a directory to put in `pathPrepend` holding a
 * `fathom` that runs this checkout's CLI (bin/fathom.js, which needs `npm run build`) with the
 * Node running the tests. Pods may name it `fathom` or by any absolute path ending in /fathom.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository this file belongs to. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Writes `<dir>/fathom` and returns its path. */
export async function writeFathomShim(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'fathom');
  const cli = join(REPO_ROOT, 'bin', 'fathom.js');
  await writeFile(
    path,
    `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(cli)} "$@"\n`,
  );
  await chmod(path, 0o755);
  return path;
}
