import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FathomError } from '../core/errors.js';
import type { GenPluginOptions } from './gen.js';
import { defaultPodSpec, generatePluginDefinition, renderPluginManifest } from './gen.js';
import { parsePluginDocuments } from './loader.js';
import { renderGoYaml } from './render.js';
import { available } from '../../test/support/required.js';

const goldenDir = fileURLToPath(
  new URL('../../../shared/conformance/sonobuoy/cmd/sonobuoy/app/testdata/', import.meta.url),
);
const hasGoldens = available(
  existsSync(goldenDir),
  `Sonobuoy gen plugin goldens: ${goldenDir} is absent`,
);
const golden = (name: string) =>
  readFileSync(path.join(goldenDir, `pluginDef-${name}.golden`), 'utf8');

type Obj = Record<string, unknown>;
const windows = { foo: 'bar', 'kubernetes.io/os': 'windows' };

/**
 * Sonobuoy's gen_plugin_def_test builds these manifests directly (bypassing the flag
 * defaults, hence driver "" and container name ""); rendering them must give the golden bytes.
 */
const goldenInputs: [string, Obj][] = [
  [
    'container',
    {
      'sonobuoy-config': { driver: '', 'plugin-name': 'emptynotallowed' },
      spec: { command: ['/bin/sh', '-c', './run.sh'], image: 'img', name: 'n' },
    },
  ],
  [
    'env',
    {
      'sonobuoy-config': { driver: '', 'plugin-name': 'emptynotallowed' },
      spec: { env: [{ name: 'FOO', value: 'bar' }], name: '' },
    },
  ],
  ['sonoconfig', { 'sonobuoy-config': { driver: 'Job', 'plugin-name': 'n' }, spec: { name: '' } }],
  [
    'quotes',
    {
      'sonobuoy-config': { driver: '', 'plugin-name': 'n' },
      spec: {
        command: ['/bin/sh', '- c', './run.sh'],
        env: [{ name: 'FOO', value: '- bar' }],
        image: 'img:v1',
        name: 'n - foo',
      },
    },
  ],
  [
    'default-podspec',
    {
      'sonobuoy-config': { driver: '', 'plugin-name': 'n' },
      spec: { name: '' },
      podSpec: defaultPodSpec('Job'),
    },
  ],
  [
    'nodeselector-default-podspec',
    {
      'sonobuoy-config': { driver: '', 'plugin-name': 'n' },
      spec: { name: '' },
      podSpec: { ...defaultPodSpec('Job'), nodeSelector: windows },
    },
  ],
  [
    'nodeselector',
    {
      'sonobuoy-config': { driver: '', 'plugin-name': 'n' },
      spec: { name: '' },
      podSpec: { ...defaultPodSpec('Job'), nodeSelector: windows },
    },
  ],
];

/**
 * The same cases through fathom's flag-level options. `adjust` applies the documented
 * differences to the parsed golden: the CLI always sets driver Job, result-format raw and
 * container name `plugin`, and fathom defaults the image (Sonobuoy requires --image) and
 * the command (./run.sh, as Sonobuoy's flag default).
 */
const flagCases: [string, GenPluginOptions][] = [
  ['container', { name: 'emptynotallowed', image: 'img', cmd: ['/bin/sh', '-c', './run.sh'] }],
  ['env', { name: 'emptynotallowed', env: ['FOO=bar'] }],
  ['sonoconfig', { name: 'n', type: 'Job' }],
  [
    'quotes',
    { name: 'n', image: 'img:v1', cmd: ['/bin/sh', '- c', './run.sh'], env: ['FOO=- bar'] },
  ],
  ['default-podspec', { name: 'n', showDefaultPodspec: true }],
  [
    'nodeselector-default-podspec',
    { name: 'n', showDefaultPodspec: true, nodeSelector: ['foo=bar', 'kubernetes.io/os=windows'] },
  ],
  // Sonobuoy's own case sets showDefaultPodSpec too; fathom keeps the default podSpec even without it.
  ['nodeselector', { name: 'n', nodeSelector: ['foo=bar', 'kubernetes.io/os=windows'] }],
];

