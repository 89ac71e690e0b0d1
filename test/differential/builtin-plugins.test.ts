/**
 * Differential test: the e2e and systemd-logs plugins `fathom gen` generates against those
 * `sonobuoy gen` (v0.57.5, test/peers/build.sh) generates for the same flags, for every mode and
 * the focus/skip/parallel/plugin-image/kubernetes-version/repo-config/plugin-env/rerun variants.
 *
 * Compared: each plugin's document in the plugins ConfigMap (Sonobuoy's `sonobuoy-plugins-cm`,
 * fathom's `fathom-plugins`), parsed. Only the plugin documents are compared: the namespace,
 * RBAC, config and aggregator objects are each tool's own. Normalised, each for a reason:
 *  - Sonobuoy's `gen` writes its launch env (AUTO_ENV) into every plugin's env; fathom adds the
 *    same variables when it launches any plugin. They are taken out of Sonobuoy's document and
 *    checked, value for value, in the container fathom launches (pluginPodSpec).
 *  - the `results` volume mount likewise: Sonobuoy writes it at gen, fathom adds it at launch
 *    (checked at the same path).
 *  - a config-map's volume (`sonobuoy-<plugin>-vol`, in extra-volumes and mounted at
 *    /tmp/sonobuoy/config): fathom mounts the config-map at launch under its own ConfigMap and
 *    volume names (Sonobuoy's names would point at a ConfigMap fathom does not create); checked
 *    at the same path.
 * `fathom gen plugin e2e|systemd-logs` prints one plugin's document, as `sonobuoy gen plugin
 * e2e|systemd-logs` does: compared the same way, and with the document in fathom's ConfigMap.
 * One deliberate difference is not exercised here: for a failed test named `[It] ...` fathom's
 * --rerun-failed drops `[It] `, Sonobuoy only `[It]` (src/cli/commands/gen-builtins.test.ts);
 * the fixture's names carry no `[It]`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { pluginPodSpec } from '../../src/backends/kubernetes/pod-spec.js';
import { parsePluginDocuments } from '../../src/plugin/loader.js';
import { E2E_MODES } from '../../src/plugin/builtin-modes.js';
import { sonobuoyBinary, sonobuoyUnavailableReason } from '../peers/sonobuoy.js';
import { repoRoot } from '../support/cli.js';
import { available } from '../support/required.js';
import { runMain, type Printed as Out } from '../support/main.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const binary = await sonobuoyBinary();
const have = available(
  binary !== undefined,
  `the built-in plugin test: ${sonobuoyUnavailableReason}`,
);
const shared = join(repoRoot, '../shared/conformance/sonobuoy/test/integration/testdata');
const haveFixtures = available(existsSync(shared), `Sonobuoy's tarballs: ${shared} is absent`);

const AUTO_ENV = [
  'SONOBUOY',
  'SONOBUOY_K8S_VERSION',
  'SONOBUOY_RESULTS_DIR',
  'RESULTS_DIR',
  'SONOBUOY_CONFIG_DIR',
  'SONOBUOY_PROGRESS_PORT',
];
const RESULTS_DIR = '/tmp/sonobuoy/results';
const CONFIG_DIR = '/tmp/sonobuoy/config';

function peer(args: readonly string[]): Promise<Out> {
  return new Promise((resolve) => {
    execFile(binary!, ['gen', ...args], { maxBuffer: 1 << 24 }, (err, out, errText) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out, err: errText }),
    );
  });
}

const fathom = (args: readonly string[]): Promise<Out> => runMain(['gen', ...args]);

/** Each plugin's document of the ConfigMap whose keys are plugin-<i>.yaml, by plugin name. */
function pluginDocs(text: string): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as Obj | null;
    if (o?.kind !== 'ConfigMap') continue;
    for (const [key, value] of Object.entries((o.data ?? {}) as Record<string, string>)) {
      if (!/^plugin-\d+\.yaml$/.test(key)) continue;
      const plugin = parse(value) as Obj;
      out.set(plugin['sonobuoy-config']['plugin-name'] as string, plugin);
    }
  }
  return out;
}

