import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { detailedLeaves, type Item, reportData } from '../../results/index.js';
import { toClusterHealth } from '../../web/report/index.js';
import { formatRunDetails, healthYaml } from './results-health.js';
import { detailedEntry, detailedParts, formatReport } from './results.js';

const tree: Item = {
  name: 'e2e',
  status: 'failed',
  meta: { type: 'summary' },
  items: [
    {
      name: 'junit_01.xml',
      status: 'failed',
      meta: { file: 'results/global/junit_01.xml', type: 'file' },
      items: [
        {
          name: 'suite',
          status: 'failed',
          items: [
            { name: '[It] breaks', status: 'failed', details: { failure: 'boom' } },
            { name: 'slow', status: 'timeout' },
            { name: 'ok', status: 'passed' },
            { name: 'skip', status: 'skipped' },
            { name: 'z custom', status: 'zeta' },
            { name: 'a custom', status: 'alpha' },
            { name: 'blank', status: '' },
          ],
        },
      ],
    },
    { name: 'log.txt', status: 'passed', meta: { file: 'results\\global\\log.txt' } },
  ],
};

describe('formatReport', () => {
  it('prints the counts, then custom statuses sorted, then the failed tests', () => {
    expect(formatReport(reportData(tree))).toBe(
      [
        'Plugin: e2e',
        'Status: failed',
        'Total: 8',
        'Passed: 2',
        'Failed: 2',
        'Skipped: 1',
        ': 1',
        'alpha: 1',
        'zeta: 1',
        '',
        'Failed tests:',
        'breaks',
        'slow',
        '',
      ].join('\n'),
    );
  });

  it('has no failed-tests block when nothing failed', () => {
    const ok: Item = { name: 'p', status: 'passed', items: [{ name: 'a', status: 'passed' }] };
    expect(formatReport(reportData(ok))).toBe(
      'Plugin: p\nStatus: passed\nTotal: 1\nPassed: 1\nFailed: 0\nSkipped: 0\n',
    );
  });
});

describe('detailed mode', () => {
  const leaves = detailedLeaves(tree);

  it('gives JSON lines for tests and a prefixed file for file leaves', () => {
    const parts = detailedParts(leaves, false);
    expect(parts).toHaveLength(8);
    expect(parts[0]).toEqual({
      kind: 'text',
      text: '{"name":"[It] breaks","status":"failed","meta":{"path":"e2e|junit_01.xml|suite"},"details":{"failure":"boom"}}\n',
    });
    expect(parts[7]).toEqual({
      kind: 'file',
      file: 'results/global/log.txt',
      prefix: 'e2e|log.txt ',
    });
    expect(detailedParts(leaves, true)[7]).toMatchObject({ prefix: '' });
  });

  it('gives machine output the ancestry as a list, without the added meta.path', () => {
    const entry = detailedEntry('e2e', leaves) as { plugin: string; leaves: unknown[] };
    expect(entry.plugin).toBe('e2e');
    expect(entry.leaves[0]).toEqual({
      path: ['e2e', 'junit_01.xml', 'suite'],
      name: '[It] breaks',
      status: 'failed',
      details: { failure: 'boom' },
    });
    expect(entry.leaves[7]).toEqual({
      path: ['e2e'],
      name: 'log.txt',
      status: 'passed',
      meta: { file: 'results\\global\\log.txt' },
      file: 'results/global/log.txt',
    });
  });
});

const health = toClusterHealth({
  node_health: {
    total_nodes: 3,
    healthy_nodes: 2,
    details: [
      { name: 'n-b', healthy: true, ready: 'True', reason: 'KubeletReady', message: 'fine' },
      { name: 'n-a', healthy: false, ready: 'False', reason: 'KubeletNotReady', message: 'cni' },
    ],
  },
  pod_health: {
    total_nodes: 3,
    healthy_nodes: 1,
    details: [
      { name: 'z', namespace: 'kube-system', healthy: false, ready: 'False', reason: 'Crash' },
      { name: 'a', namespace: 'kube-system', healthy: false, ready: 'False' },
      { name: 'ok', namespace: 'default', healthy: true, ready: 'Ready' },
    ],
  },
  api_version: 'v1.30.0',
  error_summary: {
    Warnings: { 'podlogs/b.txt': 3, 'podlogs/a.txt': 3, 'podlogs/c.txt': 12 },
    Errors: { 'podlogs/x.txt': 2 },
    Empty: {},
  },
  unknown_field: true,
});

describe('run details (meta/clusterhealth.json)', () => {
  it('prints Sonobuoy\u2019s Run Details block, ordering ties by name', () => {
    expect(formatRunDetails(health)).toBe(
      [
        'Run Details:',
        'API Server version: v1.30.0',
        'Node health: 2/3 (66%)',
        'Details for failed nodes:',
        'n-a Ready:False: KubeletNotReady: cni',
        '',
        'Pods health: 1/3 (33%)',
        'Details for failed pods:',
        'kube-system/a Ready:False: : ',
        'kube-system/z Ready:False: Crash: ',
        'Errors detected in files:',
        'Errors:',
        '2 podlogs/x.txt',
        'Warnings:',
        '12 podlogs/c.txt',
        ' 3 podlogs/a.txt',
        ' 3 podlogs/b.txt',
        '',
      ].join('\n'),
    );
  });

  it('prints zero counts without a percentage, as Go does for an empty summary', () => {
    expect(formatRunDetails(toClusterHealth({}))).toBe(
      'Run Details:\nAPI Server version: \nNode health: 0/0\n',
    );
  });

  it('dumps YAML in Sonobuoy\u2019s field order that reads back to the same data', () => {
    const yaml = healthYaml(health);
    expect(yaml.split('\n').slice(0, 4)).toEqual([
      'node_health:',
      '  total_nodes: 3',
      '  healthy_nodes: 2',
      '  details:',
    ]);
    expect(yaml).toContain('    ready: "True"\n');
    expect(parse(yaml)).toEqual(JSON.parse(JSON.stringify(health)));
    expect(healthYaml(toClusterHealth({}))).toBe(
      'node_health:\n  total_nodes: 0\n  healthy_nodes: 0\npod_health:\n  total_nodes: 0\n  healthy_nodes: 0\napi_version: ""\nerror_summary: {}\n',
    );
  });

  it('refuses a document that is not an object', () => {
    expect(() => toClusterHealth([])).toThrow('not a JSON object');
  });
});
