import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allCompletedOk, createFileContainerStateSource } from './container-state.js';
import { backoffDelay, contentDispositionFor, contentTypeFor, DEFAULT_RETRY } from './upload.js';

describe('contentTypeFor', () => {
  it.each([
    ['results.tar.gz', 'application/gzip'],
    ['x.GZ', 'application/gzip'],
    ['junit_01.xml', 'text/xml; charset=utf-8'],
    ['r.json', 'application/json'],
    ['sonobuoy_results.yaml', 'application/x-yaml'],
    ['a.yml', 'application/x-yaml'],
    ['out.txt', 'text/plain; charset=utf-8'],
    ['result', undefined],
    ['weird.bin2', undefined],
  ])('%s → %s', (file, type) => {
    expect(contentTypeFor(`/tmp/results/${file}`)).toBe(type);
  });
});

describe('contentDispositionFor', () => {
  it('names the file, or falls back to a bare attachment', () => {
    expect(contentDispositionFor('/r/out.tar.gz')).toBe('attachment;filename=out.tar.gz');
    expect(contentDispositionFor(undefined)).toBe('attachment');
    expect(contentDispositionFor('/r/ünïcode.txt')).toBe('attachment');
    expect(contentDispositionFor('/r/a;b')).toBe('attachment');
  });
});

describe('backoffDelay', () => {
  it('doubles up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(DEFAULT_RETRY, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000,
    ]);
  });
});

describe('file container state source', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-pod-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads states, leaving out the worker itself', async () => {
    const file = join(dir, 'pod.json');
    await writeFile(
      file,
      JSON.stringify({
        containers: [
          { name: 'plugin', state: 'terminated', exitCode: 0 },
          { name: 'helper', state: 'running' },
          { name: 'sonobuoy-worker', state: 'running' },
        ],
      }),
    );
    const states = await createFileContainerStateSource(file).otherContainers();
    expect(states).toEqual([
      { name: 'plugin', terminated: true, exitCode: 0 },
      { name: 'helper', terminated: false },
    ]);
    expect(allCompletedOk(states!)).toBe(false);
    expect(allCompletedOk(states!.slice(0, 1))).toBe(true);
  });

  it('reads a missing or malformed file as unknown', async () => {
    expect(await createFileContainerStateSource(join(dir, 'none')).otherContainers()).toBe(
      undefined,
    );
    await writeFile(join(dir, 'half.json'), '{"containers":[{"na');
    expect(await createFileContainerStateSource(join(dir, 'half.json')).otherContainers()).toBe(
      undefined,
    );
    await writeFile(join(dir, 'odd.json'), '{"containers":[{"state":"terminated"}]}');
    expect(await createFileContainerStateSource(join(dir, 'odd.json')).otherContainers()).toBe(
      undefined,
    );
  });

  it('needs exit code 0 from every other container', () => {
    expect(allCompletedOk([{ name: 'p', terminated: true, exitCode: 2 }])).toBe(false);
    expect(allCompletedOk([{ name: 'p', terminated: true }])).toBe(false);
    expect(allCompletedOk([])).toBe(true);
  });
});
