/**
 * Ctrl-C (SIGINT) or SIGTERM in the middle of `fathom results`: the built CLI, in a process of
 * its own with a TMPDIR of its own, must remove its temp directory and exit 130 or 143.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readdirSync, watch } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawTar } from '../../src/results/test-helpers.js';
import { fathomBin, tempDir } from '../support/cli.js';

let work = '';
let tarball = '';
beforeAll(async () => {
  work = await tempDir('results-signals');
  tarball = join(work, 'run.tar.gz');
  const yaml =
    'name: p\nstatus: passed\nitems:\n- name: n\n  status: passed\n  meta:\n    file: n.log\n';
  // Far more output than the pipe holds: unread, it keeps the command busy printing.
  const log = 'line of a log\n'.repeat(1_200_000);
  await writeFile(
    tarball,
    gzipSync(
      rawTar([
        { name: 'meta/info.json', body: '{"plugins":["p"]}' },
        { name: 'plugins/p/n.log', body: log },
        { name: 'plugins/p/sonobuoy_results.yaml', body: yaml },
      ]),
    ),
  );
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const isTemp = (name: string): boolean => name.startsWith('fathom-results-');

/** `fathom results -m detailed` with a TMPDIR of its own, once its temp directory exists. */
async function startedWithTempDir(name: string): Promise<{
  child: ChildProcessByStdio<null, Readable, Readable>;
  tmp: string;
  exited: Promise<number | null>;
}> {
  const tmp = join(work, name);
  await mkdir(tmp);
  const child = spawn(process.execPath, [fathomBin, 'results', '-m', 'detailed', tarball], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  // Synchronised on the temp directory appearing; output before it means there was none.
  const watcher = watch(tmp);
  try {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (readdirSync(tmp).some(isTemp)) resolve();
      };
      watcher.on('change', check);
      child.stdout.once('readable', () => {
        check();
        reject(new Error('output began with no temp directory'));
      });
      void exited.then(() => reject(new Error(`exited first: ${stderr}`)));
      check();
    });
  } finally {
    watcher.close();
  }
  child.stdout.removeAllListeners('readable');
  return { child, tmp, exited };
}

describe('fathom results interrupted', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('by %s removes its temp directory and exits %i', async (signal, code) => {
    const { child, tmp, exited } = await startedWithTempDir(signal);
    child.kill(signal);
    // Let it write again, so that nothing but the signal can be what ends it.
    child.stdout.on('data', () => undefined);
    expect(await exited).toBe(code);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('by its output closing (`| head`) removes its temp directory and exits 0', async () => {
    const { child, tmp, exited } = await startedWithTempDir('closed');
    child.stdout.destroy();
    expect(await exited).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
  });
});