function adjust(g: Obj): Obj {
  const cfg = g['sonobuoy-config'] as Obj;
  const spec = g.spec as Obj;
  return {
    ...g,
    'sonobuoy-config': { ...cfg, driver: 'Job', 'result-format': 'raw' },
    spec: {
      ...spec,
      name: 'plugin',
      image: spec.image ?? 'busybox:1.36',
      command: spec.command ?? ['./run.sh'],
    },
  };
}

describe.skipIf(!hasGoldens)(
  `sonobuoy gen plugin goldens${hasGoldens ? '' : ' (SKIPPED: ../shared/conformance/sonobuoy not found)'}`,
  () => {
    it.each(goldenInputs)('renders pluginDef-%s.golden byte for byte', (name, manifest) => {
      expect(renderPluginManifest(manifest)).toBe(golden(name));
    });

    it.each(flagCases)(
      'generates the equivalent of pluginDef-%s.golden from flags',
      async (name, opts) => {
        const text = await generatePluginDefinition(opts);
        expect(parse(text)).toEqual(adjust(parse(golden(name)) as Obj));
        // And it loads back.
        const { plugins, warnings } = parsePluginDocuments(text, 'gen.yaml');
        expect([plugins[0]!.name, warnings]).toEqual([opts.name, []]);
      },
    );
  },
);

