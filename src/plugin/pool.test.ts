import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { nodeMatches } from '../core/nodes.js';
import { parsePluginDocuments } from './loader.js';
import { onNodesLabelled, onNodesNamed } from './pool.js';

const daemonSet = `sonobuoy-config: {driver: DaemonSet, plugin-name: ds, result-format: raw}
spec: {name: plugin, image: busybox, command: [sh, -c, 'true']}
`;
const withPodSpec = `sonobuoy-config: {driver: Job, plugin-name: job, result-format: raw}
spec: {name: plugin, image: busybox, command: [sh, -c, 'true']}
podSpec:
  nodeSelector: {zone: a}
  tolerations: [{key: gpu, operator: Exists}]
`;

describe('onNodesLabelled: a plugin kept to a pool', () => {
  it("a plugin without a podSpec gets its driver's default one, plus the selector", () => {
    const p = onNodesLabelled(
      parsePluginDocuments(daemonSet, 'ds.yaml').plugins[0]!,
      'pool',
      'servers',
    );
    const podSpec = p.manifest.podSpec as Record<string, unknown>;
    expect(podSpec).toMatchObject({ hostNetwork: true, nodeSelector: { pool: 'servers' } });
    expect(p.nodeSelector).toEqual({ pool: 'servers' });
    expect(nodeMatches(p, { name: 'n1', labels: { pool: 'servers' } })).toBe(true);
    expect(nodeMatches(p, { name: 'n2', labels: { pool: 'clients' } })).toBe(false);
    expect(Object.isFrozen(p.manifest)).toBe(true);
  });

  it('a podSpec as written keeps its selector and tolerations; the selector is added', () => {
    const before = parsePluginDocuments(withPodSpec, 'job.yaml').plugins[0]!;
    const p = onNodesLabelled(before, 'tier', 'gpu');
    expect(p.manifest.podSpec).toMatchObject({
      nodeSelector: { zone: 'a', tier: 'gpu' },
      tolerations: [{ key: 'gpu', operator: 'Exists' }],
    });
    expect(p.nodeSelector).toEqual({ zone: 'a', tier: 'gpu' });
    expect(before.manifest.podSpec).toMatchObject({ nodeSelector: { zone: 'a' } }); // a copy
  });
});

const withAffinity = `sonobuoy-config: {driver: DaemonSet, plugin-name: aff, result-format: raw}
spec: {name: plugin, image: busybox, command: [sh, -c, 'true']}
podSpec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
          - matchExpressions: [{key: zone, operator: In, values: [a]}]
          - matchExpressions: [{key: zone, operator: In, values: [b]}]
`;

describe('onNodesNamed: a plugin kept to the nodes granted', () => {
  const node = (name: string, zone = 'a') => ({ name, labels: { pool: 'srv', zone } });

  it('only the named nodes match, in the definition and in the manifest read back', () => {
    const base = parsePluginDocuments(daemonSet, 'ds.yaml').plugins[0]!;
    const p = onNodesNamed(onNodesLabelled(base, 'pool', 'srv'), ['s2', 's1']);
    const back = parsePluginDocuments(stringify(p.manifest), 'back.yaml').plugins[0]!;
    for (const q of [p, back]) {
      expect(['s1', 's2', 's3'].filter((n) => nodeMatches(q, node(n)))).toEqual(['s1', 's2']);
      expect(nodeMatches(q, { name: 's1', labels: { pool: 'other' } })).toBe(false);
    }
    expect(p.manifest.podSpec).toMatchObject({
      nodeSelector: { pool: 'srv' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['s1', 's2'] }] },
            ],
          },
        },
      },
    });
  });

  it('every term the plugin wrote is narrowed to the names, so none widens past them', () => {
    const p = onNodesNamed(parsePluginDocuments(withAffinity, 'aff.yaml').plugins[0]!, [
      's1',
      's3',
    ]);
    const back = parsePluginDocuments(stringify(p.manifest), 'back.yaml').plugins[0]!;
    for (const q of [p, back]) {
      const on = [node('s1', 'a'), node('s2', 'b'), node('s3', 'b'), node('s4', 'c')]
        .filter((n) => nodeMatches(q, n))
        .map((n) => n.name);
      expect(on).toEqual(['s1', 's3']);
      expect(nodeMatches(q, node('s1', 'c'))).toBe(false); // its own terms still hold
    }
  });
});
