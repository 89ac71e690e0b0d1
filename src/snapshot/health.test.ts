import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clusterSummary,
  clusterSummaryJson,
  goJsonString,
  isPodLog,
  LogScanner,
  MAX_LINE_BYTES,
  nodeHealth,
  podHealth,
  podListFiles,
  type ClusterSummary,
} from './health.js';
import { walkFiles, writeClusterHealth } from './health-file.js';

const nodeList = (...items: unknown[]): string => JSON.stringify({ kind: 'NodeList', items });
const node = (name: string, ...conditions: unknown[]) => ({
  metadata: { name },
  status: { conditions },
});
const ready = (status: string, reason = '', message = '') => ({
  type: 'Ready',
  status,
  reason,
  message,
});

function hits(text: string | Buffer, chunk = 7): Record<string, number> {
  const s = new LogScanner();
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += chunk) s.push(buf.subarray(i, i + chunk));
  return Object.fromEntries(s.end());
}

describe('node health', () => {
  it.each([
    ['no file', undefined, { total_nodes: 0, healthy_nodes: 0, details: [] }],
    [
      'ready and not ready, reasons kept',
      nodeList(
        node('a', { type: 'MemoryPressure', status: 'False' }, ready('True', 'KubeletReady', 'ok')),
        node('b', ready('False', 'KubeletNotReady', 'cni')),
        node('c'),
      ),
      {
        total_nodes: 3,
        healthy_nodes: 1,
        details: [
          { name: 'a', healthy: true, ready: 'True', reason: 'KubeletReady', message: 'ok' },
          { name: 'b', healthy: false, ready: 'False', reason: 'KubeletNotReady', message: 'cni' },
          { name: 'c', healthy: false, ready: '' },
        ],
      },
    ],
    [
      'keys matched case-insensitively, the last one winning, nulls left zero',
      JSON.stringify({
        Items: [{ METADATA: { name: 'x' }, status: { conditions: [null, ready('Unknown')] } }],
        items: null,
      }),
      { total_nodes: 0, healthy_nodes: 0, details: [] },
    ],
  ])('%s', (_, text, want) => {
    expect(nodeHealth(text)).toEqual(want);
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '[]'],
    ['items not a list', '{"items":{}}'],
    ['a name that is not a string', nodeList({ metadata: { name: 5 } })],
  ])('refuses a nodes file that is %s: no clusterhealth.json', (_, text) => {
    expect(clusterSummary({ nodes: text, podLists: [], logHits: new Map() })).toBeInstanceOf(Error);
  });
});

describe('pod health', () => {
  const pods = (...items: unknown[]): string => JSON.stringify({ items });
  const pod = (name: string, phase: string, ...conditions: unknown[]) => ({
    metadata: { name, namespace: 'ns' },
    status: { phase, conditions },
  });
  it('counts Running and Succeeded as healthy, else takes the first condition not True', () => {
    const got = podHealth([
      {
        path: 'resources/ns/ns/core_v1_pods.json',
        text: pods(
          pod('run', 'Running', { type: 'Ready', status: 'False' }),
          pod('done', 'Succeeded'),
          pod(
            'pending',
            'Pending',
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'False', reason: 'Unschedulable', message: 'taint' },
            { type: 'Other', status: 'Unknown' },
          ),
          pod('failed', 'Failed'),
        ),
      },
      { path: 'resources/ns/bad/core_v1_pods.json', text: 'not json' },
    ]);
    expect(got).toEqual({
      total_nodes: 4,
      healthy_nodes: 2,
      details: [
        { name: 'run', healthy: true, ready: 'Ready', namespace: 'ns' },
        { name: 'done', healthy: true, ready: 'Ready', namespace: 'ns' },
        {
          name: 'pending',
          healthy: false,
          ready: 'False',
          reason: 'Unschedulable',
          message: 'taint',
          namespace: 'ns',
        },
        { name: 'failed', healthy: false, ready: '', namespace: 'ns' },
      ],
    });
  });

  it('reads the pods files the walk reads: the rest of a directory is skipped after one', () => {
    expect(
      podListFiles([
        'core_v1_pods.json.bak',
        'plugins/p/results/global/core_v1_pods.json',
        'plugins/p/results/global/zz/core_v1_pods.json',
        'plugins/q/core_v1_pods.json',
        'resources/ns/a/core_v1_pods.json',
        'resources/ns/a-b/core_v1_pods.json',
      ]),
    ).toEqual([
      'plugins/p/results/global/core_v1_pods.json',
      'plugins/q/core_v1_pods.json',
      'resources/ns/a/core_v1_pods.json',
      'resources/ns/a-b/core_v1_pods.json',
    ]);
  });
});