/** fathom's run config (the ConfigMap fathom-config), for its kubernetesVersion. */
function fathomConfig(text: string): Obj {
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as Obj | null;
    if (o?.kind === 'ConfigMap' && o.metadata.name === 'fathom-config')
      return JSON.parse(o.data['config.json'] as string) as Obj;
  }
  throw new Error('no fathom-config ConfigMap');
}

interface LaunchParts {
  env: Record<string, string>;
  resultsMount: boolean;
  configMount: boolean;
}

/** Takes out of Sonobuoy's document what fathom adds at launch (see the file's comment). */
function normalise(doc: Obj): LaunchParts {
  const name = doc['sonobuoy-config']['plugin-name'] as string;
  const spec = doc.spec as Obj;
  const env: Record<string, string> = {};
  spec.env = (spec.env as Obj[]).filter((e) => {
    if (!AUTO_ENV.includes(e.name as string)) return true;
    env[e.name as string] = e.value as string;
    return false;
  });
  const vol = `sonobuoy-${name}-vol`;
  const mounts = (spec.volumeMounts ?? []) as Obj[];
  const resultsMount = mounts.some((m) => m.name === 'results' && m.mountPath === RESULTS_DIR);
  const configMount = mounts.some((m) => m.name === vol && m.mountPath === CONFIG_DIR);
  spec.volumeMounts = mounts.filter((m) => m.name !== 'results' && m.name !== vol);
  if ((spec.volumeMounts as Obj[]).length === 0) delete spec.volumeMounts;
  if (doc['extra-volumes']) {
    doc['extra-volumes'] = (doc['extra-volumes'] as Obj[]).filter((v) => v.name !== vol);
    if ((doc['extra-volumes'] as Obj[]).length === 0) delete doc['extra-volumes'];
  }
  return { env, resultsMount, configMount };
}

/** The plugin container fathom launches for its generated document. */
function launched(doc: Obj, kubernetesVersion: string): Obj {
  const text = JSON.stringify(doc);
  const plugin = parsePluginDocuments(text, 'generated').plugins[0]!;
  const spec = pluginPodSpec(plugin, {
    config: {
      uuid: 'u',
      namespace: 'fathom',
      image: 'fathom:test',
      imagePullPolicy: 'IfNotPresent',
      kubernetesVersion,
    },
    owner: { name: 'fathom-aggregator', uid: 'x' },
    aggregatorUrl: 'https://aggregator:8443',
    caPem: '',
    clientCert: { certPem: '', keyPem: '' },
  });
  return (spec.containers as Obj[]).find((c) => c.name === plugin.container.name)!;
}

async function compare(version: string, args: readonly string[]): Promise<void> {
  const flags = ['-p', 'e2e', '-p', 'systemd-logs', '--kubernetes-version', version, ...args];
  const [theirs, ours] = await Promise.all([peer(flags), fathom(flags)]);
  expect(theirs.code, theirs.err).toBe(0);
  expect(ours.code, ours.err).toBe(0);
  const peerDocs = pluginDocs(theirs.out);
  const fathomDocs = pluginDocs(ours.out);
  expect([...fathomDocs.keys()].sort()).toEqual(['e2e', 'systemd-logs']);
  expect([...peerDocs.keys()].sort()).toEqual(['e2e', 'systemd-logs']);
  const k8s = fathomConfig(ours.out).kubernetesVersion as string;
  for (const [name, doc] of peerDocs) {
    const parts = normalise(doc);
    const mine = fathomDocs.get(name)!;
    expect(mine, `plugin ${name} for ${flags.join(' ')}`).toEqual(doc);
    const container = launched(mine, k8s);
    const env = Object.fromEntries(
      (container.env as Obj[]).map((e) => [e.name as string, e.value as string]),
    );
    for (const [k, v] of Object.entries(parts.env)) expect(env[k], `${name} env ${k}`).toBe(v);
    const paths = (container.volumeMounts as Obj[]).map((m) => m.mountPath as string);
    expect(parts.resultsMount && paths.includes(RESULTS_DIR)).toBe(parts.resultsMount);
    if (parts.configMount) expect(paths).toContain(CONFIG_DIR);
  }
}

