/**
 * Runs every Sonobuoy post-processing golden (../shared/conformance/sonobuoy, INDEX.md sections
 * 1, 2, 3 and 9) through fathom's processors and compares the trees structurally.
 */
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGojson } from './gojson.js';
import { aggregateTree, type Item, prune } from './item.js';
import { readJunit } from './junit.js';
import { parseItemYaml, readItemYaml } from './manual.js';
import { postProcessPlugin, type ProcessedPlugin, writePluginResults } from './process.js';
import { available } from '../../test/support/required.js';

const shared = new URL('../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const present = available(existsSync(shared), `Sonobuoy conformance goldens: ${shared} is absent`);
const testdata = join(shared, 'pkg/client/results/testdata');
const mockRoot = join(testdata, 'mockResults');

/** Drops empty optional fields everywhere so omitempty differences do not count. */
function normalize(item: Item): Item {
  const copy: Item = JSON.parse(JSON.stringify(item)) as Item;
  const walk = (i: Item): void => {
    prune(i);
    i.items?.forEach(walk);
  };
  walk(copy);
  return copy;
}

async function golden(path: string): Promise<Item> {
  return normalize(JSON.parse(await readFile(path, 'utf8')) as Item);
}

type Row = [key: string, driver: ProcessedPlugin['driver'], format: string, files: string[]];

/** Section 1 of INDEX.md (from Sonobuoy's processing_test.go). */
const table: Row[] = [
  ['job-junit-02', 'Job', 'junit', []],
  ['job-junit-01', 'Job', 'junit', ['output.xml']],
  ['job-junit-03', 'Job', 'junit', ['output.xml', 'output2.xml']],
  ['ds-junit-02', 'DaemonSet', 'junit', []],
  ['ds-junit-01', 'DaemonSet', 'junit', ['output.xml']],
  ['ds-junit-03', 'DaemonSet', 'junit', ['output.xml', 'output2.xml']],
  ['job-raw-02', 'Job', 'raw', []],
  ['job-raw-01', 'Job', 'raw', ['output.xml']],
  ['job-raw-03', 'Job', 'raw', ['output.xml', 'output2.xml']],
  ['job-default-02', 'Job', '', []],
  ['job-default-01', 'Job', '', ['output.xml']],
  ['ds-raw-02', 'DaemonSet', 'raw', []],
  ['ds-raw-01', 'DaemonSet', 'raw', ['output.xml']],
  ['ds-raw-03', 'DaemonSet', 'raw', ['output.xml', 'output2.xml']],
  ['job-errors', 'Job', 'junit', []],
  ['ds-errors-01', 'DaemonSet', 'junit', []],
  ['ds-errors-02', 'DaemonSet', 'junit', []],
  ['job-timeout', 'Job', 'junit', []],
  ['job-complex-err', 'Job', 'junit', []],
  ['job-junit-falsepositive', 'Job', 'junit', []],
  ['job-manual-01', 'Job', 'manual', []],
  ['job-manual-02', 'Job', 'manual', ['manual-results-1.yaml', 'manual-results-2.yaml']],
  ['job-manual-03', 'Job', 'manual', ['manual-results.yaml']],
  ['job-manual-04', 'Job', 'manual', []],
  ['ds-manual-01', 'DaemonSet', 'manual', []],
  ['ds-manual-02', 'DaemonSet', 'manual', ['manual-results-1.yaml', 'manual-results-2.yaml']],
  ['ds-manual-03', 'DaemonSet', 'manual', ['manual-results.yaml']],
  ['ds-manual-04', 'DaemonSet', 'manual', []],
  ['job-manual-arbitrary-details', 'Job', 'manual', ['manual-results-arbitrary-details.yaml']],
  ['ds-manual-arbitrary-details', 'DaemonSet', 'manual', ['manual-results-arbitrary-details.yaml']],
];

describe.skipIf(!present)('Sonobuoy post-processing goldens (INDEX §1)', () => {
  it('covers every case directory in the corpus', async () => {
    const dirs = await readdir(join(mockRoot, 'plugins'));
    expect(dirs.sort()).toEqual(table.map((r) => r[0]).sort());
  });

  it.each(table)(
    '%s (%s, format %j, result-files %j)',
    async (key, driver, resultFormat, resultFiles) => {
      const plugin: ProcessedPlugin = { name: key, driver, resultFormat, resultFiles };
      const got = await postProcessPlugin(mockRoot, plugin);
      expect(normalize(got)).toEqual(
        await golden(join(mockRoot, 'plugins', key, `${key}.golden.json`)),
      );
    },
  );

  describe('written YAML reads back to the same tree', () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'fathom-conformance-'));
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });
    it.each(table)('%s', async (key, driver, resultFormat, resultFiles) => {
      const plugin: ProcessedPlugin = { name: key, driver, resultFormat, resultFiles };
      const got = await postProcessPlugin(mockRoot, plugin);
      const file = await writePluginResults(root, plugin, got);
      expect(normalize(await readItemYaml(file))).toEqual(normalize(got));
    });
  });
});