describe('log summary', () => {
  it.each([
    ['podlogs/ns/pod/logs/c.txt', true],
    ['podlogs/ns/pod/logs/c.txt.gz', true],
    ['podlogs/ns/pod/logs/a/b.txt', true],
    ['podlogs/ns/logs/c.txt', false],
    ['x/podlogs/ns/pod/logs/c.txt', false],
    ['podlogs/ns/pod/logs/c.log', false],
  ])('%s is a pod log: %s', (path, want) => {
    expect(isPodLog(path)).toBe(want);
  });

  it.each([
    ['nothing', 'all good\n', {}],
    ['each class once per line', 'Error: failed\nwarn level=error\n', { Errors: 2, Warnings: 1 }],
    ['klog codes at line start only', 'E0101 x\nW0101 y\n x E0101\n', { Errors: 1, Warnings: 1 }],
    ['CRLF and no final newline', 'ok\r\nlevel=warn', { Warnings: 1 }],
    ['case: ERROR is no match', 'ERROR WARN\n', {}],
  ])('%s', (_, text, want) => {
    expect(hits(text)).toEqual(want);
    expect(hits(text, 1)).toEqual(want);
  });

  it('stops at a line longer than bufio.Scanner takes, keeping what it counted', () => {
    const long = 'x'.repeat(MAX_LINE_BYTES + 1);
    expect(hits(`error\n${long}\nerror\n`, 4096)).toEqual({ Errors: 1 });
    expect(hits(`error\n${'x'.repeat(MAX_LINE_BYTES)}\nerror\n`, 4096)).toEqual({ Errors: 2 });
  });
});

describe('clusterhealth.json', () => {
  it('is written as Go marshals it: field order, omitempty, sorted map keys, escapes', () => {
    const s: ClusterSummary = {
      node_health: { total_nodes: 0, healthy_nodes: 0, details: [] },
      pod_health: {
        total_nodes: 1,
        healthy_nodes: 0,
        details: [{ name: 'p<1>', healthy: false, ready: '', namespace: 'n&s' }],
      },
      api_version: 'v1.2.3',
      error_summary: new Map([
        ['Warnings', new Map([['podlogs/b', 1]])],
        [
          'Errors',
          new Map([
            ['podlogs/é', 2],
            ['podlogs/z', 3],
          ]),
        ],
      ]),
    };
    expect(clusterSummaryJson(s)).toBe(
      '{"node_health":{"total_nodes":0,"healthy_nodes":0},"pod_health":{"total_nodes":1,"healthy_nodes":0,"details":[{"name":"p\\u003c1\\u003e","healthy":false,"ready":"","namespace":"n\\u0026s"}]},"api_version":"v1.2.3","error_summary":{"Errors":{"podlogs/z":3,"podlogs/é":2},"Warnings":{"podlogs/b":1}}}',
    );
    expect(goJsonString('\u2028\ud800"\n')).toBe('"\\u2028\ufffd\\"\\n"');
  });

  async function root(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-health-'));
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), text);
    }
    return dir;
  }

  it('walks the root in Go order and writes meta/clusterhealth.json', async () => {
    const dir = await root({
      'resources/cluster/core_v1_nodes.json': nodeList(node('n1', ready('True'))),
      'resources/ns/a-b/core_v1_pods.json': JSON.stringify({
        items: [{ metadata: { name: 'second' }, status: { phase: 'Running' } }],
      }),
      'resources/ns/a/core_v1_pods.json': JSON.stringify({
        items: [{ metadata: { name: 'first' }, status: { phase: 'Running' } }],
      }),
      'serverversion.json': '{"gitVersion":"v1.36.3"}',
      'podlogs/ns/pod/logs/c.txt': 'failed\nwarning\nok\n',
      'podlogs/ns/pod/c.txt': 'failed\n',
    });
    await symlink('/etc/passwd', join(dir, 'podlogs/ns/pod/logs/link.txt'));
    expect(await walkFiles(join(dir, 'resources'))).toEqual([
      'cluster/core_v1_nodes.json',
      'ns/a/core_v1_pods.json',
      'ns/a-b/core_v1_pods.json',
    ]);
    expect(await writeClusterHealth(dir)).toEqual({
      written: true,
      file: join(dir, 'meta/clusterhealth.json'),
    });
    const written = JSON.parse(
      await readFile(join(dir, 'meta/clusterhealth.json'), 'utf8'),
    ) as Record<string, { details: { name: string }[] }>;
    expect(written.pod_health!.details.map((d) => d.name)).toEqual(['first', 'second']);
    expect(written.api_version).toBe('v1.36.3');
    expect(written.node_health).toEqual({
      total_nodes: 1,
      healthy_nodes: 1,
      details: [{ name: 'n1', healthy: true, ready: 'True' }],
    });
    expect(written.error_summary).toEqual({
      Errors: { 'podlogs/ns/pod/logs/c.txt': 1 },
      Warnings: { 'podlogs/ns/pod/logs/c.txt': 1 },
    });
  });

  it('writes no file when the nodes file is unreadable, and says why', async () => {
    const dir = await root({ 'resources/cluster/core_v1_nodes.json': '{"items":7}' });
    const out = await writeClusterHealth(dir);
    expect(out).toEqual({ written: false, error: 'core_v1_nodes.json: items: not an array' });
    await expect(readFile(join(dir, 'meta/clusterhealth.json'))).rejects.toThrow(/ENOENT/);
  });

  it('writes an empty summary for a root without a snapshot, as Sonobuoy does', async () => {
    const dir = await root({ 'plugins/p/sonobuoy_results.yaml': 'name: p\n' });
    await writeClusterHealth(dir);
    expect(await readFile(join(dir, 'meta/clusterhealth.json'), 'utf8')).toBe(
      '{"node_health":{"total_nodes":0,"healthy_nodes":0},"pod_health":{"total_nodes":0,"healthy_nodes":0},"api_version":"","error_summary":{}}',
    );
  });
});