const V = 'v1.31.0';

/** `gen plugin NAME FLAGS`: one plugin's document, against Sonobuoy's and fathom's ConfigMap's. */
async function comparePluginCommand(
  name: 'e2e' | 'systemd-logs',
  args: readonly string[],
): Promise<void> {
  const flags = ['--kubernetes-version', V, ...args];
  const [theirs, ours, run] = await Promise.all([
    peer(['plugin', name, ...flags]),
    fathom(['plugin', name, ...flags]),
    fathom(['-p', name, ...flags]),
  ]);
  expect(theirs.code, theirs.err).toBe(0);
  expect(ours.code, ours.err).toBe(0);
  const doc = parse(theirs.out) as Obj;
  expect(doc['sonobuoy-config']['plugin-name']).toBe(name);
  normalise(doc);
  const mine = parse(ours.out) as Obj;
  expect(mine, `gen plugin ${name} ${flags.join(' ')}`).toEqual(doc);
  expect(mine).toEqual(pluginDocs(run.out).get(name));
}

describe.skipIf(!have)('built-in plugins: fathom gen against sonobuoy gen', () => {
  it('with Sonobuoy defaults (non-disruptive-conformance)', () => compare(V, []));

  it.each(E2E_MODES)('in mode %s', (mode) => compare(V, ['--mode', mode]));

  it('with the mode given in capitals', () => compare(V, ['--mode', 'Quick']));

  it.each([
    [['--e2e-focus', 'sig-storage', '--e2e-skip', 'Slow|Serial']],
    [['--e2e-focus', '\\[sig-apps\\] Job']],
    [['--e2e-skip', '']],
    [['--e2e-parallel', 'true']],
    [['--mode', 'conformance-lite', '--e2e-parallel', 'false']],
    [
      [
        '--plugin-image',
        'e2e:my.registry/conformance:v9',
        '--plugin-image',
        'systemd-logs:my.registry/logs:v1',
      ],
    ],
    [['--plugin-image', 'e2e:my.registry/conformance:$SONOBUOY_K8S_VERSION']],
    [['--image-pull-policy', 'Always']],
    [['--kube-conformance-image', 'my.registry/c:v2', '--systemd-logs-image', 'my.registry/s:v3']],
    [
      [
        '--plugin-env',
        'e2e.E2E_EXTRA_ARGS=--v=4',
        '--plugin-env',
        'e2e.FOO=bar',
        '--plugin-env',
        'systemd-logs.CHROOT_DIR=',
      ],
    ],
    [['--plugin-env', 'e2e.E2E_FOCUS=only-this', '--plugin-env', 'e2e.E2E_PARALLEL=']],
  ])('with %j', (args) => compare(V, args));

  it.each(['v1.31', 'v1.30.2-rc.1', 'v1.29.0+k3s1', 'v1'])(
    'with --kubernetes-version %s',
    (version) => compare(version, []),
  );

  it('with --e2e-repo-config: the file in config-map and KUBE_TEST_REPO_LIST', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-repo-'));
    const file = join(dir, 'repos.yaml');
    await writeFile(
      file,
      'dockerLibraryRegistry: my.registry/library\ne2eRegistry: my.registry/e2e\n',
    );
    await compare(V, ['--e2e-repo-config', file]);
  });

  it.skipIf(!haveFixtures)('with --rerun-failed: E2E_FOCUS is the failed tests, no E2E_SKIP', () =>
    compare(V, ['--rerun-failed', join(shared, 'results-4-e2e-failures.tar.gz')]),
  );
});