describe('generatePluginDefinition', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fathom-gen-'));
    await writeFile(path.join(dir, 'settings.yaml'), 'a: 1\nb: [x, y]\n');
    await writeFile(path.join(dir, 'broken.json'), '{"a": [1,\n');
    await writeFile(path.join(dir, 'notes.txt'), 'free text: [ not yaml');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads --configmap files up to the 1 MiB config-map limit, no more', async () => {
    // Keys count too: "a.txt" and "b.txt" are 5 bytes each.
    await writeFile(path.join(dir, 'a.txt'), 'a'.repeat(512 * 1024 - 5));
    await writeFile(path.join(dir, 'b.txt'), 'b'.repeat(512 * 1024 - 5));
    const text = await generatePluginDefinition({
      name: 'p',
      cwd: dir,
      configmap: ['a.txt', 'b.txt'],
    });
    expect(Object.keys(parsePluginDocuments(text, 'gen').plugins[0]!.configMap)).toEqual([
      'a.txt',
      'b.txt',
    ]);
    await writeFile(path.join(dir, 'b.txt'), 'b'.repeat(512 * 1024 - 4));
    for (const configmap of [['a.txt', 'b.txt'], ['/dev/zero']]) {
      const err = await generatePluginDefinition({ name: 'p', cwd: dir, configmap }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FathomError);
      expect((err as FathomError).code).toBe('FATHOM_PLUGIN_TOO_LARGE');
      expect((err as FathomError).message).toBe(
        `--configmap "${configmap.at(-1)}": the config-map files are over the 1 MiB limit together`,
      );
    }
  });

  it('writes every option, sorted like Sonobuoy, and loads back unchanged', async () => {
    const text = await generatePluginDefinition({
      name: 'inv',
      type: 'DaemonSet',
      format: 'manual',
      image: 'alpine:3.20',
      cmd: ['/bin/sh', '-c'],
      args: ['echo hi > $RESULTS_DIR/out.yaml'],
      env: ['ZED=last', 'ALPHA=yes', 'PORT=8080', 'EMPTY='],
      configmap: ['settings.yaml', 'notes.txt'],
      description: 'Inventory.',
      url: 'https://example.com/inv',
      nodeSelector: ['kubernetes.io/os=linux'],
      cwd: dir,
    });
    expect(text).toBe(`config-map:
  notes.txt: 'free text: [ not yaml'
  settings.yaml: |
    a: 1
    b: [x, y]
podSpec:
  containers: []
  dnsPolicy: ClusterFirstWithHostNet
  hostIPC: true
  hostNetwork: true
  hostPID: true
  nodeSelector:
    kubernetes.io/os: linux
  serviceAccountName: sonobuoy-serviceaccount
  tolerations:
  - operator: Exists
  volumes:
  - hostPath:
      path: /
    name: root
sonobuoy-config:
  description: Inventory.
  driver: DaemonSet
  plugin-name: inv
  result-format: manual
  source-url: https://example.com/inv
spec:
  args:
  - echo hi > $RESULTS_DIR/out.yaml
  command:
  - /bin/sh
  - -c
  env:
  - name: ALPHA
    value: "yes"
  - name: EMPTY
    value: ""
  - name: PORT
    value: "8080"
  - name: ZED
    value: last
  image: alpine:3.20
  name: plugin
`);
    const p = parsePluginDocuments(text, 'gen.yaml').plugins[0]!;
    expect(p).toMatchObject({
      name: 'inv',
      driver: 'DaemonSet',
      resultFormat: 'manual',
      description: 'Inventory.',
      sourceUrl: 'https://example.com/inv',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      configMap: { 'settings.yaml': 'a: 1\nb: [x, y]\n', 'notes.txt': 'free text: [ not yaml' },
    });
    expect(p.container.env).toEqual([
      { name: 'ALPHA', value: 'yes' },
      { name: 'EMPTY', value: '' },
      { name: 'PORT', value: '8080' },
      { name: 'ZED', value: 'last' },
    ]);
  });

  it('uses the defaults: Job, raw, busybox, ./run.sh', async () => {
    expect(await generatePluginDefinition({ name: 'p' })).toBe(
      'sonobuoy-config:\n  driver: Job\n  plugin-name: p\n  result-format: raw\nspec:\n  command:\n  - ./run.sh\n  image: busybox:1.36\n  name: plugin\n',
    );
    expect(await generatePluginDefinition({ name: 'p', cmd: [] })).not.toContain('command');
  });

  it.each<[GenPluginOptions, RegExp]>([
    [{ name: '' }, /^--name "": plugin name must not be empty$/],
    [{ name: 'Bad' }, /^--name "Bad": plugin name "Bad" is invalid/],
    [{ name: 'sonobuoy' }, /^--name "sonobuoy": plugin name "sonobuoy" is reserved/],
    [{ name: 'p', type: 'pod' }, /^--type "pod": must be job or daemonset$/],
    [
      { name: 'p', format: 'xml' },
      /^--format "xml": must be one of junit, e2e, gojson, raw, manual$/,
    ],
    [{ name: 'p', image: ' ' }, /^--image " ": must not be empty$/],
    [{ name: 'p', env: ['NOVALUE'] }, /^--env "NOVALUE": expected KEY=VALUE$/],
    [{ name: 'p', env: ['=x'] }, /^--env "=x": expected KEY=VALUE$/],
    [
      { name: 'p', env: ['A B=x'] },
      /^--env "A B=x": "A B" is not a valid environment variable name$/,
    ],
    [{ name: 'p', nodeSelector: ['zone'] }, /^--node-selector "zone": expected KEY=VALUE$/],
    [{ name: 'p', configmap: ['missing.txt'] }, /^--configmap "missing\.txt": ENOENT/],
    [
      { name: 'p', configmap: ['broken.json'] },
      /^--configmap "broken\.json": line 2: not valid YAML/,
    ],
    [
      { name: 'p', configmap: ['notes.txt', 'sub/../notes.txt'] },
      /another file is also named notes\.txt/,
    ],
  ])('rejects %j', async (opts, message) => {
    const err: unknown = await generatePluginDefinition({ cwd: dir, ...opts }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FathomError);
    expect((err as FathomError).code).toBe('FATHOM_BAD_FLAG_VALUE');
    expect((err as FathomError).message).toMatch(message);
  });
});

describe('Go-style YAML rendering', () => {
  it('orders keys like go-yaml: non-letters first, digit runs numerically', () => {
    const keys = Object.keys(
      parse(renderGoYaml({ b: 1, a10: 1, a9: 1, A: 1, _x: 1, 'a-b': 1 })) as Obj,
    );
    expect(keys).toEqual(['_x', 'A', 'a-b', 'a9', 'a10', 'b']);
  });

  it('double-quotes strings YAML 1.1 would read otherwise and keeps them strings', () => {
    const values = [
      'n',
      'Y',
      'on',
      'off',
      'true',
      '~',
      'null',
      '012',
      '1e3',
      '1:20',
      '2001-12-14',
      '',
      '.inf',
    ];
    const text = renderGoYaml({ v: values });
    for (const v of values) expect(text).toContain(`- ${JSON.stringify(v)}\n`);
    expect((parse(text) as { v: string[] }).v).toEqual(values);
    expect(renderGoYaml({ s: 'a: b', m: 'x\ny\n' })).toBe("m: |\n  x\n  y\ns: 'a: b'\n");
  });
});
