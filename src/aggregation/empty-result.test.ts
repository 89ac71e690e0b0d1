import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { systemClock } from '../core/clock.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import { rawTar } from '../results/test-helpers.js';
import { tarDirectory } from '../worker/done-file.js';
import { createAggregator, GZIP_CONTENT_TYPE } from './aggregator.js';

/** What the worker sends for a results directory (or a done file naming a directory) left empty. */
async function workerArchiveOfEmptyDir(): Promise<Buffer> {
  const empty = await mkdtemp(join(tmpdir(), 'fathom-empty-dir-'));
  try {
    const out = join(empty, 'out.tar.gz');
    await tarDirectory(empty, out);
    return await readFile(out);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
}

describe('an empty archive is a valid empty result', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-empty-result-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each<[string, () => Buffer | Promise<Buffer>]>([
    ['a gzipped tar of end-of-archive blocks only', () => gzipSync(Buffer.alloc(1024))],
    ["the worker's archive of an empty directory", workerArchiveOfEmptyDir],
    [
      'what GNU tar writes for no files (one 10 KiB record of zeros)',
      () => gzipSync(Buffer.alloc(10240)),
    ],
    ['a gzipped tar of one zero block', () => gzipSync(Buffer.alloc(512))],
    ['gzip of zero bytes', () => gzipSync(Buffer.alloc(0))],
    ['a zero-length body', () => Buffer.alloc(0)],
  ])('%s: complete, with an empty results directory', async (_name, make) => {
    const aggregator = createAggregator({
      clock: systemClock,
      outputDir: dir,
      expected: [{ plugin: 'quiet', node: 'global' }],
    });
    await aggregator.ingest({
      plugin: 'quiet',
      node: 'global',
      contentType: GZIP_CONTENT_TYPE,
      body: Readable.from([await make()]),
    });
    expect(aggregator.entries().map((e) => e.status)).toEqual(['complete']);
    const results = join(dir, 'plugins/quiet/results/global');
    expect((await stat(results)).isDirectory()).toBe(true);
    await expect(readdir(results)).resolves.toEqual([]);
  });

  it.each<[string, Buffer]>([
    ['zeros then a stray byte', gzipSync(Buffer.concat([Buffer.alloc(1024), Buffer.from([1])]))],
    ['a truncated header', gzipSync(rawTar([{ name: 'a.txt', body: 'x' }]).subarray(0, 300))],
    ['no gzip at all', Buffer.from('not gzip')],
  ])('still refuses %s as a bad archive', async (_name, bytes) => {
    const aggregator = createAggregator({
      clock: systemClock,
      outputDir: dir,
      expected: [{ plugin: 'quiet', node: 'global' }],
    });
    const err = await aggregator
      .ingest({
        plugin: 'quiet',
        node: 'global',
        contentType: GZIP_CONTENT_TYPE,
        body: Readable.from([bytes]),
      })
      .catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_RESULT_BAD_ARCHIVE')).toBe(true);
    expect(aggregator.entries().map((e) => e.status)).toEqual(['running']);
  });
});
