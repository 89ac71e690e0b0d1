import { readFileSync } from 'node:fs';

/** fathom's own version, read once from package.json (src/ and dist/ sit at the same depth). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The repository root, for finding the compiled CLI and the example plugins. */
export const PACKAGE_ROOT: string = new URL('../../', import.meta.url).pathname;