describe.skipIf(!present)('JUnit reader goldens (INDEX §2)', () => {
  it.each([
    ['junit_good_junit.xml', 'item_good_junit.json'],
    ['junit_multiple_suites.xml', 'item_multiple_suites.json'],
  ])('%s → %s', async (xml, json) => {
    const got = await readJunit(createReadStream(join(testdata, xml)), { name: '', status: '' });
    expect(normalize(got)).toEqual(await golden(join(testdata, json)));
  });

  it('a failing reader gives item_badjunit.json', async () => {
    const failing: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('testErr')) }),
    };
    const got = await readJunit(failing, { name: '', status: '' });
    expect(normalize(got)).toEqual(await golden(join(testdata, 'item_badjunit.json')));
  });

  it.each([
    ['junit-passing-tests.xml', 'passed'],
    ['junit-failed-test.xml', 'failed'],
    ['junit-skipped-tests.xml', 'passed'],
    ['junit-multi-suite-single-failure.xml', 'failed'],
    ['junit-via-configmap.xml', 'passed'],
    // Sonobuoy gives an empty suite "passed" (parse-time status, nothing below it to recompute).
    ['junit-no-tests.xml', 'passed'],
  ])('integration sample %s is %s', async (file, status) => {
    const path = join(shared, 'test/integration/testImage/resources', file);
    const got = aggregateTree(await readJunit(createReadStream(path), { name: file, status: '' }));
    expect(got.status).toBe(status);
  });
});

describe.skipIf(!present)('manual results samples (INDEX §1 manualProcessing, §3)', () => {
  const dir = join(mockRoot, 'manualProcessing');

  it('parses the valid samples, keeping nested details', async () => {
    const a = await readItemYaml(join(dir, 'manual-results.yaml'));
    expect(a.items?.map((i) => [i.name, i.status])).toEqual([
      ['a test file', 'status 1'],
      ['another test file', 'status 2'],
    ]);
    const b = await readItemYaml(join(dir, 'manual-results-arbitrary-details.yaml'));
    expect(JSON.stringify(b)).toContain('"array-of-integers":[1,2,3]');
  });

  it('rejects invalid-results.yaml (meta is a list)', async () => {
    await expect(readItemYaml(join(dir, 'invalid-results.yaml'))).rejects.toThrow(
      /meta: expected a map of strings/,
    );
    const text = await readFile(join(dir, 'invalid-results.yaml'), 'utf8');
    expect(() => parseItemYaml(text)).toThrow();
  });

  describe('integration expectations for the manual test image', () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'fathom-manual-'));
      const res = join(shared, 'test/integration/testImage/resources');
      for (const f of ['manual-results-1.yaml', 'manual-results-2.yaml']) {
        await cp(join(res, f), join(root, 'plugins/job-manual/results/global', f));
        for (const node of ['n1', 'n2', 'n3'])
          await cp(join(res, f), join(root, 'plugins/ds-manual/results', node, f));
      }
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('a Job with both files aggregates to custom-status: 1, failed: 1, passed: 2', async () => {
      const got = await postProcessPlugin(root, {
        name: 'job-manual',
        driver: 'Job',
        resultFormat: 'manual',
        resultFiles: [],
      });
      expect(got.status).toBe('custom-status: 1, failed: 1, passed: 2');
    });

    it('a DaemonSet over N nodes aggregates to N, N, 2N', async () => {
      const got = await postProcessPlugin(root, {
        name: 'ds-manual',
        driver: 'DaemonSet',
        resultFormat: 'manual',
        resultFiles: [],
      });
      expect(got.status).toBe('custom-status: 3, failed: 3, passed: 6');
      expect(got.items?.map((n) => n.status)).toEqual(
        Array(3).fill('custom-status: 1, failed: 1, passed: 2'),
      );
    });
  });
});

