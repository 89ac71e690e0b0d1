import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/core/version.js';
import { findExecutable } from './paths.js';
import { REPO_ROOT, writeFathomShim } from './shim.js';
import { available } from '../support/required.js';

const built = available(
  existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')),
  'dist/ is not built (npm run build)',
);

describe('fathom shim', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podrunner-shim-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is found for `fathom` and for an image path such as /usr/local/bin/fathom', async () => {
    const shim = await writeFathomShim(join(dir, 'bin'));
    expect(await findExecutable('fathom', [join(dir, 'bin')], [join(dir, 'bin')])).toBe(shim);
    expect(await findExecutable('/usr/local/bin/fathom', [], [join(dir, 'bin')])).toBe(shim);
  });

  it.skipIf(!built)(
    `runs this checkout's CLI${built ? '' : ' (skipped: run npm run build)'}`,
    async () => {
      const shim = await writeFathomShim(join(dir, 'bin'));
      const { stdout } = await promisify(execFile)(shim, ['--version']);
      expect(stdout).toContain(VERSION);
    },
  );
});
