/**
 * The cluster snapshot in a Kubernetes run's tarball, through the real CLI against the test
 * control plane, with the pod runner playing the kubelet (its HTTPS endpoint answers configz and
 * healthz through the API server's node proxy, and serves the pods' logs): List-object resource
 * files, `hosts/<runner node>/`, a `Nodes` error naming the kwok nodes (nothing listens at their
 * addresses: the API server's dial is refused at once), pod logs of the aggregator and the
 * plugin, the server's version and groups, and Sonobuoy's query rows. A resource the aggregator
 * may no longer list (its ClusterRole is narrowed while the plugin waits at a gate) is recorded
 * as forbidden and the run still completes.
 *
 * Needs `npm run build`. Waits on files and child-process exits, never on timers.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeHttpFromKubeconfig, type KubeHttp } from '../cluster/kube.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import { fathom, tempDir } from '../support/cli.js';
import { hostAddress } from '../support/net.js';
import { whenInDir } from '../support/wait.js';
import {
  FAST_WORKER_ENV,
  NODE_LABEL,
  WAIT_FOR_FILE,
  podSpec,
  readJson,
  statusOf,
  target,
  untar,
  untilOrExit,
} from './kube-cli.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();

/** A Job that says it started, waits for the gate, then reports. */
function gatedPlugin(label: string, waiter: string, started: string, gate: string): string {
  return `sonobuoy-config: {driver: Job, plugin-name: snap, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    echo "snap plugin: waiting at the gate"
    : > '${started}'
    node '${waiter}' '${gate}'
    echo ok > "$d/out.txt"
    printf '%s\\n' "$d/out.txt" > "$d/done"${FAST_WORKER_ENV}
${podSpec(label, 'Job')}
`;
}

interface Query {
  queryobj: string;
  namespace?: string;
  time: string;
  error?: string;
}
interface List {
  apiVersion: string;
  kind: string;
  metadata: object;
  items: { kind: string; metadata: { name: string; managedFields?: unknown } }[];
}

// The runner serves its kubelet endpoint on this machine's address (the node proxy refuses loopback).
const noHostAddress = hostAddress() === undefined;

