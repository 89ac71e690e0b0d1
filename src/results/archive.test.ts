/**
 * Reading a results tarball in memory must refuse what extraction refuses and hold exactly what
 * extraction writes; read.ts must then answer from it as from the extracted directory.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FathomError, isFathomError } from '../core/errors.js';
import { readArchive, type ResultsArchive } from './archive.js';
import { RESULTS_FILE } from './process.js';
import { readPluginResults, readRunInfo, RESULTS_FILE_NAME } from './read.js';
import { extractResults, writeResultsTarball } from './tarball.js';
import { rawTar, type RawEntry } from './test-helpers.js';
import { available } from '../../test/support/required.js';

const fixtures = new URL('../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const haveFixtures = available(
  existsSync(fixtures),
  `Sonobuoy tarball fixtures: ${fixtures} is absent`,
);

/** A pax record: `<length> key=value\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let n = Buffer.byteLength(rest) + 1;
  while (String(n).length + Buffer.byteLength(rest) !== n) n++;
  return `${n}${rest}`;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-archive-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let count = 0;
async function tgz(entries: RawEntry[], opts?: { end?: boolean }): Promise<string> {
  const file = join(dir, `t${count++}.tar.gz`);
  await writeFile(file, gzipSync(rawTar(entries, opts)));
  return file;
}

const all = (): boolean => true;

async function failure(p: Promise<unknown>): Promise<FathomError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a FathomError').toBeInstanceOf(FathomError);
  return err as FathomError;
}

/** Every file under `root`, by relative path, with its text. */
async function tree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(path.slice(root.length + 1), await readFile(path, 'utf8'));
  }
  return out;
}

