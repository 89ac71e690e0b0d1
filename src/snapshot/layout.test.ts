import { describe, expect, it } from 'vitest';
import { hostFile, listDocument, podLogFile, queryRecord, resourceFile } from './layout.js';

describe('snapshot layout', () => {
  it.each([
    [
      { group: '', version: 'v1', resource: 'nodes' },
      undefined,
      'resources/cluster/core_v1_nodes.json',
    ],
    [
      { group: 'apps', version: 'v1', resource: 'deployments' },
      'kube-system',
      'resources/ns/kube-system/apps_v1_deployments.json',
    ],
  ])('names %j in %s as %s', (ref, ns, file) => {
    expect(resourceFile(ref, ns)).toBe(file);
  });

  it('names host and pod-log files, refusing names that could leave their directory', () => {
    expect(hostFile('node-1', 'configz')).toBe('hosts/node-1/configz.json');
    expect(podLogFile('fathom', 'agg', 'aggregator')).toBe(
      'podlogs/fathom/agg/logs/aggregator.txt',
    );
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\u0000', 'x'.repeat(256)])
      expect(() => hostFile(bad, 'configz')).toThrow(/not a safe path segment/);
    expect(() => podLogFile('ns', '..', 'c')).toThrow(/pod name "\.\." is not a safe path segment/);
    expect(() => resourceFile({ group: '../../x', version: 'v1', resource: 'y' })).toThrow(
      /resource name .* is not a safe path segment/,
    );
  });

  it('writes a List object with each item typed and managedFields stripped', () => {
    const doc = listDocument(
      { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
      [{ metadata: { name: 'a', managedFields: [{}] }, spec: {} }],
      '42',
    );
    expect(doc).toEqual({
      apiVersion: 'apps/v1',
      items: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a' }, spec: {} }],
      kind: 'DeploymentList',
      metadata: { resourceVersion: '42' },
    });
    expect(Object.keys(doc)).toEqual(['apiVersion', 'items', 'kind', 'metadata']);
  });

  it('records a query as Sonobuoy does, empty fields left out', () => {
    expect(queryRecord('pods', 'kube-system', 19.4)).toEqual({
      queryobj: 'pods',
      namespace: 'kube-system',
      time: '19ms',
    });
    expect(queryRecord('Nodes', '', 1500, 'boom')).toEqual({
      queryobj: 'Nodes',
      time: '1.5s',
      error: 'boom',
    });
  });
});
