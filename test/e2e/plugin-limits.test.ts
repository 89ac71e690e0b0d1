import { execFile } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../support/cli.js';
import { fathom, fathomBin, repoRoot, tempDir as newTempDir } from '../support/cli.js';

const plugin = `sonobuoy-config:
  driver: Job
  plugin-name: big
  result-format: raw
spec:
  command: [sh, -c, 'true']
`;

/** A valid plugin padded with a comment to `bytes`. */
const padded = (bytes: number): string => `${plugin}#${'x'.repeat(bytes - plugin.length - 2)}\n`;

/** Exit 2, a single `error:` line matching `message`, and no run directory in FATHOM_HOME. */
async function expectRefused(r: CliResult, home: string, message: RegExp): Promise<void> {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: /)]);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
  expect(await readdir(home)).toEqual([]);
}

describe('oversized plugin input starts nothing', () => {
  const made: string[] = [];
  const tempDir = async (prefix: string): Promise<string> => {
    const dir = await newTempDir(prefix);
    made.push(dir);
    return dir;
  };
  afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

  it('refuses a plugin file one byte over 2 MiB', async () => {
    const home = await tempDir('limits');
    const dir = await tempDir('limits-in');
    await writeFile(join(dir, 'big.yaml'), padded(2 * 1024 * 1024 + 1));
    const r = await fathom(['run', '-p', 'big.yaml'], { FATHOM_HOME: home }, dir);
    await expectRefused(r, home, /^error: big\.yaml: the file is over the 2 MiB limit/);
  });

  it('refuses 101 tiny documents before building them', async () => {
    const home = await tempDir('limits');
    const dir = await tempDir('limits-in');
    await writeFile(join(dir, 'docs.yaml'), plugin + '---\n{}\n'.repeat(100));
    const r = await fathom(['run', '-p', 'docs.yaml'], { FATHOM_HOME: home }, dir);
    await expectRefused(r, home, /^error: docs\.yaml: holds more than 100 YAML documents/);
  });

  it('stops reading an endless stdin (-p -) at the limit', async () => {
    const home = await tempDir('limits');
    const r = await new Promise<CliResult>((resolve) => {
      execFile(
        'sh',
        ['-c', 'exec "$NODE" "$BIN" run -p - < /dev/zero'],
        {
          cwd: repoRoot,
          env: { ...process.env, NODE: process.execPath, BIN: fathomBin, FATHOM_HOME: home },
        },
        (error, stdout, stderr) => {
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
        },
      );
    });
    await expectRefused(r, home, /^error: -: the file is over the 2 MiB limit/);
  });

  it('refuses a --cluster-config over 1 MiB', async () => {
    const home = await tempDir('limits');
    const dir = await tempDir('limits-in');
    const head = 'nodes:\n  - name: n1\n#';
    await writeFile(join(dir, 'c.yaml'), `${head}${'x'.repeat(1024 * 1024)}\n`);
    const r = await fathom(['run', '--cluster-config', 'c.yaml'], { FATHOM_HOME: home }, dir);
    await expectRefused(r, home, /^error: c\.yaml: is over 1 MiB, the limit for a cluster file/);
  });
});