describe('readArchive on hostile archives, as extraction', () => {
  it.each([
    ['dotdot', [{ name: '../evil', body: 'x' }], /unsafe path.*"\.\.\/evil"/],
    ['nested dotdot', [{ name: 'a/../../evil', body: 'x' }], /"a\/\.\.\/\.\.\/evil"/],
    ['absolute', [{ name: '/tmp/evil', body: 'x' }], /absolute path.*"\/tmp\/evil"/],
    ['backslash', [{ name: 'a\\..\\b', body: 'x' }], /backslash/],
    [
      'symlink',
      [{ name: 'link', type: '2', linkname: '/etc/passwd' }],
      /SymbolicLink: links are not allowed.*"link"/,
    ],
    [
      'hard link',
      [
        { name: 'f', body: 'x' },
        { name: 'h', type: '1', linkname: 'f' },
      ],
      /Link: links.*"h"/,
    ],
    ['char device', [{ name: 'dev', type: '3' }], /CharacterDevice.*"dev"/],
    ['fifo', [{ name: 'pipe', type: '6' }], /FIFO.*"pipe"/],
    ['an unknown type', [{ name: 'odd', type: 'Q', body: 'x' }], /unsupported entry type.*"odd"/],
    ['a sparse file', [{ name: 'sparse', type: 'S', body: 'x' }], /SparseFile.*"sparse"/],
    [
      'a pax path escaping',
      [
        { name: 'PaxHeader', type: 'x', body: paxRecord('path', '../../evil') },
        { name: 'innocent', body: 'x' },
      ],
      /unsafe path.*"\.\.\/\.\.\/evil"/,
    ],
    [
      'a GNU long name escaping',
      [
        { name: '././@LongLink', type: 'L', body: '/etc/evil\0' },
        { name: 'innocent', body: 'x' },
      ],
      /absolute path.*"\/etc\/evil"/,
    ],
    [
      'a ustar prefix escaping',
      [{ name: 'x', prefix: '../up', body: 'x' }],
      /unsafe path.*"\.\.\/up\/x"/,
    ],
  ])('rejects %s naming the entry, with the same code', async (_what, entries, pattern) => {
    const file = await tgz(entries);
    const mine = await failure(readArchive(file, all));
    expect(mine.code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
    expect(mine.message).toMatch(pattern);
    const theirs = await failure(extractResults(file, join(dir, 'out')));
    expect(theirs.code).toBe(mine.code);
  });

  it.each([
    [
      'a truncated archive',
      () => gzipSync(rawTar([{ name: 'a', body: 'z'.repeat(4000) }]).subarray(0, 1500)),
    ],
    [
      'a truncated gzip stream',
      () => {
        const gz = gzipSync(rawTar([{ name: 'a', body: 'hello'.repeat(1000) }]));
        return gz.subarray(0, gz.length - 20);
      },
    ],
    [
      'bytes that are not a tar',
      () => gzipSync(Buffer.from('this is not a tarball at all '.repeat(100))),
    ],
    ['an empty file', () => Buffer.alloc(0)],
    ['only end-of-archive blocks', () => gzipSync(Buffer.alloc(1024))],
    [
      'a bad checksum',
      () => {
        const t = rawTar([{ name: 'a', body: 'x' }]);
        t[0] = 'b'.charCodeAt(0);
        return gzipSync(t);
      },
    ],
    ['plain text', () => Buffer.from('just some notes\n'.repeat(100))],
  ])('says corrupt archive for %s, as extraction', async (_what, bytes) => {
    const file = join(dir, 'bad.tar.gz');
    await writeFile(file, bytes());
    const mine = await failure(readArchive(file, all));
    expect(mine.code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
    expect(mine.message).toMatch(/corrupt archive/);
    expect(mine.message).toContain(file);
    const theirs = await failure(extractResults(file, join(dir, 'out')));
    expect(theirs.code).toBe(mine.code);
  });

  it('caps entries, bytes and what is decompressed, as extraction', async () => {
    const many = await tgz(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x' })));
    const e1 = await failure(readArchive(many, all, { maxEntries: 10 }));
    expect(isFathomError(e1, 'FATHOM_RESULT_TOO_LARGE')).toBe(true);
    expect(e1.message).toMatch(/more than 10 entries.*"f10"/);

    const big = await tgz([
      { name: 'small', body: 'x'.repeat(100) },
      { name: 'huge', body: 'y'.repeat(5000) },
    ]);
    const e2 = await failure(readArchive(big, all, { maxBytes: 1000 }));
    expect(e2.message).toMatch(/exceed 1000 bytes.*"huge"/);

    const bomb = join(dir, 'bomb.tar.gz');
    await writeFile(
      bomb,
      gzipSync(Buffer.concat([rawTar([{ name: 'a', body: 'a' }]), Buffer.alloc(64 * 1024 * 1024)])),
    );
    const e3 = await failure(readArchive(bomb, all, { maxBytes: 1024, maxEntries: 10 }));
    expect(isFathomError(e3, 'FATHOM_RESULT_TOO_LARGE')).toBe(true);
    expect(e3.message).toMatch(/decompresses to more than/);
  });

  it('refuses a path that is both a file and a directory', async () => {
    for (const entries of [
      [
        { name: 'a', body: 'x' },
        { name: 'a/b', body: 'y' },
      ],
      [
        { name: 'a', body: 'x' },
        { name: 'a/', type: '5' },
      ],
      [
        { name: 'a/b', body: 'y' },
        { name: 'a', body: 'x' },
      ],
    ]) {
      const file = await tgz(entries);
      expect((await failure(readArchive(file, all))).code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
      expect((await failure(extractResults(file, join(dir, `out${count++}`)))).code).toBe(
        'FATHOM_RESULT_BAD_ARCHIVE',
      );
    }
  });

  it('says FATHOM_RESULTS_NOT_FOUND for a missing file', async () => {
    const err = await failure(readArchive(join(dir, 'nope.tar.gz'), all));
    expect(err.code).toBe('FATHOM_RESULTS_NOT_FOUND');
  });
});

describe('readArchive holds what extraction writes', () => {
  it('for long and non-ASCII names (pax), GNU long names and ustar prefixes', async () => {
    const src = join(dir, 'src');
    const deep = join(
      'plugins',
      'ünïcødé-😀',
      'x'.repeat(120),
      'results',
      `${'y'.repeat(150)}.xml`,
    );
    await mkdir(join(src, deep, '..'), { recursive: true });
    await writeFile(join(src, deep), 'deep');
    await writeResultsTarball(src, join(dir, 'long.tar.gz'));
    const archive = await readArchive(join(dir, 'long.tar.gz'), all);
    expect(archive.readText(deep)).toBe('deep');

    const gnu = await tgz([
      { name: '././@LongLink', type: 'L', body: `${'g'.repeat(200)}/file\0` },
      { name: 'truncated', body: 'gnu' },
      { name: 'name', prefix: 'pre/fix', body: 'ustar' },
      {
        name: 'PaxHeader',
        type: 'x',
        body: paxRecord('path', 'pax/path') + paxRecord('size', '3'),
      },
      { name: 'ignored', body: 'paxxxxx' },
    ]);
    const a = await readArchive(gnu, all);
    expect(a.readText(`${'g'.repeat(200)}/file`)).toBe('gnu');
    expect(a.readText('pre/fix/name')).toBe('ustar');
    const out = join(dir, 'out');
    await extractResults(gnu, out);
    const extracted = await tree(out);
    expect([...extracted.keys()].sort()).toEqual(
      [`${'g'.repeat(200)}/file`, 'pre/fix/name', 'pax/path'].sort(),
    );
    for (const [rel, text] of extracted) expect(a.readText(rel), rel).toBe(text);
  });

  it
    .skipIf(!haveFixtures)
    .each([
      'cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz',
      'test/integration/testdata/results-4-e2e-failures.tar.gz',
      'test/integration/testdata/results-quick-no-failures.tar.gz',
      'test/integration/testdata/results-missing-e2e.tar.gz',
    ])('for Sonobuoy’s %s, file for file', async (rel) => {
    const out = join(dir, 'out');
    await extractResults(join(fixtures, rel), out);
    const extracted = await tree(out);
    const archive = await readArchive(join(fixtures, rel), all);
    expect(extracted.size).toBeGreaterThan(10);
    for (const [path, text] of extracted) expect(archive.readText(path), path).toBe(text);
  });

  it('keeps only the files asked for, and answers the rest like the file system', async () => {
    const file = await tgz([
      { name: 'meta/', type: '5' },
      { name: 'meta/info.json', body: '{"plugins":["p"]}' },
      { name: 'big', body: 'b'.repeat(100) },
      { name: 'skipped', body: 'not kept' },
      { name: 'twice', body: 'first' },
      { name: 'twice', body: 'second' },
    ]);
    const a = await readArchive(file, (rel) => rel !== 'skipped' && rel !== 'big');
    expect(a.readText('meta/info.json')).toBe('{"plugins":["p"]}');
    expect(a.readText('twice')).toBe('second');
    expect(a.stat('meta')).toEqual({ isFile: false, isDirectory: true, size: 0 });
    expect(a.stat('big')).toEqual({ isFile: true, isDirectory: false, size: 100 });
    expect(a.stat('nothing')).toBeUndefined();
    expect(() => a.readText('meta')).toThrow(
      expect.objectContaining({
        code: 'EISDIR',
        message: 'EISDIR: illegal operation on a directory, read',
      }),
    );
    expect(() => a.readText('nothing')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => a.readText('skipped')).toThrow(/was not kept/);
    // Beyond what is kept in memory, files wait on disk (archive-bounds.test.ts); reads agree.
    for (const limits of [{ maxKeptFile: 50 }, { maxKeptBytes: 20 }, { maxKeptBytes: 0 }]) {
      const b = await readArchive(file, all, limits);
      expect(b.readText('big')).toBe('b'.repeat(100));
      expect(b.readText('twice')).toBe('second');
      b.cleanup();
    }
  });

  it('reads a plain (not gzipped) tar', async () => {
    const file = join(dir, 'plain.tar');
    const body = 'é'.repeat(3000);
    await writeFile(
      file,
      rawTar([
        { name: './meta/', type: '5' },
        { name: './meta/info.json', body },
      ]),
    );
    expect((await readArchive(file, all)).readText('meta/info.json')).toBe(body);
  });
});

describe('read.ts on an archive, as on the extracted directory', () => {
  it('names the results file as post-processing does', () => {
    expect(RESULTS_FILE_NAME).toBe(RESULTS_FILE);
  });

  async function both(file: string, plugins: string[]): Promise<void> {
    const out = join(dir, `x${count++}`);
    await extractResults(file, out);
    const archive: ResultsArchive = await readArchive(file, all);
    const settle = async (f: () => Promise<unknown>): Promise<unknown> => {
      try {
        return await f();
      } catch (err) {
        const e = err as Error & { code?: string };
        return { error: e.code, message: e.message.replaceAll(out, '<root>') };
      }
    };
    expect(await settle(() => readRunInfo(archive))).toEqual(await settle(() => readRunInfo(out)));
    for (const p of plugins) {
      expect(await settle(() => readPluginResults(archive, p)), p).toEqual(
        await settle(() => readPluginResults(out, p)),
      );
    }
  }

  it.skipIf(!haveFixtures)('on Sonobuoy’s tarballs', async () => {
    await both(join(fixtures, 'cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz'), [
      'e2e',
      'custom-status',
      'arbitrary-details',
      'tarresultsds',
      'missing',
    ]);
    await both(join(fixtures, 'test/integration/testdata/results-4-e2e-failures.tar.gz'), [
      'e2e',
      'systemd-logs',
    ]);
  });

  it('on bad results: missing, a directory, bad YAML, bad info.json', async () => {
    await both(
      await tgz([
        { name: 'meta/info.json', body: '{"plugins":["ok","dir","bad","gone","x/y"]}' },
        { name: 'plugins/ok/sonobuoy_results.yaml', body: 'name: ok\nstatus: passed\n' },
        { name: `plugins/dir/${RESULTS_FILE}/`, type: '5' },
        { name: 'plugins/bad/sonobuoy_results.yaml', body: 'name: [unclosed\n' },
      ]),
      ['ok', 'dir', 'bad', 'gone', 'x/y', '..'],
    );
    await both(await tgz([{ name: 'meta/info.json', body: '{"plugins": 5}' }]), []);
    await both(await tgz([{ name: 'meta/info.json/', type: '5' }]), []);
    await both(await tgz([{ name: 'other', body: 'x' }]), []);
  });
});
