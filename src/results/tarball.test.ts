import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { list as tarList } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import { extractResults, openResults, tarballName, writeResultsTarball } from './tarball.js';
import { rawTar, type RawEntry } from './test-helpers.js';
import { available } from '../../test/support/required.js';

const fixtures = new URL('../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const haveFixtures = available(
  existsSync(fixtures),
  `Sonobuoy tarball fixtures: ${fixtures} is absent`,
);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-tarball-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeTgz(
  name: string,
  entries: RawEntry[],
  opts?: { end?: boolean },
): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, gzipSync(rawTar(entries, opts)));
  return file;
}

async function expectBadArchive(
  file: string,
  pattern: RegExp,
  code = 'FATHOM_RESULT_BAD_ARCHIVE',
): Promise<void> {
  const out = join(dir, 'out');
  const err: unknown = await extractResults(file, out).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isFathomError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  expect((err as Error).message).toMatch(pattern);
}

describe('tarballName', () => {
  it('uses the UTC minute and the run uuid', () => {
    const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 59));
    expect(tarballName(d, 'abc-123')).toBe('202601020304_sonobuoy_abc-123.tar.gz');
  });
});

describe('writeResultsTarball', () => {
  it('writes sorted relative entries, directories included, regular files only, hash and size right', async () => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'plugins/e2e/results/global'), { recursive: true });
    await mkdir(join(src, 'meta'), { recursive: true });
    await writeFile(join(src, 'meta/info.json'), '{"plugins":["e2e"]}');
    await writeFile(join(src, 'plugins/e2e/results/global/junit.xml'), '<testsuite/>');
    await writeFile(join(src, 'b.txt'), 'b');
    await writeFile(join(src, 'a.txt'), 'a');
    await symlink('/etc/passwd', join(src, 'plugins/link'));
    const dest = join(dir, 'out.tar.gz');

    const info = await writeResultsTarball(src, dest);

    const bytes = await readFile(dest);
    expect(info.size).toBe(bytes.length);
    expect(info.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const names: string[] = [];
    await tarList({ file: dest, onReadEntry: (e) => void names.push(e.path) });
    expect(names).toEqual([
      'a.txt',
      'b.txt',
      'meta/',
      'meta/info.json',
      'plugins/',
      'plugins/e2e/',
      'plugins/e2e/results/',
      'plugins/e2e/results/global/',
      'plugins/e2e/results/global/junit.xml',
    ]);
    // The same tree gives the same bytes.
    const again = await writeResultsTarball(src, join(dir, 'again.tar.gz'));
    expect(again.sha256).toBe(info.sha256);
    // And it round-trips through the safe extractor.
    const out = join(dir, 'x');
    await extractResults(dest, out);
    expect(await readFile(join(out, 'plugins/e2e/results/global/junit.xml'), 'utf8')).toBe(
      '<testsuite/>',
    );
    expect(existsSync(join(out, 'plugins/link'))).toBe(false);
  });

  it('round-trips long and non-ASCII names (PAX headers) through the safe extractor', async () => {
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
    const out = join(dir, 'out');
    await extractResults(join(dir, 'long.tar.gz'), out);
    expect(await readFile(join(out, deep), 'utf8')).toBe('deep');
  });

  it('leaves the tarball itself out when written inside the source tree', async () => {
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'f'), 'x');
    const dest = join(src, 'self.tar.gz');
    await writeResultsTarball(src, dest);
    const names: string[] = [];
    await tarList({ file: dest, onReadEntry: (e) => void names.push(e.path) });
    expect(names).toEqual(['f']);
  });
});