describe.skipIf(!cluster || noHostAddress)(
  `the cluster snapshot of a Kubernetes run${
    !cluster
      ? ` (skipped: ${skipReason})`
      : noHostAddress
        ? ' (skipped: no non-loopback address)'
        : ''
  }`,
  () => {
    const label = randomBytes(4).toString('hex');
    const ns = `fathom-snap-${label}`;
    let runner: TestPodRunner;
    let api: KubeHttp;
    let dir: string;

    beforeAll(async () => {
      dir = await tempDir('kube-snapshot');
      api = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      runner = await startTestPodRunner(cluster!.kubeconfig, {
        count: 1,
        labels: { [NODE_LABEL]: label },
        kubeletOnHostAddress: true,
      });
    });

    afterAll(async () => {
      await fathom(['delete', '--wait', ...target(cluster!.kubeconfig, ns)]).catch(() => undefined);
      await runner?.stop();
      api?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('holds resources, hosts, pod logs and query rows; a forbidden list is recorded and the run completes', async () => {
      const [node] = runner.nodes;
      const waiter = join(dir, 'wait-for-file.cjs');
      const gates = join(dir, 'gates');
      const started = join(gates, 'started');
      const gate = join(gates, 'open');
      const pluginFile = join(dir, 'snap.yaml');
      await mkdir(gates, { recursive: true });
      await writeFile(waiter, WAIT_FOR_FILE);
      await writeFile(pluginFile, gatedPlugin(label, waiter, started, gate));
      const resources = 'pods,configmaps,namespaces,nodes,podlogs,serverversion,servergroups';
      const running = fathom([
        'run',
        ...target(cluster!.kubeconfig, ns),
        '-p',
        pluginFile,
        '--aggregator-node-selector',
        `${NODE_LABEL}:${label}`,
        '--resources',
        resources,
        '--wait',
        '90s',
        '-o',
        'json',
      ]);
      // The plugin runs, so the ClusterRole exists: take configmaps away from it, then open the gate.
      await untilOrExit(
        running,
        whenInDir(gates, () =>
          access(started).then(
            () => true,
            () => undefined,
          ),
        ),
      );
      const rolePath = `/apis/rbac.authorization.k8s.io/v1/clusterroles/fathom-aggregator-${ns}`;
      const role = await api.get<{ rules: { resources: string[]; verbs: string[] }[] }>(rolePath);
      const listRule = role.rules.find((r) => r.resources.includes('configmaps'))!;
      expect(listRule.verbs).toEqual(['list']);
      listRule.resources = listRule.resources.filter((r) => r !== 'configmaps');
      const put = await api.request('PUT', rolePath, role);
      expect(put.status, put.text).toBe(200);
      await writeFile(gate, '');

      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      expect(statusOf(r).status).toBe('complete');
      const home = join(dir, 'home');
      const retrieved = await fathom(['retrieve', home, ...target(cluster!.kubeconfig, ns)]);
      expect(retrieved.code, retrieved.stderr).toBe(0);
      await untar(retrieved.stdout.trim(), home);

      // Sonobuoy's config keys, so `run --from` repeats them.
      const config = await readJson<{ Resources: string[]; Limits: object }>(
        join(home, 'meta/config.json'),
      );
      expect(config.Resources).toEqual(resources.split(','));

      // Resources as List objects: typed items, managedFields stripped.
      const nodes = await readJson<List>(join(home, 'resources/cluster/core_v1_nodes.json'));
      expect([nodes.apiVersion, nodes.kind]).toEqual(['v1', 'NodeList']);
      const nodeNames = nodes.items.map((n) => n.metadata.name);
      expect(nodeNames).toContain(node);
      const kwok = nodeNames.filter((n) => n.startsWith('kwok-'));
      expect(kwok.length).toBeGreaterThan(0);
      const pods = await readJson<List>(join(home, `resources/ns/${ns}/core_v1_pods.json`));
      expect(pods.kind).toBe('PodList');
      expect(pods.items.map((p) => p.metadata.name)).toContain('fathom-aggregator');
      expect(pods.items.every((p) => p.kind === 'Pod' && !p.metadata.managedFields)).toBe(true);
      expect(
        (await readJson<List>(join(home, 'resources/cluster/core_v1_namespaces.json'))).kind,
      ).toBe('NamespaceList');
      // Forbidden once the role lost it: no configmaps file anywhere.
      const nsDirs = await readdir(join(home, 'resources/ns'));
      for (const d of nsDirs) {
        expect(await readdir(join(home, 'resources/ns', d))).not.toContain(
          'core_v1_configmaps.json',
        );
      }

      // The runner node's kubelet endpoint, through the API server's node proxy.
      const queryRows = await readJson<Query[]>(join(home, 'meta/query-time.json'));
      const hostDirs = await readdir(join(home, 'hosts')).catch(() => []);
      expect(hostDirs, JSON.stringify(queryRows[0])).toEqual([node]);
      const configz = await readJson<{ kubeletconfig: { kind: string } }>(
        join(home, `hosts/${node}/configz.json`),
      );
      expect(configz.kubeletconfig.kind).toBe('KubeletConfiguration');
      expect(await readJson(join(home, `hosts/${node}/healthz.json`))).toEqual({ status: 200 });

      // Logs of the aggregator and the plugin, as they were when the snapshot was taken.
      const aggLog = await readFile(
        join(home, `podlogs/${ns}/fathom-aggregator/logs/aggregator.txt`),
        'utf8',
      );
      expect(aggLog).toContain('result received');
      const pluginPod = pods.items.find((p) => p.metadata.name.startsWith('fathom-snap-job-'))!;
      expect(
        await readFile(
          join(home, `podlogs/${ns}/${pluginPod.metadata.name}/logs/plugin.txt`),
          'utf8',
        ),
      ).toContain('snap plugin: waiting at the gate');

      expect(
        (await readJson<{ gitVersion: string }>(join(home, 'serverversion.json'))).gitVersion,
      ).toMatch(/^v1\./);
      const groups = await readJson<{ groups: { name: string }[] }>(
        join(home, 'servergroups.json'),
      );
      expect(groups.groups[0]!.name).toBe('');

      // The rows in Sonobuoy's order, with the failures recorded.
      const queries = await readJson<Query[]>(join(home, 'meta/query-time.json'));
      const rows = queries.map((q) => `${q.queryobj}@${q.namespace ?? ''}`);
      expect(rows.slice(0, 5)).toEqual([
        'Nodes@',
        'namespaces@',
        'nodes@',
        'serverversion@',
        'servergroups@',
      ]);
      expect(rows).toContain(`pods@${ns}`);
      // Pod logs per namespace (kube-system and the run's, matched as Sonobuoy does), then the
      // field selectors' pass, always last.
      expect(rows).toEqual(expect.arrayContaining([`PodLogs@kube-system`, `PodLogs@${ns}`]));
      expect(rows.at(-1)).toBe('PodLogs@');
      const hosts = queries[0]!;
      expect(hosts.error).toMatch(new RegExp(`^\\d+ of ${nodeNames.length} nodes failed: `));
      expect(hosts.error).toContain('kwok-');
      expect(hosts.error).not.toContain(`${node}:`);
      const forbidden = queries.find((q) => q.queryobj === 'configmaps' && q.namespace === ns)!;
      expect(forbidden.error).toMatch(/^listing configmaps in namespace .*: Forbidden: /);
      const failed = queries.filter((q) => q.error !== undefined).map((q) => q.queryobj);
      expect(new Set(failed)).toEqual(new Set(['Nodes', 'configmaps']));

      // Sonobuoy's health summary of the snapshot: every node and pod of the listed files.
      const health = await readJson<{
        node_health: { total_nodes: number; healthy_nodes: number };
        pod_health: { total_nodes: number };
        api_version: string;
      }>(join(home, 'meta/clusterhealth.json'));
      expect(health.node_health.total_nodes).toBe(nodeNames.length);
      expect(health.node_health.healthy_nodes).toBeGreaterThan(0);
      expect(health.pod_health.total_nodes).toBeGreaterThanOrEqual(pods.items.length);
      expect(health.api_version).toMatch(/^v1\./);
      const summary = await fathom(['results', retrieved.stdout.trim(), '--cluster', '-o', 'json']);
      expect(summary.code, summary.stderr).toBe(0);
      const doc = JSON.parse(summary.stdout) as { nodes: number; items: { name: string }[] };
      expect([doc.nodes, doc.items.map((n) => n.name).sort()]).toEqual([
        nodeNames.length,
        [...nodeNames].sort(),
      ]);
    });
  },
);
