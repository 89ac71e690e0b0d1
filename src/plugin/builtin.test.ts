/**
 * The built-in plugins without the peer: version handling, mode values, image and env edits.
 * test/differential/builtin-plugins.test.ts checks the generated documents against `sonobuoy gen`.
 */
import { describe, expect, it } from 'vitest';
import {
  builtinPlugin,
  conformanceTag,
  conformanceVersion,
  parseMode,
  parsePluginImages,
  type BuiltinOptions,
} from './builtin.js';
import { E2E_MODE_ENV, quoteMeta } from './builtin-modes.js';
import { applyPluginImages } from './env.js';
import { parsePluginDocuments } from './loader.js';

const base: BuiltinOptions = {
  kubernetesVersion: 'v1.31.0',
  mode: 'non-disruptive-conformance',
  imagePullPolicy: 'IfNotPresent',
  pluginImages: {},
  pluginEnv: [],
};

const env = (o: BuiltinOptions): Record<string, string> =>
  Object.fromEntries(builtinPlugin('e2e', o).container.env.map((e) => [e.name, e.value]));

describe('built-in plugins', () => {
  it('normalise --kubernetes-version as Sonobuoy does, and refuse one without its v', () => {
    expect(conformanceVersion('v1.31')).toBe('v1.31.0');
    expect(conformanceVersion('v1')).toBe('v1.0.0');
    expect(conformanceVersion('v1.30.2-rc.1')).toBe('v1.30.2-rc.1');
    expect(() => conformanceVersion('1.31.0')).toThrow(/--kubernetes-version "1.31.0"/);
  });

  it("tag the image with the API server's version less its build metadata", () => {
    expect(conformanceTag('v1.36.3')).toBe('v1.36.3');
    expect(conformanceTag('v1.29.4+k3s1')).toBe('v1.29.4');
    expect(conformanceTag('v1.31.0-rc.1')).toBe('v1.31.0-rc.1');
    expect(conformanceTag('v1.31.0-gke.100')).toBe('v1.31.0');
    expect(() => conformanceTag('')).toThrow(/give --kubernetes-version/);
  });

  it('read modes in any case and list the valid ones for an unknown one', () => {
    expect(parseMode('QUICK')).toBe('quick');
    expect(() => parseMode('fast')).toThrow(
      '--mode "fast": unknown mode; valid modes: certified-conformance, conformance-lite, non-disruptive-conformance, quick',
    );
  });

  it('quote like Go regexp.QuoteMeta', () => {
    expect(quoteMeta('[sig-x] a.b (c) *d* {e} ^$|+?\\')).toBe(
      '\\[sig-x\\] a\\.b \\(c\\) \\*d\\* \\{e\\} \\^\\$\\|\\+\\?\\\\',
    );
  });

  it('leave an empty E2E_SKIP out, and let flags and --plugin-env override the mode', () => {
    expect(env({ ...base, mode: 'quick' })).not.toHaveProperty('E2E_SKIP');
    const e = env({
      ...base,
      e2eSkip: 'Slow',
      pluginEnv: ['e2e.E2E_PARALLEL=true', 'e2e.E2E_EXTRA_ARGS=', 'systemd-logs.X=1'],
    });
    expect(e).toMatchObject({
      E2E_FOCUS: E2E_MODE_ENV['non-disruptive-conformance'].focus,
      E2E_SKIP: 'Slow',
      E2E_PARALLEL: 'true',
    });
    expect(e).not.toHaveProperty('E2E_EXTRA_ARGS');
    expect(e).not.toHaveProperty('X');
  });

  it('focus on the tests to rerun and drop E2E_SKIP', () => {
    const e = env({ ...base, rerunFocus: 'a|b' });
    expect(e.E2E_FOCUS).toBe('a|b');
    expect(e).not.toHaveProperty('E2E_SKIP');
  });

  it('tag images, fill $SONOBUOY_K8S_VERSION in, and take --plugin-image', () => {
    expect(builtinPlugin('e2e', base).container.image).toBe('registry.k8s.io/conformance:v1.31.0');
    expect(builtinPlugin('systemd-logs', base).container.image).toBe('sonobuoy/systemd-logs:v0.4');
    const images = parsePluginImages(['e2e:r/c:$SONOBUOY_K8S_VERSION', 'systemd-logs:r/s:1']);
    expect(builtinPlugin('e2e', { ...base, pluginImages: images }).container.image).toBe(
      'r/c:v1.31.0',
    );
    expect(builtinPlugin('systemd-logs', { ...base, pluginImages: images }).container.image).toBe(
      'r/s:1',
    );
    expect(() => parsePluginImages(['e2e'])).toThrow('--plugin-image "e2e": expected PLUGIN:IMAGE');
  });

  it('give the repo config to e2e as a config-map file named in KUBE_TEST_REPO_LIST', () => {
    const p = builtinPlugin('e2e', {
      ...base,
      e2eRepoConfig: { name: 'repos.yaml', contents: 'e2eRegistry: r\n' },
    });
    expect(p.configMap).toEqual({ 'repos.yaml': 'e2eRegistry: r\n' });
    expect(
      env({ ...base, e2eRepoConfig: { name: 'repos.yaml', contents: 'a: b\n' } }),
    ).toHaveProperty('KUBE_TEST_REPO_LIST', '/tmp/sonobuoy/config/repos.yaml');
  });
});

describe('--plugin-image on any plugin', () => {
  const file = parsePluginDocuments(
    'sonobuoy-config: {driver: Job, plugin-name: mine}\nspec: {name: p, image: old:1, command: [./run.sh]}\n',
    'mine.yaml',
  ).plugins;

  it('replaces the image of a plugin loaded from a file, in its manifest too', () => {
    const [p] = applyPluginImages(file, { mine: 'new:2' });
    expect(p!.container.image).toBe('new:2');
    expect((p!.manifest.spec as { image: string }).image).toBe('new:2');
  });

  it('refuses a plugin that is not in the run', () => {
    expect(() => applyPluginImages(file, { other: 'x:1' })).toThrow(
      /no plugin named "other" in this run \(plugins: mine\)/,
    );
  });
});
