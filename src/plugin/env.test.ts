import { describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { applyPluginEnv, parsePluginDocuments, parsePluginEnvFlag } from './loader.js';

const text = `sonobuoy-config: {driver: Job, plugin-name: e2e}
spec:
  image: x
  env:
  - {name: E2E_FOCUS, value: Conformance}
  - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
  - {name: KEEP, value: "1"}
podSpec:
  containers:
  - name: sidecar
    env:
    - {name: E2E_FOCUS, value: old}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: my.plugin}
spec: {image: y}
`;

const load = () => parsePluginDocuments(text, 'x.yaml').plugins;

describe('--plugin-env', () => {
  it('sets, replaces in place, appends and removes, in spec.env and every podSpec container', () => {
    const before = load();
    const after = applyPluginEnv(before, [
      'e2e.E2E_FOCUS=Pods',
      'e2e.NEW=a=b',
      'e2e.KEEP=',
      'e2e.NODE=n1',
      'my.plugin.LEVEL=debug',
    ]);
    const [e2e, mine] = after;
    expect(e2e!.container.env).toEqual([
      { name: 'E2E_FOCUS', value: 'Pods' },
      { name: 'NODE', value: 'n1' },
      { name: 'NEW', value: 'a=b' },
    ]);
    const spec = e2e!.manifest.spec as { env: unknown[] };
    expect(spec.env).toEqual([
      { name: 'E2E_FOCUS', value: 'Pods' },
      { name: 'NODE', value: 'n1' },
      { name: 'NEW', value: 'a=b' },
    ]);
    const side = (e2e!.manifest.podSpec as { containers: { env: unknown[] }[] }).containers[0]!;
    expect(side.env).toEqual([
      { name: 'E2E_FOCUS', value: 'Pods' },
      { name: 'NEW', value: 'a=b' },
      { name: 'NODE', value: 'n1' },
    ]);
    expect(mine!.container.env).toEqual([{ name: 'LEVEL', value: 'debug' }]);
    // New frozen objects; the inputs are untouched.
    expect(Object.isFrozen(e2e)).toBe(true);
    expect(Object.isFrozen(e2e!.manifest.spec)).toBe(true);
    expect(before[0]!.container.env.map((e) => e.name)).toEqual(['E2E_FOCUS', 'KEEP']);
  });

  it('lets the last setting of a key win and leaves untouched plugins as they were', () => {
    const before = load();
    const after = applyPluginEnv(before, ['e2e.X=1', 'e2e.X=2']);
    expect(after[0]!.container.env.at(-1)).toEqual({ name: 'X', value: '2' });
    expect(after[1]).toBe(before[1]);
  });

  it('leaves settings for the aggregator (sonobuoy.*) to the caller', () => {
    const before = load();
    const after = applyPluginEnv(before, ['sonobuoy.LOG=debug']);
    expect(after).toEqual(before);
  });

  it.each([
    [
      'nope.A=1',
      /^--plugin-env "nope\.A=1": no plugin named "nope" in this run \(plugins: e2e, my\.plugin\)$/,
    ],
    ['e2e.A', /expected PLUGIN\.KEY=VALUE/],
    ['e2eA=1', /expected PLUGIN\.KEY=VALUE/],
    ['e2e.=1', /expected PLUGIN\.KEY=VALUE/],
    ['e2e.A B=1', /"A B" is not a valid environment variable name/],
  ])('rejects %s', (entry, message) => {
    let err: unknown;
    try {
      applyPluginEnv(load(), [entry]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FathomError);
    expect((err as FathomError).code).toBe('FATHOM_BAD_FLAG_VALUE');
    expect((err as FathomError).message).toMatch(message);
  });

  it('parses dotted plugin names by the longest known prefix', () => {
    expect(parsePluginEnvFlag('a.b.C=1', ['a', 'a.b'])).toEqual({
      plugin: 'a.b',
      key: 'C',
      value: '1',
    });
    expect(parsePluginEnvFlag('a.b.C=1')).toEqual({ plugin: 'a', key: 'b.C', value: '1' });
    expect(parsePluginEnvFlag('p.K=')).toEqual({ plugin: 'p', key: 'K', value: '' });
  });
});
