/**
 * `fathom run --pool --backend kubernetes` through the real CLI against the real control plane,
 * the test pod runner playing the kubelet: three runner nodes, two of them in a pool (label
 * `fathom.test/pool`, given with --pool-label); the DaemonSet plugin expects and gets results
 * from the two pool nodes only, the Job runs on one of them. A pool no node is in is refused
 * before anything is created. Needs `npm run build`.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeHttpFromKubeconfig, type KubeHttp } from '../cluster/kube.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import { fathom, tempDir } from '../support/cli.js';
import {
  FAST_WORKER_ENV,
  NODE_LABEL,
  entries,
  podSpec,
  statusOf,
  target,
  type Pod,
} from './kube-cli.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const POOL_LABEL = 'fathom.test/pool';

function plugins(label: string): string {
  return `sonobuoy-config: {driver: Job, plugin-name: once, result-format: raw, skip-cleanup: true}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    echo "$NODE_NAME" > "$SONOBUOY_RESULTS_DIR/node.txt"
    printf '%s\\n' "$SONOBUOY_RESULTS_DIR/node.txt" > "$SONOBUOY_RESULTS_DIR/done"${FAST_WORKER_ENV}
${podSpec(label, 'Job')}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: per-node, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    echo "$NODE_NAME" > "$SONOBUOY_RESULTS_DIR/node.txt"
    printf '%s\\n' "$SONOBUOY_RESULTS_DIR/node.txt" > "$SONOBUOY_RESULTS_DIR/done"
    exec sleep infinity${FAST_WORKER_ENV}
${podSpec(label, 'DaemonSet')}
`;
}

describe.skipIf(!cluster)(
  `fathom run --pool --backend kubernetes${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const label = randomBytes(4).toString('hex');
    const pool = `p-${label}`;
    let inPool: TestPodRunner;
    let outside: TestPodRunner;
    let api: KubeHttp;
    let dir: string;
    let file: string;

    beforeAll(async () => {
      dir = await tempDir('kube-run-pool');
      api = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      inPool = await startTestPodRunner(cluster!.kubeconfig, {
        count: 2,
        labels: { [NODE_LABEL]: label, [POOL_LABEL]: pool },
      });
      outside = await startTestPodRunner(cluster!.kubeconfig, {
        count: 1,
        labels: { [NODE_LABEL]: label },
      });
      file = join(dir, 'plugins.yaml');
      await writeFile(file, plugins(label));
    });

    afterAll(async () => {
      await inPool?.stop();
      await outside?.stop();
      api?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const run = (ns: string, poolName: string) =>
      fathom([
        'run',
        ...target(cluster!.kubeconfig, ns),
        '-p',
        file,
        '--pool',
        poolName,
        '--pool-label',
        POOL_LABEL,
        '--aggregator-node-selector',
        `${NODE_LABEL}:${label}`,
        '--wait',
        '90s',
        '-o',
        'json',
      ]);

    it("runs the DaemonSet on exactly the pool's nodes and the Job on one of them", async () => {
      const ns = `fathom-kpool-${label}`;
      const r = await run(ns, pool);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`Pool "${pool}": the plugins run on its 2 node(s)`);
      const nodes = [...inPool.nodes].sort();
      expect(entries(statusOf(r))).toEqual(
        [
          ...nodes.map((n) => `per-node/${n}:complete:passed`),
          'once/global:complete:passed',
        ].sort(),
      );
      const job = await api.get<{ items: Pod[] }>(
        `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('sonobuoy-plugin=once')}`,
      );
      const placed = job.items.map((p) => p.spec.nodeName);
      expect(placed).toHaveLength(1);
      expect(nodes).toContain(placed[0]);
      expect((await fathom(['delete', '--wait', ...target(cluster!.kubeconfig, ns)])).code).toBe(0);
    });

    it('a pool no node is in: exit 2, one line, no namespace made', async () => {
      const ns = `fathom-kpool-none-${label}`;
      const r = await run(ns, `none-${label}`);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `error: --pool none-${label}: pool "none-${label}" does not exist: no node has the label ${POOL_LABEL}=none-${label}\n`,
      );
      expect((await api.request('GET', `/api/v1/namespaces/${ns}`)).status).toBe(404);
    });
  },
);
