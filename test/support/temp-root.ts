/**
 * A setup file (vitest.config.ts): every test file gets a temp root of its own as TMPDIR,
 * removed when the file ends, so that no temp dir of a test, nor of the processes it starts
 * (they inherit TMPDIR), outlives the run. Tests still make their own dirs with mkdtemp.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outer = process.env.TMPDIR;
const root = mkdtempSync(join(tmpdir(), 'fathom-test-'));
process.env.TMPDIR = root;

afterAll(() => {
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
});
