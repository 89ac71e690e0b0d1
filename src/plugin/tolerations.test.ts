import { describe, expect, it } from 'vitest';
import { parsePluginDocuments } from './loader.js';
import {
  formatTaint,
  jobNode,
  schedulable,
  toleratesTaint,
  unschedulableMessage,
  untoleratedTaint,
} from './tolerations.js';
import type { ClusterNode, Taint, Toleration } from '../core/nodes.js';

function plugin(driver: string, podSpec = '') {
  const text = `sonobuoy-config: {driver: ${driver}, plugin-name: p}\nspec: {image: x}\n${podSpec}`;
  return parsePluginDocuments(text, 'x.yaml').plugins[0]!;
}

const gpu: Taint = { key: 'gpu', value: 'true', effect: 'NoSchedule' };

describe('a toleration against a taint (Kubernetes ToleratesTaint)', () => {
  it.each<[string, Toleration, Taint, boolean]>([
    ['Equal, same key and value', { key: 'gpu', operator: 'Equal', value: 'true' }, gpu, true],
    ['Equal, other value', { key: 'gpu', operator: 'Equal', value: 'no' }, gpu, false],
    ['Equal, no value against a value', { key: 'gpu', operator: 'Equal' }, gpu, false],
    [
      'Equal, no value against no value',
      { key: 'gpu', operator: 'Equal' },
      { key: 'gpu', effect: 'NoSchedule' },
      true,
    ],
    ['Exists, same key', { key: 'gpu', operator: 'Exists' }, gpu, true],
    ['Exists, other key', { key: 'cpu', operator: 'Exists' }, gpu, false],
    ['Exists, no key: every taint', { operator: 'Exists' }, gpu, true],
    ['matching effect', { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }, gpu, true],
    ['other effect', { key: 'gpu', operator: 'Exists', effect: 'NoExecute' }, gpu, false],
  ])('%s', (_name, toleration, taint, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });
});

describe('the taint that keeps a pod off a node', () => {
  it.each<[string, Toleration[], Taint[], string | undefined]>([
    ['no taints', [], [], undefined],
    ['NoSchedule, not tolerated', [], [gpu], 'gpu=true:NoSchedule'],
    ['NoExecute, not tolerated', [], [{ key: 'k', effect: 'NoExecute' }], 'k:NoExecute'],
    ['PreferNoSchedule never refuses', [], [{ key: 'k', effect: 'PreferNoSchedule' }], undefined],
    ['tolerated', [{ key: 'gpu', operator: 'Exists' }], [gpu], undefined],
    [
      'the first of two that is not tolerated',
      [{ key: 'gpu', operator: 'Exists' }],
      [gpu, { key: 'x', value: '1', effect: 'NoExecute' }],
      'x=1:NoExecute',
    ],
  ])('%s', (_name, tolerations, taints, expected) => {
    const taint = untoleratedTaint(tolerations, taints);
    expect(taint && formatTaint(taint)).toBe(expected);
  });
});

const nodes: ClusterNode[] = [
  { name: 'plain', labels: { pool: 'cpu' } },
  { name: 'gpu', labels: { pool: 'gpu' }, taints: [gpu] },
  {
    name: 'cordoned',
    labels: { pool: 'cpu' },
    taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
  },
  {
    name: 'master',
    labels: { pool: 'cpu' },
    taints: [{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }],
  },
];

const placed = (driver: string, podSpec = ''): string[] =>
  nodes.filter((n) => schedulable(plugin(driver, podSpec), n)).map((n) => n.name);

describe("where a plugin's pods may run", () => {
  it.each([
    [
      'a DaemonSet without podSpec tolerates everything (Sonobuoy default)',
      'DaemonSet',
      '',
      ['plain', 'gpu', 'cordoned', 'master'],
    ],
    [
      'a DaemonSet with a podSpec and no tolerations: the controller still adds unschedulable',
      'DaemonSet',
      'podSpec: {hostNetwork: true}\n',
      ['plain', 'cordoned'],
    ],
    [
      'a DaemonSet that tolerates gpu',
      'DaemonSet',
      'podSpec: {tolerations: [{key: gpu, operator: Equal, value: "true", effect: NoSchedule}]}\n',
      ['plain', 'gpu', 'cordoned'],
    ],
    [
      'a DaemonSet whose toleration has the wrong value',
      'DaemonSet',
      'podSpec: {tolerations: [{key: gpu, value: "false"}]}\n',
      ['plain', 'cordoned'],
    ],
    ['a Job without podSpec tolerates master, not gpu or cordoned', 'Job', '', ['plain', 'master']],
    ['a Job with a podSpec and no tolerations', 'Job', 'podSpec: {}\n', ['plain']],
    [
      'selectors still apply',
      'DaemonSet',
      'podSpec: {nodeSelector: {pool: gpu}, tolerations: [{operator: Exists}]}\n',
      ['gpu'],
    ],
  ])('%s', (_name, driver, podSpec, expected) => {
    expect(placed(driver, podSpec)).toEqual(expected);
  });

  it('places a Job on the first node it may run on, and says why none fits as the scheduler does', () => {
    expect(jobNode(plugin('Job', 'podSpec: {nodeSelector: {pool: gpu}}\n'), nodes)).toBeUndefined();
    expect(
      jobNode(
        plugin('Job', 'podSpec: {tolerations: [{key: gpu, operator: Exists}]}\n'),
        nodes.slice(1),
      )?.name,
    ).toBe('gpu');
    expect(
      unschedulableMessage(plugin('Job', 'podSpec: {nodeSelector: {pool: gpu}}\n'), nodes),
    ).toBe(
      "0/4 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 3 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it('refuses a toleration the API server would refuse, naming the field', () => {
    const bad = (tolerations: string): string => {
      try {
        plugin('DaemonSet', `podSpec: {tolerations: [${tolerations}]}\n`);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(bad('{key: a, operator: Maybe}')).toMatch(
      /podSpec\.tolerations\[0\]\.operator.*Exists or Equal/,
    );
    expect(bad('{key: a, operator: Exists, value: b}')).toMatch(/value.*empty for operator Exists/);
    expect(bad('{value: b}')).toMatch(/operator.*Exists when key is empty/);
    expect(bad('{key: a, effect: Sometimes}')).toMatch(
      /effect.*NoSchedule, PreferNoSchedule, NoExecute/,
    );
    expect(bad('{key: a, operator: Exists}')).toBe('accepted');
  });
});