describe('extractResults on hostile archives', () => {
  it.each([
    ['dotdot', [{ name: '../evil', body: 'x' }], /unsafe path.*"\.\.\/evil"/],
    ['nested dotdot', [{ name: 'a/../../evil', body: 'x' }], /"a\/\.\.\/\.\.\/evil"/],
    ['absolute', [{ name: '/tmp/evil', body: 'x' }], /absolute path.*"\/tmp\/evil"/],
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
  ])('rejects %s naming the entry', async (_what, entries, pattern) => {
    const file = await writeTgz('bad.tar.gz', entries);
    await expectBadArchive(file, pattern);
    expect(existsSync(join(dir, 'evil'))).toBe(false);
    expect(existsSync('/tmp/evil')).toBe(false);
  });

  it('rejects a symlink even after good entries, and writes nothing through it', async () => {
    const file = await writeTgz('bad.tar.gz', [
      { name: 'ok/', type: '5' },
      { name: 'ok/a', body: 'a' },
      { name: 'ok/l', type: '2', linkname: '..' },
      { name: 'ok/l/escaped', body: 'x' },
    ]);
    await expectBadArchive(file, /"ok\/l"/);
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
  });

  it('caps the entry count', async () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x' }));
    const file = await writeTgz('many.tar.gz', entries);
    const err = await extractResults(file, join(dir, 'out'), { maxEntries: 10 }).catch(
      (e: unknown) => e,
    );
    expect(isFathomError(err, 'FATHOM_RESULT_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toMatch(/more than 10 entries.*"f10"/);
  });

  it('caps total bytes from the headers before writing', async () => {
    const file = await writeTgz('big.tar.gz', [
      { name: 'small', body: 'x'.repeat(100) },
      { name: 'huge', body: 'y'.repeat(5000) },
    ]);
    const err = await extractResults(file, join(dir, 'out'), { maxBytes: 1000 }).catch(
      (e: unknown) => e,
    );
    expect(isFathomError(err, 'FATHOM_RESULT_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toMatch(/exceed 1000 bytes.*"huge"/);
    expect(existsSync(join(dir, 'out/huge'))).toBe(false);
  });

  it('stops a gzip bomb of zeros after the end of the archive', async () => {
    const tarBytes = Buffer.concat([
      rawTar([{ name: 'a', body: 'a' }]),
      Buffer.alloc(64 * 1024 * 1024),
    ]);
    const file = join(dir, 'bomb.tar.gz');
    await writeFile(file, gzipSync(tarBytes));
    const err = await extractResults(file, join(dir, 'out'), {
      maxBytes: 1024,
      maxEntries: 10,
    }).catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_RESULT_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toMatch(/decompresses to more than/);
  });

  it('rejects a truncated archive', async () => {
    const full = rawTar([{ name: 'a', body: 'z'.repeat(4000) }]);
    const file = join(dir, 'trunc.tar.gz');
    await writeFile(file, gzipSync(full.subarray(0, 1500)));
    await expectBadArchive(file, /corrupt archive/);
  });

  it('rejects a truncated gzip stream', async () => {
    const gz = gzipSync(rawTar([{ name: 'a', body: 'hello'.repeat(1000) }]));
    const file = join(dir, 'trunc2.tar.gz');
    await writeFile(file, gz.subarray(0, gz.length - 20));
    await expectBadArchive(file, /corrupt archive/);
  });

  it('rejects bytes that are not a tar at all', async () => {
    const file = join(dir, 'junk.tar.gz');
    await writeFile(file, gzipSync(Buffer.from('this is not a tarball at all '.repeat(100))));
    await expectBadArchive(file, /corrupt archive/);
    await writeFile(file, '');
    await expectBadArchive(file, /corrupt archive/);
  });

  it('reads a plain (not gzipped) tar too', async () => {
    const file = join(dir, 'plain.tar');
    await writeFile(
      file,
      rawTar([
        { name: './meta/', type: '5' },
        { name: './meta/info.json', body: '{}' },
      ]),
    );
    const out = join(dir, 'out');
    expect(await extractResults(file, out)).toEqual({ files: 1, bytes: 2 });
    expect(await readFile(join(out, 'meta/info.json'), 'utf8')).toBe('{}');
  });

  it('says FATHOM_RESULTS_NOT_FOUND for a missing file', async () => {
    const err = await extractResults(join(dir, 'nope.tar.gz'), join(dir, 'out')).catch(
      (e: unknown) => e,
    );
    expect(isFathomError(err, 'FATHOM_RESULTS_NOT_FOUND')).toBe(true);
  });
});

describe('openResults', () => {
  it('returns a directory as is', async () => {
    const opened = await openResults(dir);
    expect(opened.root).toBe(dir);
    expect(opened.extracted).toBe(false);
    await opened.cleanup();
    expect(existsSync(dir)).toBe(true);
  });

  it('extracts a tarball to a temp dir that cleanup removes', async () => {
    const file = await writeTgz('r.tar.gz', [{ name: 'meta/info.json', body: '{"plugins":[]}' }]);
    const opened = await openResults(file);
    expect(opened.extracted).toBe(true);
    expect(await readFile(join(opened.root, 'meta/info.json'), 'utf8')).toBe('{"plugins":[]}');
    await opened.cleanup();
    expect(existsSync(opened.root)).toBe(false);
  });

  it('removes the temp dir when extraction fails', async () => {
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('fathom-results-')).length;
    const file = await writeTgz('bad.tar.gz', [{ name: '../x', body: 'x' }]);
    await expect(openResults(file)).rejects.toThrow(/unsafe path/);
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('fathom-results-')).length;
    expect(after).toBeLessThanOrEqual(before);
  });

  it('says FATHOM_RESULTS_NOT_FOUND for a missing path', async () => {
    await expect(openResults(join(dir, 'missing'))).rejects.toMatchObject({
      code: 'FATHOM_RESULTS_NOT_FOUND',
    });
  });
});

describe.skipIf(!haveFixtures)('Sonobuoy real tarballs', () => {
  it.each([
    [
      'cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz',
      'plugins/e2e/results/global/junit_01.xml',
    ],
    [
      'test/integration/testdata/results-4-e2e-failures.tar.gz',
      'plugins/e2e/sonobuoy_results.yaml',
    ],
    ['test/integration/testdata/results-quick-no-failures.tar.gz', 'meta/info.json'],
    // This one's names start with "./".
    ['test/integration/testdata/results-missing-e2e.tar.gz', 'serverversion.json'],
  ])('extracts %s', async (rel, probe) => {
    const out = join(dir, 'out');
    const { files } = await extractResults(join(fixtures, rel), out);
    expect(files).toBeGreaterThan(10);
    expect(existsSync(join(out, probe))).toBe(true);
  });

  it('rejects the tarball helper fixture, which holds a symlink', async () => {
    await expectBadArchive(
      join(fixtures, 'pkg/tarball/testdata/archive.tar.gz'),
      /links are not allowed.*"testdirname\/poem"/,
    );
  });
});
