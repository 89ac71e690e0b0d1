import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { loadPluginPaths, parsePluginDocuments } from './loader.js';
import { available } from '../../test/support/required.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const sono = path.resolve(repo, '../shared/conformance/sonobuoy');
const hasFixtures = available(existsSync(sono), `Sonobuoy plugin fixtures: ${sono} is absent`);
const builtinDir = path.join(repo, 'plugins');

async function failure(p: Promise<unknown>): Promise<FathomError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FathomError);
  return err as FathomError;
}

const load = (refs: string[], cwd = sono) => loadPluginPaths(refs, { builtinDir, cwd });

describe.skipIf(!hasFixtures)(
  `Sonobuoy plugin fixtures${hasFixtures ? '' : ' (SKIPPED: ../shared/conformance/sonobuoy not found)'}`,
  () => {
    it('loads a directory: only *.yaml/*.yml, sorted, README ignored', async () => {
      const { plugins, warnings } = await load(['pkg/plugin/loader/testdata/onlyvalid']);
      expect(plugins.map((p) => [p.name, p.driver, p.source.file])).toEqual([
        [
          'test-daemon-set-plugin',
          'DaemonSet',
          'pkg/plugin/loader/testdata/onlyvalid/daemonset.yaml',
        ],
        ['test-job-plugin', 'Job', 'pkg/plugin/loader/testdata/onlyvalid/job.yml'],
      ]);
      expect(plugins[1]!.container).toEqual({
        name: 'heptio-e2e',
        image: 'gcr.io/heptio-images/heptio-e2e:master',
        command: [],
        args: [],
        env: [],
      });
      expect(plugins[1]!.resultFormat).toBe('raw');
      // Old definitions use result-type, which Sonobuoy ignores: say so.
      expect(warnings).toEqual([
        'pkg/plugin/loader/testdata/onlyvalid/daemonset.yaml:4:16: sonobuoy-config.result-type is ignored (the field is result-format); results will be processed as raw',
        'pkg/plugin/loader/testdata/onlyvalid/job.yml:4:16: sonobuoy-config.result-type is ignored (the field is result-format); results will be processed as raw',
      ]);
    });

    it('rejects plugin.d because its invalid.yml is empty', async () => {
      const err = await failure(load(['pkg/plugin/loader/testdata/plugin.d']));
      expect(err.code).toBe('FATHOM_PLUGIN_INVALID');
      expect(err.message).toBe(
        'pkg/plugin/loader/testdata/plugin.d/invalid.yml:1:1: holds no plugin definition (the file is empty)',
      );
    });

    it.each([
      ['set-true.yml', true],
      ['set-false.yml', false],
      ['not-set.yml', false],
    ])('reads skip-cleanup from %s', async (file, expected) => {
      const { plugins } = await load([`pkg/plugin/loader/testdata/skip-cleanup/${file}`]);
      expect(plugins[0]!.skipCleanup).toBe(expected);
    });

    it('reports the skip-cleanup folder as duplicates, naming both files', async () => {
      const err = await failure(load(['pkg/plugin/loader/testdata/skip-cleanup']));
      expect(err.code).toBe('FATHOM_PLUGIN_DUPLICATE');
      expect(err.message).toBe(
        'plugin name "test-plugin-skip-cleanup" is used twice: pkg/plugin/loader/testdata/skip-cleanup/not-set.yml:3:16 and pkg/plugin/loader/testdata/skip-cleanup/set-false.yml:3:16 (rename one with --plugin FILE@NEWNAME)',
      );
    });

    it.each([
      ['ds-junit-passing-tar', 'DaemonSet', 'junit', []],
      ['ds-manual', 'DaemonSet', 'manual', ['manual-results-1.yaml', 'manual-results-2.yaml']],
      [
        'ds-manual-no-done',
        'DaemonSet',
        'manual',
        ['manual-results-1.yaml', 'manual-results-2.yaml'],
      ],
      ['ds-raw-passing-tar', 'DaemonSet', 'raw', []],
      ['job-junit-passing-singlefile', 'Job', 'junit', []],
      ['job-junit-singlefile-configmap', 'Job', 'junit', []],
      ['job-manual-directory', 'Job', 'manual', []],
      ['job-manual-no-done', 'Job', 'manual', ['manual-results-1.yaml', 'manual-results-2.yaml']],
      ['job-manual', 'Job', 'manual', []],
      ['job-raw-singlefile', 'Job', 'raw', []],
      [
        'manual-with-arbitrary-details',
        'Job',
        'manual',
        ['manual-results-with-arbitrary-details.yaml'],
      ],
    ])('loads the integration test image plugin %s', async (file, driver, format, files) => {
      const { plugins, warnings } = await load([`test/integration/testImage/yaml/${file}.yaml`]);
      expect(plugins).toHaveLength(1);
      const p = plugins[0]!;
      expect([p.driver, p.resultFormat, p.resultFiles]).toEqual([driver, format, files]);
      expect(p.container.image).toBe('sonobuoy/testimage:v0.1');
      expect(p.container.command).toEqual(['/testImage']);
      expect(warnings).toEqual([]);
    });

    it('keeps config-map entries and the manifest as written', async () => {
      const { plugins } = await load([
        'test/integration/testImage/yaml/job-junit-singlefile-configmap.yaml',
      ]);
      const p = plugins[0]!;
      expect(Object.keys(p.configMap)).toEqual(['junit-via-configmap.xml']);
      expect(p.configMap['junit-via-configmap.xml']).toMatch(/^<testsuite name='test suite A'/);
      expect(p.container.args).toEqual([
        'single-file',
        '/tmp/sonobuoy/config/junit-via-configmap.xml',
      ]);
      expect((p.manifest.spec as Record<string, unknown>).resources).toEqual({});
      expect(Object.isFrozen(p.manifest)).toBe(true);
      expect(Object.isFrozen(p.container.args)).toBe(true);
    });

    it('finds the duplicate names in the test image folder', async () => {
      const err = await failure(load(['test/integration/testImage/yaml']));
      expect(err.code).toBe('FATHOM_PLUGIN_DUPLICATE');
      expect(err.message).toMatch(
        /^plugin name "ds-manual" is used twice: .*ds-manual-no-done\.yaml:3:16 and .*ds-manual\.yaml:3:16/,
      );
    });

    it('loads the good integration plugins, with description, url and a podSpec', async () => {
      const dir = 'test/integration/testdata/plugins/good';
      const { plugins } = await load([
        `${dir}/hello-world.yaml`,
        `${dir}/hw-2.yaml`,
        `${dir}/sidecar.yaml`,
      ]);
      expect(plugins.map((p) => p.name)).toEqual(['hello-world', 'hello-world2', 'sidecarplugin']);
      expect(plugins[0]!.description).toBe('This is a plugin description.');
      expect(plugins[0]!.sourceUrl).toBe('foo.com');
      const podSpec = plugins[2]!.manifest.podSpec as { containers: { name: string }[] };
      expect(podSpec.containers.map((c) => c.name)).toEqual(['sidecar']);
      expect(plugins[2]!.nodeSelector).toEqual({});
      // setImagePullPolicy.yaml reuses hello-world: the whole folder is a duplicate set.
      const err = await failure(load([dir]));
      expect(err.message).toMatch(
        /"hello-world" is used twice: .*hello-world\.yaml:3:16 and .*setImagePullPolicy\.yaml:3:16/,
      );
    });

    it('rejects bad-plugin.yaml and badpluginname.yaml with located messages', async () => {
      const dir = 'test/integration/testdata/plugins';
      const bad = await failure(load([`${dir}/bad-plugin.yaml`]));
      expect(bad.code).toBe('FATHOM_PLUGIN_INVALID');
      expect(bad.message).toBe(
        `${dir}/bad-plugin.yaml:1:18: sonobuoy-config must be a mapping, not a string`,
      );
      const name = await failure(load([`${dir}/badpluginname.yaml`]));
      expect(name.message).toBe(
        `${dir}/badpluginname.yaml:3:16: sonobuoy-config.plugin-name "badName" is invalid: use lowercase letters, digits, '-' and '.' (an RFC 1123 subdomain, as Kubernetes requires)`,
      );
      expect(name.details).toMatchObject({
        line: 3,
        column: 16,
        field: 'sonobuoy-config.plugin-name',
      });
    });

    it('keeps extra-volumes in the manifest', async () => {
      const { plugins } = await load(['pkg/plugin/manifest/testdata/extravolumes.yaml']);
      expect(plugins[0]!.manifest['extra-volumes']).toEqual([
        { name: 'test-volume', awsElasticBlockStore: { volumeID: '112358', fsType: 'ext4' } },
      ]);
      expect(plugins[0]!.container.env).toEqual([
        { name: 'E2E_FOCUS', value: 'Pods should be submitted and removed' },
      ]);
    });

    it('loads testPluginDir, ignoring the .ext file', async () => {
      const { plugins } = await load(['cmd/sonobuoy/app/testdata/testPluginDir']);
      expect(plugins.map((p) => [p.name, p.container.image])).toEqual([
        ['plugin1', 'foo/bar:v1'],
        ['plugin2', 'foo/bar:v2'],
      ]);
    });

    it('skips valueFrom variables for the local env but keeps them in the manifest', async () => {
      const { plugins } = await load(['pkg/config/testdata/plugins.d']);
      expect(plugins.map((p) => p.name)).toEqual(['e2e', 'heptio-e2e', 'systemd-logs']);
      const logs = plugins[2]!;
      expect(logs.container.env).toEqual([
        { name: 'RESULTS_DIR', value: '/tmp/results' },
        { name: 'CHROOT_DIR', value: '/node' },
      ]);
      const env = (logs.manifest.spec as { env: { name: string }[] }).env;
      expect(env.map((e) => e.name)).toEqual(['NODE_NAME', 'RESULTS_DIR', 'CHROOT_DIR']);
    });

    it('renames with file@newname, in the manifest too', async () => {
      const { plugins } = await load([
        'test/integration/testdata/plugins/good/hello-world.yaml@customname',
        'test/integration/testdata/plugins/good/setImagePullPolicy.yaml',
      ]);
      expect(plugins.map((p) => p.name)).toEqual(['customname', 'hello-world']);
      expect(plugins[0]!.manifest['sonobuoy-config']).toMatchObject({
        'plugin-name': 'customname',
      });
    });
  },
);