describe.skipIf(!have)('gen plugin e2e|systemd-logs against sonobuoy gen plugin', () => {
  // fathom refuses --plugin-env/--plugin-image for a plugin not in the run: each names its own.
  const own = (name: string, ownVar: string): string[][] => [
    [],
    ...E2E_MODES.map((mode) => ['--mode', mode]),
    ['--e2e-focus', 'sig-storage', '--e2e-skip', 'Slow|Serial', '--e2e-parallel', 'true'],
    ['--plugin-env', `${name}.FOO=bar`, '--plugin-env', `${name}.${ownVar}=changed`],
    ['--plugin-image', `${name}:my.registry/${name}:v9`],
    ['--image-pull-policy', 'Always'],
  ];
  it.each(own('e2e', 'E2E_USE_GO_RUNNER'))('e2e with %j', (...args) =>
    comparePluginCommand('e2e', args),
  );
  it.each(own('systemd-logs', 'CHROOT_DIR'))('systemd-logs with %j', (...args) =>
    comparePluginCommand('systemd-logs', args),
  );
  it('with the shorthand image flags', async () => {
    await comparePluginCommand('e2e', ['--kube-conformance-image', 'my.registry/c:v2']);
    await comparePluginCommand('systemd-logs', ['--systemd-logs-image', 'my.registry/s:v3']);
  });

  it.skipIf(!haveFixtures)('e2e with --rerun-failed', () =>
    comparePluginCommand('e2e', ['--rerun-failed', join(shared, 'results-4-e2e-failures.tar.gz')]),
  );
});

describe('gen plugin without a built-in name', () => {
  it('still needs -n NAME: one line, exit 2', async () => {
    const r = await fathom(['plugin', '-i', 'registry.example/probe:1']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe("error: required option '-n, --name <name>' not specified\n");
  });
});

describe.skipIf(!have)('built-in plugins: bad input, as Sonobuoy refuses it', () => {
  const refused = async (args: readonly string[], message: RegExp): Promise<void> => {
    const flags = ['-p', 'e2e', '--kubernetes-version', V, ...args];
    const [theirs, ours] = await Promise.all([peer(flags), fathom(flags)]);
    expect(theirs.code).not.toBe(0);
    expect(ours.code).toBe(2);
    expect(ours.out).toBe('');
    expect(ours.err.trimEnd().split('\n')).toHaveLength(1);
    expect(ours.err).toMatch(message);
  };

  it('an unknown mode lists the valid ones', () =>
    refused(
      ['--mode', 'fast'],
      /certified-conformance, conformance-lite, non-disruptive-conformance, quick/,
    ));
  it('--mode with --e2e-focus', () =>
    refused(['--mode', 'quick', '--e2e-focus', 'x'], /--mode and --e2e-focus/));
  it('--rerun-failed with --mode', () =>
    refused(['--mode', 'quick', '--rerun-failed', 'x.tar.gz'], /--rerun-failed and --mode/));
  it('a focus that is not a regular expression', () =>
    refused(['--e2e-focus', '('], /--e2e-focus "\(": not a regular expression/));
  it('a version without its v', () =>
    refused(['--kubernetes-version', '1.31.0'], /--kubernetes-version "1.31.0"/));
  it.skipIf(!haveFixtures)('--rerun-failed on a tarball without e2e results', () =>
    refused(
      ['--rerun-failed', join(shared, 'results-missing-e2e.tar.gz')],
      /failed to find file "plugins\/e2e\/sonobuoy_results.yaml" in archive/,
    ),
  );
  it.skipIf(!haveFixtures)('--rerun-failed on a tarball where nothing failed', () =>
    refused(
      ['--rerun-failed', join(shared, 'results-quick-no-failures.tar.gz')],
      /no tests failed for plugin "e2e"/,
    ),
  );
});
