import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  lazyBytes,
  makeCerts,
  ServerFixture,
  tarball,
  waitForPartialFile,
  type Certs,
  type TarItem,
} from '../../test/support/aggregation.js';
import { skipOrFail } from '../../test/support/required.js';

let certs: Certs;
let f: ServerFixture;

beforeAll(async () => {
  certs = await makeCerts();
});
beforeEach(async () => {
  f = await ServerFixture.start(certs);
});
afterEach(async () => {
  await f.stop();
});

const gz = { 'content-type': 'application/gzip' };
const halve = (b: Buffer): Buffer => b.subarray(0, b.length >> 1);
const MiB = 1024 * 1024;

describe('aggregation server: tarballs, limits and streaming', () => {
  it('unpacks a gzip tarball into the node directory', async () => {
    const body = gzipSync(
      tarball([
        { path: './', type: 'Directory' },
        { path: 'logs/', type: 'Directory' },
        { path: 'logs/kubelet.log', data: 'kubelet says hi' },
        { path: 'deep/er/file.txt', data: 'no directory entries needed' },
        { path: 'latest', type: 'SymbolicLink', linkpath: 'logs/kubelet.log' },
        { path: 'empty' },
      ]),
    );
    const path = '/api/v1/results/by-node/node-2/systemd-logs';
    expect((await f.put(path, certs.logs, body, gz)).status).toBe(200);
    const root = join(f.dir, 'plugins/systemd-logs/results/node-2');
    expect(await readFile(join(root, 'logs/kubelet.log'), 'utf8')).toBe('kubelet says hi');
    expect(await readFile(join(root, 'deep/er/file.txt'), 'utf8')).toBe(
      'no directory entries needed',
    );
    expect(await readlink(join(root, 'latest'))).toBe('logs/kubelet.log');
    expect(await readFile(join(root, 'latest'), 'utf8')).toBe('kubelet says hi');
    expect((await stat(join(root, 'empty'))).size).toBe(0);
    expect((await f.tree()).filter((p) => p.startsWith('.incoming-'))).toEqual([]);
  });

  it("unpacks Sonobuoy's own tarball fixture", async (ctx) => {
    const fixture = new URL(
      '../../../shared/conformance/sonobuoy/pkg/tarball/testdata/archive.tar.gz',
      import.meta.url,
    );
    if (!existsSync(fixture)) return skipOrFail(ctx, 'Sonobuoy fixtures not present in ../shared');
    const res = await f.put('/api/v1/results/global/e2e', certs.e2e, await readFile(fixture), gz);
    expect(res.status).toBe(200);
    const root = join(f.dir, 'plugins/e2e/results/global/testdirname');
    expect((await stat(join(root, 'stoppingByTheWoods'))).size).toBe(547);
    expect(await readlink(join(root, 'poem'))).toBe('testdirname/stoppingByTheWoods');
  });

  it('answers 413 from content-length before reading, and the key stays open', async () => {
    await f.restart(MiB);
    const big = Buffer.alloc(2 * MiB, 7);
    const res = await f.put('/api/v1/results/global/e2e', certs.e2e, big, {
      'content-length': big.length,
    });
    expect(res.status).toBe(413);
    expect(res.json().code).toBe('FATHOM_RESULT_TOO_LARGE');
    expect(await f.tree()).toEqual([]);
    expect((await f.put('/api/v1/results/global/e2e', certs.e2e, 'small')).status).toBe(200);
  });

  it('answers 413 while streaming a chunked upload and removes the partial file', async () => {
    await f.restart(MiB);
    const path = '/api/v1/results/by-node/node-1/systemd-logs';
    const res = await f.put(path, certs.logs, lazyBytes(4 * MiB).stream, {
      'content-disposition': 'attachment;filename=big.bin',
    });
    expect(res.status).toBe(413);
    expect(await f.tree()).toEqual([]);
    expect((await f.put(path, certs.logs, 'ok')).status).toBe(200);
  });

  it('answers 413 for a tarball that unpacks to more than the limit', async () => {
    await f.restart(MiB);
    const bomb = gzipSync(tarball([{ path: 'zeros', data: Buffer.alloc(8 * MiB) }]));
    expect(bomb.length).toBeLessThan(MiB);
    const res = await f.put('/api/v1/results/global/e2e', certs.e2e, bomb, gz);
    expect(res.status).toBe(413);
    expect(await f.tree()).toEqual([]);
  });

  const good: TarItem = { path: 'good.txt', data: 'written before the bad entry' };
  // Where an escaping entry would land beside the results dir: a name nothing else uses.
  const ESCAPE = `escape-${randomBytes(6).toString('hex')}`;
  const link = (path: string, linkpath: string): TarItem => ({
    path,
    type: 'SymbolicLink',
    linkpath,
  });
  const badArchives: Record<string, Buffer> = {
    'a ../ entry': gzipSync(tarball([good, { path: `../${ESCAPE}`, data: 'escape' }])),
    'a nested ../ entry': gzipSync(tarball([good, { path: `a/../../${ESCAPE}`, data: 'escape' }])),
    'an absolute entry': gzipSync(tarball([good, { path: '/abs', data: 'escape' }])),
    'a symlink out': gzipSync(tarball([good, link('l', '../../..')])),
    'an absolute symlink': gzipSync(tarball([good, link('l', '/etc/passwd')])),
    'a write through a symlink': gzipSync(
      tarball([good, link('l', 'sub'), { path: 'l/x', data: 'through the link' }]),
    ),
    'a hard link': gzipSync(tarball([good, { path: 'h', type: 'Link', linkpath: 'good.txt' }])),
    'a character device': gzipSync(tarball([good, { path: 'tty', type: 'CharacterDevice' }])),
    'a block device': gzipSync(tarball([good, { path: 'sda', type: 'BlockDevice' }])),
    'a fifo': gzipSync(tarball([good, { path: 'pipe', type: 'FIFO' }])),
    'corrupt gzip': Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(64, 0xee)]),
    'truncated gzip': halve(gzipSync(tarball([good, { path: 'more', data: randomBytes(8192) }]))),
    'gzip of something that is not tar': gzipSync(Buffer.from('hello, not a tarball')),
    'a truncated tar': gzipSync(
      tarball([good, { path: 'cut', data: 'y'.repeat(4096) }], { end: false }).subarray(0, 2048),
    ),
    'not gzip at all': Buffer.from('plain text with a gzip content type'),
  };

  for (const [name, body] of Object.entries(badArchives)) {
    it(`answers 400 for ${name}, leaves nothing behind, and lets the worker retry`, async () => {
      const path = '/api/v1/results/by-node/node-1/systemd-logs';
      const res = await f.put(path, certs.logs, body, gz);
      expect(res.status).toBe(400);
      expect(res.json().code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
      expect(await f.tree()).toEqual([]);
      expect(existsSync(join(f.dir, '..', ESCAPE))).toBe(false);
      expect(f.aggregator.pending()).toContainEqual({ plugin: 'systemd-logs', node: 'node-1' });
      expect((await f.put(path, certs.logs, gzipSync(tarball([good])), gz)).status).toBe(200);
    });
  }

  it('answers 400 for node and file names that are not safe path segments', async () => {
    const encoded = await f.put(
      '/api/v1/results/by-node/..%2F..%2Fx/systemd-logs',
      certs.logs,
      'x',
    );
    expect(encoded.status).toBe(400);
    expect(encoded.json().code).toBe('FATHOM_RESULT_BAD_NAME');
    const dots = await f.put('/api/v1/results/by-node/../systemd-logs', certs.logs, 'x');
    expect(dots.status).toBe(400);
    const badFile = await f.put('/api/v1/results/global/e2e', certs.e2e, 'x', {
      'content-disposition': 'attachment; filename="../../evil"',
    });
    expect(badFile.status).toBe(400);
    expect(badFile.json().code).toBe('FATHOM_RESULT_BAD_NAME');
    expect(await f.tree()).toEqual([]);
    expect((await f.put('/api/v1/results/global/e2e', certs.e2e, 'x')).status).toBe(200);
  });

  it('streams a 50 MB upload to disk while it is still arriving', async () => {
    const size = 50 * MiB;
    // Hold the sender back half way until the server has put 8 MB on disk: a server that
    // buffered the body before writing it would never get there.
    let seenOnDisk = 0;
    const { stream, sha256 } = lazyBytes(size, {
      at: size / 2,
      until: async () => void (seenOnDisk = await waitForPartialFile(f.dir, 8 * MiB)),
    });
    const res = await f.put('/api/v1/results/global/e2e', certs.e2e, stream, {
      'content-type': 'application/octet-stream',
      'content-disposition': 'attachment;filename=big.bin',
    });
    expect(res.status).toBe(200);
    expect(seenOnDisk).toBeGreaterThanOrEqual(8 * MiB);
    const file = join(f.dir, 'plugins/e2e/results/global/big.bin');
    expect((await stat(file)).size).toBe(size);
    const digest = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    expect(digest).toBe(sha256());
  });
});