describe.skipIf(!present)('gojson extracted cases (INDEX §9)', () => {
  const dir = join(shared, 'extracted/gojson');
  it.each(['real-example', 'fail-then-pass', 'not-json'])('%s', async (name) => {
    const got = await readGojson(createReadStream(join(dir, `${name}.jsonl`)), {
      name: 'suite',
      status: '',
    });
    expect(normalize(got)).toEqual(await golden(join(dir, `${name}.expected.json`)));
  });
});

/**
 * Where fathom differs from Sonobuoy on purpose. Each case names what Sonobuoy v0.57.5 does and
 * why fathom does better; none of these inputs appear in Sonobuoy's goldens.
 */
describe('deliberate differences from Sonobuoy', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fathom-differences-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const put = async (rel: string, content: string | Buffer): Promise<void> => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  };
  const run = (name: string, resultFormat: string): Promise<Item> =>
    postProcessPlugin(root, { name, driver: 'Job', resultFormat, resultFiles: [] });

  it('error.json without an "error" key keeps its file name (Sonobuoy names the leaf "<nil>")', async () => {
    await put('plugins/no-error-key/errors/global/error.json', '{"data":"x"}');
    expect((await run('no-error-key', 'junit')).items![0]!.name).toBe('error.json');
  });

  it('gojson keeps reading after a broken line (Sonobuoy stops at the first one and loses the rest)', async () => {
    await put(
      'plugins/gojson-broken/results/global/t.json',
      '{"Action":"pass","Test":"a"}\nplain output\n{"Action":"fail","Test":"b"}\n',
    );
    const file = (await run('gojson-broken', 'gojson')).items![0]!;
    expect(file.items!.map((i) => i.name)).toEqual(['a', 'b']);
    expect(file.meta!.error).toMatch(/invalid character 'p'/);
  });

  it('junit suites nested in suites become child items (Sonobuoy silently drops their tests)', async () => {
    await put(
      'plugins/nested/results/global/n.xml',
      '<testsuites><testsuite name="outer"><testsuite name="inner"><testcase name="t"><failure/></testcase></testsuite></testsuite></testsuites>',
    );
    const item = await run('nested', 'junit');
    expect(item.status).toBe('failed');
    expect(item.items![0]!.items![0]!.items![0]!.name).toBe('inner');
  });

  it('junit with invalid UTF-8 is read with U+FFFD (Sonobuoy rejects the whole file as unknown)', async () => {
    await put(
      'plugins/utf8/results/global/u.xml',
      Buffer.from([
        ...Buffer.from('<testsuite><testcase name="'),
        0xff,
        ...Buffer.from('"/></testsuite>'),
      ]),
    );
    expect((await run('utf8', 'junit')).status).toBe('passed');
  });

  it('a manual file that fails to parse says why in meta.error (Sonobuoy leaves it unknown without a reason)', async () => {
    await put('plugins/manual-bad/results/global/r.yaml', 'items: 3\n');
    const file = (await run('manual-bad', 'manual')).items![0]!;
    expect(file.status).toBe('unknown');
    expect(file.meta!.error).toMatch(/items: expected a list/);
  });

  it('result files that are symlinks are never followed (Sonobuoy opens them)', async () => {
    await put('outside.xml', '<testsuite><testcase name="secret"/></testsuite>');
    await put('plugins/links/results/global/keep', '');
    await symlink(join(root, 'outside.xml'), join(root, 'plugins/links/results/global/l.xml'));
    expect((await run('links', 'junit')).items).toBeUndefined();
  });
});
