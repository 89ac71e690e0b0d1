import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { filenameFromContentDisposition, writeBodyToFile } from './ingest.js';

describe('filenameFromContentDisposition', () => {
  it.each([
    [undefined, 'result'],
    ['', 'result'],
    ['attachment', 'result'],
    ['attachment;filename=junit.xml', 'junit.xml'],
    ['attachment; filename="with space.txt"', 'with space.txt'],
    ['attachment; FILENAME=upper.txt', 'upper.txt'],
    ["attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt; filename=plain.txt", 'résumé.txt'],
    ['attachment; filename=""', 'result'],
    ['attachment; filename=../../evil', '../../evil'], // returned as is: the aggregator refuses it
  ])('%j gives %j', (header, name) => {
    expect(filenameFromContentDisposition(header)).toBe(name);
  });
});

describe('writeBodyToFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-ingest-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes exactly the body', async () => {
    await writeBodyToFile(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), join(dir, 'f'), 4);
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('abcd');
  });

  it('fails with FATHOM_RESULT_TOO_LARGE past the limit and leaves the body undestroyed', async () => {
    const body = Readable.from([Buffer.alloc(3), Buffer.alloc(3), Buffer.alloc(3)]);
    await expect(writeBodyToFile(body, join(dir, 'f'), 4)).rejects.toMatchObject({
      code: 'FATHOM_RESULT_TOO_LARGE',
    });
    expect(body.destroyed).toBe(false);
  });

  it('refuses to overwrite an existing file', async () => {
    await writeBodyToFile(Readable.from([Buffer.from('1')]), join(dir, 'f'), 4);
    await expect(
      writeBodyToFile(Readable.from([Buffer.from('2')]), join(dir, 'f'), 4),
    ).rejects.toMatchObject({ code: 'FATHOM_RESULT_WRITE_FAILED' });
    expect(await readdir(dir)).toEqual(['f']);
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('1');
  });

  it('fails with FATHOM_RESULT_WRITE_FAILED when the sender goes away mid-body', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.from('partial'));
    const writing = writeBodyToFile(body, join(dir, 'f'), 1024);
    body.destroy(new Error('socket hang up'));
    await expect(writing).rejects.toMatchObject({ code: 'FATHOM_RESULT_WRITE_FAILED' });
  });
});