describe('loadPluginPaths on temp files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fathom-loader-'));
    const def = (name: string) =>
      `sonobuoy-config:\n  driver: job\n  plugin-name: ${name}\nspec:\n  name: plugin\n  image: busybox\n`;
    await writeFile(
      path.join(dir, 'two.yaml'),
      `---\n${def('a')}---\n# only a comment\n---\n${def('b')}`,
    );
    await mkdir(path.join(dir, 'set'));
    await writeFile(path.join(dir, 'set', 'b.yml'), def('d'));
    await writeFile(path.join(dir, 'set', 'a.yaml'), def('c'));
    await writeFile(path.join(dir, 'set', 'notes.txt'), 'not yaml');
    await mkdir(path.join(dir, 'set', 'nested.yaml'));
    await mkdir(path.join(dir, 'empty'));
    await writeFile(path.join(dir, 'at@home.yaml'), def('at'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const loadHere = (refs: string[], stdin?: string) =>
    loadPluginPaths(refs, { builtinDir, cwd: dir, ...(stdin === undefined ? {} : { stdin }) });

  it('reads several documents per file, skipping empty ones, with their document index', async () => {
    const { plugins } = await loadHere(['two.yaml']);
    expect(plugins.map((p) => [p.name, p.driver, p.source])).toEqual([
      ['a', 'Job', { file: 'two.yaml', document: 0 }],
      ['b', 'Job', { file: 'two.yaml', document: 2 }],
    ]);
  });

  it('reads a directory sorted and non-recursively, ignoring other files', async () => {
    const { plugins } = await loadHere(['set']);
    expect(plugins.map((p) => [p.name, p.source.file])).toEqual([
      ['c', path.join('set', 'a.yaml')],
      ['d', path.join('set', 'b.yml')],
    ]);
  });

  it('resolves bare names to the example plugins', async () => {
    const { plugins } = await loadHere(['smoke-junit', 'node-inventory']);
    expect(plugins.map((p) => [p.name, p.driver, p.source.file])).toEqual([
      ['smoke-junit', 'Job', path.join(builtinDir, 'smoke-junit.yaml')],
      ['node-inventory', 'DaemonSet', path.join(builtinDir, 'node-inventory.yaml')],
    ]);
  });

  it('reads - from the given stdin text, once', async () => {
    const text = 'sonobuoy-config: {driver: DaemonSet, plugin-name: piped}\nspec: {image: x}\n';
    const { plugins } = await loadHere(['-@renamed'], text);
    expect(plugins.map((p) => [p.name, p.source.file])).toEqual([['renamed', '-']]);
    const err = await failure(loadHere(['-', '-'], text));
    expect(err.code).toBe('FATHOM_BAD_FLAG_VALUE');
  });

  it('prefers an existing path that contains @ over renaming', async () => {
    const { plugins } = await loadHere(['at@home.yaml']);
    expect(plugins[0]!.name).toBe('at');
  });

  it.each([
    [
      ['nope'],
      'FATHOM_PLUGIN_NOT_FOUND',
      /^--plugin nope: no such file, directory or built-in plugin \(built-in: node-inventory, smoke-gojson, smoke-junit\)$/,
    ],
    [['missing.yaml'], 'FATHOM_PLUGIN_NOT_FOUND', /^--plugin missing\.yaml: no such file/],
    [
      ['empty'],
      'FATHOM_PLUGIN_NOT_FOUND',
      /^--plugin empty: the directory holds no \*\.yaml or \*\.yml file$/,
    ],
    [['https://example.com/p.yaml'], 'FATHOM_PLUGIN_NOT_FOUND', /URLs are not supported/],
    [
      ['two.yaml@x'],
      'FATHOM_BAD_FLAG_VALUE',
      /^--plugin two\.yaml@x: renaming needs exactly one plugin, but two\.yaml holds 2$/,
    ],
    [
      ['set/a.yaml@Bad_Name'],
      'FATHOM_BAD_FLAG_VALUE',
      /^--plugin set\/a\.yaml@Bad_Name: new plugin name "Bad_Name" is invalid/,
    ],
    [['set/a.yaml@sonobuoy'], 'FATHOM_BAD_FLAG_VALUE', /new plugin name "sonobuoy" is reserved/],
    [
      ['set', 'set/a.yaml'],
      'FATHOM_PLUGIN_DUPLICATE',
      /^plugin name "c" is used twice: set\/a\.yaml:3:16 and set\/a\.yaml:3:16/,
    ],
    [
      ['set/a.yaml@d', 'set'],
      'FATHOM_PLUGIN_DUPLICATE',
      /^plugin name "d" is used twice: set\/a\.yaml@d and set\/b\.yml:3:16/,
    ],
  ])('rejects %j with %s', async (refs, code, message) => {
    const err = await failure(loadHere(refs));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('parsePluginDocuments reports YAML syntax errors with line and column', () => {
    const cases: [string, string][] = [
      ['spec: {}\nspec: {}\n', 'x.yaml:2:1: Map keys must be unique'],
      ['sonobuoy-config:\n  driver: [Job\n', 'x.yaml:3:1: '],
      ['a: 1\n---\nb: "open\n', 'x.yaml:4:1: Missing closing "quote'],
    ];
    for (const [text, prefix] of cases) {
      expect(() => parsePluginDocuments(text, 'x.yaml')).toThrow(
        expect.objectContaining({
          code: 'FATHOM_YAML_SYNTAX',
          message: expect.stringContaining(prefix),
        }),
      );
    }
  });
});
