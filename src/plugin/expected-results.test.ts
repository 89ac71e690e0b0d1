import { describe, expect, it } from 'vitest';
import { nodeMatches, type ClusterNode } from '../core/nodes.js';
import { expectedResults } from './expected-results.js';
import { parsePluginDocuments } from './loader.js';

const nodes: ClusterNode[] = [
  { name: 'n1', labels: { 'kubernetes.io/os': 'linux', zone: 'a', cores: '8' } },
  { name: 'n2', labels: { 'kubernetes.io/os': 'linux', zone: 'b', cores: '2', gpu: '' } },
  { name: 'n3', labels: { 'kubernetes.io/os': 'windows', zone: 'a' } },
];

function plugin(driver: string, podSpec = '') {
  const text = `sonobuoy-config: {driver: ${driver}, plugin-name: p}\nspec: {image: x}\n${podSpec}`;
  return parsePluginDocuments(text, 'x.yaml').plugins[0]!;
}

const affinity = (terms: string) =>
  `podSpec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms: ${terms}\n`;

const matching = (podSpec: string) =>
  nodes.filter((n) => nodeMatches(plugin('DaemonSet', podSpec), n)).map((n) => n.name);

describe('node matching', () => {
  it.each([
    ['no selector', '', ['n1', 'n2', 'n3']],
    ['nodeSelector', 'podSpec: {nodeSelector: {kubernetes.io/os: linux}}\n', ['n1', 'n2']],
    [
      'nodeSelector, two labels',
      'podSpec: {nodeSelector: {kubernetes.io/os: linux, zone: a}}\n',
      ['n1'],
    ],
    ['nodeSelector on an empty value', 'podSpec: {nodeSelector: {gpu: ""}}\n', ['n2']],
    [
      'In',
      affinity('[{matchExpressions: [{key: zone, operator: In, values: [a]}]}]'),
      ['n1', 'n3'],
    ],
    [
      'NotIn (missing label matches)',
      affinity('[{matchExpressions: [{key: cores, operator: NotIn, values: ["8"]}]}]'),
      ['n2', 'n3'],
    ],
    ['Exists', affinity('[{matchExpressions: [{key: gpu, operator: Exists}]}]'), ['n2']],
    [
      'DoesNotExist',
      affinity('[{matchExpressions: [{key: cores, operator: DoesNotExist}]}]'),
      ['n3'],
    ],
    ['Gt', affinity('[{matchExpressions: [{key: cores, operator: Gt, values: ["4"]}]}]'), ['n1']],
    [
      'Lt (non-numeric or missing never match)',
      affinity('[{matchExpressions: [{key: cores, operator: Lt, values: ["4"]}]}]'),
      ['n2'],
    ],
    [
      'expressions in a term are ANDed',
      affinity(
        '[{matchExpressions: [{key: zone, operator: In, values: [a]}, {key: kubernetes.io/os, operator: In, values: [linux]}]}]',
      ),
      ['n1'],
    ],
    [
      'terms are ORed',
      affinity(
        '[{matchExpressions: [{key: zone, operator: In, values: [b]}]}, {matchExpressions: [{key: kubernetes.io/os, operator: In, values: [windows]}]}]',
      ),
      ['n2', 'n3'],
    ],
    ['an empty term matches nothing', affinity('[{}]'), []],
    [
      'matchFields on metadata.name',
      affinity('[{matchFields: [{key: metadata.name, operator: In, values: [n2, n3]}]}]'),
      ['n2', 'n3'],
    ],
    [
      'nodeSelector and affinity both apply',
      `podSpec:\n  nodeSelector: {zone: a}\n${affinity('[{matchExpressions: [{key: kubernetes.io/os, operator: NotIn, values: [windows]}]}]').slice('podSpec:\n'.length)}`,
      ['n1'],
    ],
  ])('%s', (_name, podSpec, expected) => {
    expect(matching(podSpec)).toEqual(expected);
  });
});

describe('expected results', () => {
  it('expects one global result from a Job, whatever its selector', () => {
    const job = plugin('Job', 'podSpec: {nodeSelector: {zone: none}}\n');
    expect(expectedResults(job, nodes)).toEqual([{ plugin: 'p', node: 'global' }]);
  });

  it('expects one result per matching node from a DaemonSet', () => {
    const ds = plugin('DaemonSet', 'podSpec: {nodeSelector: {kubernetes.io/os: linux}}\n');
    expect(expectedResults(ds, nodes)).toEqual([
      { plugin: 'p', node: 'n1' },
      { plugin: 'p', node: 'n2' },
    ]);
    expect(expectedResults(ds, [])).toEqual([]);
  });
});
