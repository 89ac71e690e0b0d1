import { describe, expect, it } from 'vitest';
import { nodeMatches } from '../core/nodes.js';
import { parsePluginDocuments } from './loader.js';
import { onNodesLabelled } from './pool.js';

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
