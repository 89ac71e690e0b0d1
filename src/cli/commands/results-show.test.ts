/**
 * `fathom results` on a tarball reads it without extracting it (detailed text output reads it twice):
 * for every mode and output, the tarball must print exactly what its extracted directory prints,
 * and fail the same way.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FathomError } from '../../core/errors.js';
import type { ArchiveLimits } from '../../results/archive.js';
import { extractResults, writeResultsTarball } from '../../results/tarball.js';
import { capturingIo } from '../../../test/support/main.js';
import type { ResultsOptions } from './results.js';
import { showResults } from './results-show.js';
import { available } from '../../../test/support/required.js';

const fixtures = new URL('../../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const haveFixtures = available(
  existsSync(fixtures),
  `Sonobuoy tarball fixtures: ${fixtures} is absent`,
);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fathom-results-show-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Shown {
  out: string;
  error?: { code: string; message: string };
}

async function show(
  path: string,
  o: Partial<ResultsOptions>,
  limits: ArchiveLimits = {},
): Promise<Shown> {
  const { io, out } = capturingIo({ cwd: work });
  const options: ResultsOptions = { mode: 'report', output: 'text', format: 'text', ...o };
  try {
    await showResults(path, options, io, o.mode !== undefined, limits);
    return { out: out() };
  } catch (err) {
    if (!(err instanceof FathomError)) throw err;
    return {
      out: out(),
      error: { code: err.code, message: err.message.replaceAll(path, '<path>') },
    };
  }
}

const cases: Partial<ResultsOptions>[] = [
  {},
  { mode: 'detailed' },
  { mode: 'detailed', skipPrefix: true },
  { mode: 'dump' },
  { mode: 'readable' },
  { output: 'json' },
  { output: 'yaml', mode: 'detailed' },
  { output: 'json', mode: 'dump' },
  { format: 'html' },
  { format: 'junit' },
];

/** Extracts `tarball` into a directory of the same base name (the HTML page names its source). */
async function extracted(tarball: string): Promise<string> {
  const dir = join(await mkdtemp(join(work, 'x-')), basename(tarball));
  await extractResults(tarball, dir);
  return dir;
}

async function expectSame(
  tarball: string,
  extra: Partial<ResultsOptions>[] = [{}],
  limits: ArchiveLimits = {},
): Promise<void> {
  const dir = await extracted(tarball);
  let printed = 0;
  for (const base of extra) {
    for (const c of cases) {
      const o = { ...c, ...base };
      const [a, b] = [await show(tarball, o, limits), await show(dir, o)];
      expect(a, JSON.stringify(o)).toEqual(b);
      if (a.out.length > 0) printed++;
    }
  }
  // Not only errors: the comparison covers printed output.
  expect(printed).toBeGreaterThan(0);
}

describe.skipIf(!haveFixtures)('a Sonobuoy tarball prints what its directory prints', () => {
  it.each([
    [
      'cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz',
      [
        { plugin: 'e2e' },
        { plugin: 'custom-status', node: 'another-output-file' },
        { plugin: 'tarresultsds' },
        { plugin: 'nowhere' },
      ],
    ],
    [
      'test/integration/testdata/results-4-e2e-failures.tar.gz',
      [{}, { plugin: 'sonobuoy' }, { plugin: 'e2e', node: 'Kubernetes e2e suite' }],
    ],
    ['test/integration/testdata/results-missing-e2e.tar.gz', [{}, { plugin: 'e2e' }]],
  ] as const)('%s', async (rel, extra) => {
    await expectSame(join(fixtures, rel), [...extra]);
  });
});

describe('a tarball from fathom prints what its directory prints', () => {
  it('with good, missing, unreadable and malformed plugins and health', async () => {
    const src = join(work, 'src');
    await mkdir(join(src, 'meta'), { recursive: true });
    await writeFile(
      join(src, 'meta/info.json'),
      JSON.stringify({ plugins: ['good', 'missing', 'dir', 'bad', 'files'] }),
    );
    await writeFile(join(src, 'meta/clusterhealth.json'), '{"api_version": 5');
    await writeFile(join(src, 'meta/config.json'), '{"UUID":"u-1","Namespace":"ns"}');
    const plugin = (name: string): string => join(src, 'plugins', name);
    await mkdir(plugin('good'), { recursive: true });
    await writeFile(
      join(plugin('good'), 'sonobuoy_results.yaml'),
      "name: good\nstatus: failed\nitems:\n- name: '[It] a test\n    wrapped'\n  status: failed\n  details:\n    failure: |-\n      boom\n      bang\n- name: other\n  status: passed\n",
    );
    await mkdir(join(plugin('dir'), 'sonobuoy_results.yaml'), { recursive: true });
    await mkdir(plugin('bad'), { recursive: true });
    await writeFile(join(plugin('bad'), 'sonobuoy_results.yaml'), 'name: [unclosed\n');
    await mkdir(join(plugin('files'), 'results/global'), { recursive: true });
    await writeFile(join(plugin('files'), 'results/global/out.txt'), 'hello\n');
    await writeFile(
      join(plugin('files'), 'sonobuoy_results.yaml'),
      'name: files\nstatus: passed\nitems:\n- name: out.txt\n  status: passed\n  meta:\n    file: results/global/out.txt\n',
    );
    const leaves = (files: string[]): string =>
      `name: p\nstatus: passed\nitems:\n${files.map((f, i) => `- name: l${i}\n  status: passed\n  meta:\n    file: '${f}'\n`).join('')}`;
    for (const [name, files] of [
      [
        'outside',
        ['results/global/out.txt', '../good/sonobuoy_results.yaml', '../../meta/info.json'],
      ],
      ['absolute', ['/etc/passwd']],
      ['nofile', ['results/global/out.txt', 'results/none.txt']],
      ['backslash', ['results\\global\\out.txt']],
    ] as const) {
      await mkdir(join(plugin(name), 'results/global'), { recursive: true });
      await writeFile(join(plugin(name), 'results/global/out.txt'), `${name}\n`);
      await writeFile(join(plugin(name), 'sonobuoy_results.yaml'), leaves([...files]));
    }
    const tarball = join(work, 'run.tar.gz');
    await writeResultsTarball(src, tarball);
    await expectSame(tarball, [
      {},
      { plugin: 'files' },
      { plugin: 'sonobuoy' },
      { plugin: 'outside' },
      { plugin: 'absolute' },
      { plugin: 'nofile' },
      { plugin: 'backslash' },
    ]);
    // Files that do not fit in memory: the tarball is extracted instead, with the same output.
    await expectSame(tarball, [{}, { plugin: 'files' }], { maxKeptBytes: 10 });

    await writeFile(join(src, 'meta/clusterhealth.json'), '{"api_version":"v1.33.0"}');
    await writeResultsTarball(src, tarball);
    await expectSame(tarball, [{}, { plugin: 'good' }]);
  });

  it('says FATHOM_RESULTS_NOT_FOUND for a missing path either way', async () => {
    const r = await show(join(work, 'nope.tar.gz'), {});
    expect(r.error?.code).toBe('FATHOM_RESULTS_NOT_FOUND');
  });
});
