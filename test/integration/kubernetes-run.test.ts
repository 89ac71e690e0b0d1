/**
 * `fathom run --backend kubernetes` end to end, through the real CLI (bin/fathom.js in a child
 * process) against the real control plane, with the test pod runner playing the kubelet: the
 * aggregator pod and every plugin pod really run, as local processes, on runner nodes. kwok's
 * nodes run nothing, so the aggregator (`--aggregator-node-selector`) and the plugins (their
 * podSpec nodeSelector) are kept to this file's runner nodes by a label only they carry.
 *
 * - a Job (junit) and a DaemonSet (manual) plugin on 5 runner nodes: run --wait, status,
 *   retrieve (a Sonobuoy-layout tarball, post-processed), logs, delete --wait;
 * - Monitor errors: an unschedulable Job and a crash-looping DaemonSet become error results
 *   with Sonobuoy's messages and the run completes;
 * - kube-apiserver restarted while plugins run (a second, private cluster): results that arrive
 *   during the outage and the status writes that meet no API server are kept until it is back,
 *   and a plugin that starts crash-looping afterwards is seen through the resumed watches.
 *
 * Needs `npm run build` (the CLI and the pods run bin/fathom.js). Waits on watch events, files
 * and child-process exits, never on timers.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providedCluster } from './provided.js';
import { parse } from 'yaml';
import { ensureClusterBinaries } from '../cluster/binaries.js';
import { startCluster, type TestCluster } from '../cluster/cluster.js';
import { kubeHttpFromKubeconfig, type KubeHttp } from '../cluster/kube.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import { fathom, tempDir, type CliResult } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';
import {
  FAST_WORKER_ENV,
  NODE_LABEL,
  WAIT_FOR_FILE,
  entries,
  podSpec,
  readJson,
  statusOf,
  target,
  untar,
  untilOrExit,
  type Pod,
} from './kube-cli.js';

const { cluster, skipReason } = providedCluster();

/** A Job writing JUnit and a DaemonSet writing a manual result per node; both kept for `logs`. */
function healthyPlugins(label: string): string {
  return `sonobuoy-config: {driver: Job, plugin-name: smoke, result-format: junit, skip-cleanup: true}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    echo "smoke: checking the cluster"
    printf '<testsuite name="smoke" tests="2"><testcase name="reaches the API"/><testcase name="lists nodes"/></testsuite>\\n' > "$d/junit.xml"
    printf '%s\\n' "$d/junit.xml" > "$d/done"${FAST_WORKER_ENV}
${podSpec(label, 'Job')}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: inventory, result-format: manual, skip-cleanup: true}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    echo "inventory: looking at $NODE_NAME"
    printf 'name: inventory\\nstatus: passed\\nitems:\\n- name: %s\\n  status: passed\\n' "$NODE_NAME" > "$d/inventory.yaml"
    printf '%s\\n' "$d/inventory.yaml" > "$d/done"
    exec sleep infinity${FAST_WORKER_ENV}
${podSpec(label, 'DaemonSet')}
`;
}

/** A Job no node can take and a DaemonSet whose container exits 1 over and over. */
function failingPlugins(label: string): string {
  return `sonobuoy-config: {driver: Job, plugin-name: nowhere, result-format: raw}
spec: {name: plugin, image: registry.example/never-pulled:1, command: [/bin/sh, -c, 'exit 0']}
${podSpec('no-node-has-this', 'Job')}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: crasher, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c, 'echo "crashing on $NODE_NAME"; exit 1']
${podSpec(label, 'DaemonSet')}
`;
}

/**
 * A Job and a DaemonSet that report once `gates.report` exists, and a DaemonSet that starts
 * crash-looping once `gates.crash` exists; `waiter` runs WAIT_FOR_FILE.
 */
function gatedPlugins(
  label: string,
  waiter: string,
  gates: { report: string; crash: string },
): string {
  const wait = (gate: string): string => `node '${waiter}' '${gate}'`;
  return `sonobuoy-config: {driver: Job, plugin-name: gated-job, result-format: junit}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    echo "waiting for the gate"
    ${wait(gates.report)}
    printf '<testsuite name="gated" tests="1"><testcase name="while the API server is down"/></testsuite>\\n' > "$d/junit.xml"
    printf '%s\\n' "$d/junit.xml" > "$d/done"${FAST_WORKER_ENV}
${podSpec(label, 'Job')}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: gated-ds, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    ${wait(gates.report)}
    echo "ok on $NODE_NAME" > "$d/out.txt"
    printf '%s\\n' "$d/out.txt" > "$d/done"
    exec sleep infinity${FAST_WORKER_ENV}
${podSpec(label, 'DaemonSet')}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: late-crasher, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    ${wait(gates.crash)}
    echo "crashing on $NODE_NAME"
    exit 1
${podSpec(label, 'DaemonSet')}
`;
}

describe.skipIf(!cluster)(
  `fathom run --backend kubernetes through the CLI${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const label = randomBytes(4).toString('hex');
    let runner: TestPodRunner;
    let api: KubeHttp;
    let dir: string;
    let plugins: { healthy: string; failing: string };

    beforeAll(async () => {
      dir = await tempDir('kube-run');
      api = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      runner = await startTestPodRunner(cluster!.kubeconfig, {
        count: 5,
        labels: { [NODE_LABEL]: label },
        // A crash loop reaches Sonobuoy's "restarted 3 times" within a second.
        restartBackoff: { initialMs: 100, maxMs: 400 },
      });
      plugins = { healthy: join(dir, 'healthy.yaml'), failing: join(dir, 'failing.yaml') };
      await writeFile(plugins.healthy, healthyPlugins(label));
      await writeFile(plugins.failing, failingPlugins(label));
    });

    afterAll(async () => {
      await runner?.stop();
      api?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const run = (ns: string, file: string): Promise<CliResult> =>
      fathom([
        'run',
        ...target(cluster!.kubeconfig, ns),
        '-p',
        file,
        '--aggregator-node-selector',
        `${NODE_LABEL}:${label}`,
        '--wait',
        '90s',
        '-o',
        'json',
      ]);

    /** delete --wait, then the namespace must be gone: it returned only when it was. */
    const deleteAndCheck = async (ns: string): Promise<void> => {
      const r = await fathom(['delete', '--wait', ...target(cluster!.kubeconfig, ns)]);
      expect(r.stderr).toContain(`Deleted the run in namespace "${ns}"`);
      expect(r.code).toBe(0);
      expect((await api.request('GET', `/api/v1/namespaces/${ns}`)).status).toBe(404);
      const roles = await api.get<{ items: unknown[] }>(
        `/apis/rbac.authorization.k8s.io/v1/clusterroles?labelSelector=${encodeURIComponent(`fathom-namespace=${ns}`)}`,
      );
      expect(roles.items).toEqual([]);
    };

    it('runs a Job and a DaemonSet plugin on 5 runner nodes: run, status, retrieve, logs, delete', async () => {
      const ns = `fathom-krun-${label}`;
      const nodes = [...runner.nodes].sort();
      const r = await run(ns, plugins.healthy);
      expect(r.code, r.stderr).toBe(0);
      const final = statusOf(r);
      expect(final.status).toBe('complete');
      // The DaemonSet expects exactly the nodes its selector matches: the runner's, no kwok node.
      expect(entries(final)).toEqual(
        [
          ...nodes.map((n) => `inventory/${n}:complete:passed`),
          'smoke/global:complete:passed',
        ].sort(),
      );
      expect(final['tar-info'].name).toMatch(/^\d{12}_sonobuoy_[0-9a-f-]{36}\.tar\.gz$/);
      expect(r.stderr).toMatch(/Run [0-9a-f-]{36} started in namespace/);
      const aggregator = await api.get<Pod>(`/api/v1/namespaces/${ns}/pods/fathom-aggregator`);
      expect(runner.nodes).toContain(aggregator.spec.nodeName);

      const status = await fathom(['status', '--show-all', ...target(cluster!.kubeconfig, ns)]);
      expect(status.code, status.stderr).toBe(0);
      for (const n of nodes)
        expect(status.stdout).toMatch(new RegExp(`inventory +${n} +complete +passed`));
      expect(status.stdout).toMatch(/smoke +global +complete +passed/);
      expect(status.stdout).toContain('Run complete');

      const home = join(dir, 'home');
      const retrieved = await fathom(['retrieve', home, ...target(cluster!.kubeconfig, ns)]);
      expect(retrieved.code, retrieved.stderr).toBe(0);
      const tarball = retrieved.stdout.trim();
      expect(tarball).toBe(join(home, final['tar-info'].name));
      await untar(tarball, home);
      const uuid = /Run ([0-9a-f-]{36}) started/.exec(r.stderr)![1];
      const info = await readJson<{ plugins: string[] }>(join(home, 'meta', 'info.json'));
      expect(info.plugins.sort()).toEqual(['inventory', 'smoke']);
      const config = await readJson<{ UUID: string; Namespace: string }>(
        join(home, 'meta', 'config.json'),
      );
      expect([config.UUID, config.Namespace]).toEqual([uuid, ns]);
      expect(await readFile(join(home, 'meta', 'run.log'), 'utf8')).toContain('result received');
      // The cluster snapshot beside the results, read with the aggregator's own (least) privileges.
      const version = await readJson<{ gitVersion: string }>(join(home, 'serverversion.json'));
      expect(version.gitVersion).toMatch(/^v1\.\d+\./);
      const groups = await readJson<{ groups: { name: string }[] }>(
        join(home, 'servergroups.json'),
      );
      expect(groups.groups[0]!.name).toBe('');
      expect(groups.groups.map((g) => g.name)).toContain('apps');
      // Sonobuoy's default: every listable resource (secrets aside) as a List object.
      type List = { kind: string; items: { kind: string; metadata: { name: string } }[] };
      const snapNodes = await readJson<List>(join(home, 'resources/cluster/core_v1_nodes.json'));
      expect(snapNodes.kind).toBe('NodeList');
      expect(new Set(snapNodes.items.map((n) => n.kind))).toEqual(new Set(['Node']));
      expect(snapNodes.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(nodes));
      const snapPods = await readJson<List>(join(home, `resources/ns/${ns}/core_v1_pods.json`));
      expect(snapPods.items.map((p) => p.metadata.name)).toContain('fathom-aggregator');
      const queries = await readJson<{ queryobj: string; namespace?: string; error?: string }[]>(
        join(home, 'meta', 'query-time.json'),
      );
      // Only the hosts data may fail (kwok nodes have no kubelet to proxy to).
      expect(queries.filter((q) => q.error !== undefined && q.queryobj !== 'Nodes')).toEqual([]);
      expect(queries.map((q) => `${q.queryobj}@${q.namespace ?? ''}`)).toEqual(
        expect.arrayContaining([
          'serverversion@',
          'Nodes@',
          `pods@${ns}`,
          'events@kube-system',
          'clusterroles@',
          `PodLogs@${ns}`,
        ]),
      );
      expect(queries.some((q) => q.queryobj === 'secrets')).toBe(false);
      expect(
        await readFile(join(home, 'plugins/smoke/results/global/junit.xml'), 'utf8'),
      ).toContain('lists nodes');
      for (const n of nodes) {
        const manual = await readFile(
          join(home, `plugins/inventory/results/${n}/inventory.yaml`),
          'utf8',
        );
        expect(manual).toContain(`- name: ${n}`);
      }
      // Post-processed as Sonobuoy does: a JUnit tree for the Job, one subtree per node for the DaemonSet.
      const smoke = parse(
        await readFile(join(home, 'plugins/smoke/sonobuoy_results.yaml'), 'utf8'),
      ) as ResultItem;
      expect(smoke.status).toBe('passed');
      expect(leaves(smoke)).toEqual(['lists nodes:passed', 'reaches the API:passed']);
      const inventory = parse(
        await readFile(join(home, 'plugins/inventory/sonobuoy_results.yaml'), 'utf8'),
      ) as ResultItem;
      expect(inventory.status).toBe('passed');
      expect((inventory.items ?? []).map((i) => i.name).sort()).toEqual(nodes);

      const logs = await fathom(['logs', ...target(cluster!.kubeconfig, ns)]);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toMatch(/^\[aggregator\] .*run complete/m);
      expect(logs.stdout).toContain('[smoke/global/plugin] smoke: checking the cluster');
      for (const n of nodes)
        expect(logs.stdout).toContain(`[inventory/${n}/plugin] inventory: looking at ${n}`);
      expect(logs.stdout).toMatch(/^\[smoke\/global\/sonobuoy-worker\] .*worker done/m);

      await deleteAndCheck(ns);
    });

    it('turns an unschedulable plugin and a crash-looping DaemonSet into error results, and completes', async () => {
      const ns = `fathom-krun-err-${label}`;
      const nodes = [...runner.nodes].sort();
      const r = await run(ns, plugins.failing);
      expect(r.stderr).toMatch(/error: run [0-9a-f-]{36}: a plugin failed or timed out/);
      expect(r.code).toBe(1);
      const final = statusOf(r);
      expect(final.status).toBe('complete');
      expect(entries(final)).toEqual(
        [...nodes.map((n) => `crasher/${n}:failed:failed`), 'nowhere/global:failed:failed'].sort(),
      );

      const home = join(dir, 'home-err');
      const retrieved = await fathom(['retrieve', home, ...target(cluster!.kubeconfig, ns)]);
      expect(retrieved.code, retrieved.stderr).toBe(0);
      await untar(retrieved.stdout.trim(), home);
      const unscheduled = await readJson<{ error: string; pod: Pod }>(
        join(home, 'plugins/nowhere/errors/global/error.json'),
      );
      expect(unscheduled.error).toMatch(
        /^Can't schedule pod: 0\/\d+ nodes are available: .*didn't match Pod's node affinity\/selector/,
      );
      expect(unscheduled.pod.metadata.name).toMatch(/^fathom-nowhere-job-/);
      for (const n of nodes) {
        const crashed = await readJson<{ error: string; pod: Pod }>(
          join(home, `plugins/crasher/errors/${n}/error.json`),
        );
        expect(crashed.error).toBe('Container plugin has restarted unsuccessfully 3 times');
        expect(crashed.pod.spec.nodeName).toBe(n);
      }
      const results = parse(
        await readFile(join(home, 'plugins/nowhere/sonobuoy_results.yaml'), 'utf8'),
      ) as ResultItem;
      expect(results.status).toBe('failed');

      // Without --wait, delete returns at once and the namespace goes on terminating.
      const deleted = await fathom(['delete', ...target(cluster!.kubeconfig, ns)]);
      expect(deleted.code, deleted.stderr).toBe(0);
      const left = await api.request<{ metadata: { deletionTimestamp?: string } }>(
        'GET',
        `/api/v1/namespaces/${ns}`,
      );
      expect(left.status === 404 || Boolean(left.body.metadata.deletionTimestamp)).toBe(true);
    });
  },
);

interface ResultItem {
  name: string;
  status: string;
  items?: ResultItem[];
}

/** `name:status` of every leaf of a results tree, sorted. */
function leaves(item: ResultItem): string[] {
  if (!item.items?.length) return [`${item.name}:${item.status}`];
  return item.items.flatMap(leaves).sort();
}

describe.skipIf(!cluster)(
  `a run survives a kube-apiserver restart${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const label = randomBytes(4).toString('hex');
    let own: TestCluster;
    let runner: TestPodRunner;
    let api: KubeHttp;
    let dir: string;

    beforeAll(async () => {
      // The shared cluster cannot be restarted under the other files: this block has its own.
      const found = await ensureClusterBinaries();
      if (!found.ok) throw new Error(found.reason);
      dir = await tempDir('kube-restart');
      own = await startCluster({ nodes: 1, binaries: found.binaries, log: () => undefined });
      api = await kubeHttpFromKubeconfig(own.kubeconfig);
      runner = await startTestPodRunner(own.kubeconfig, {
        count: 2,
        labels: { [NODE_LABEL]: label },
        restartBackoff: { initialMs: 100, maxMs: 400 },
      });
    });

    afterAll(async () => {
      await runner?.stop();
      api?.close();
      await own?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('completes when kube-apiserver restarts while the plugins run: every watch resumes', async () => {
      const ns = `fathom-krestart-${label}`;
      const nodes = [...runner.nodes].sort();
      const gates = { report: join(dir, 'gates', 'report'), crash: join(dir, 'gates', 'crash') };
      await mkdir(join(dir, 'gates'));
      const waiter = join(dir, 'wait-for-file.cjs');
      await writeFile(waiter, WAIT_FOR_FILE);
      const file = join(dir, 'gated.yaml');
      await writeFile(file, gatedPlugins(label, waiter, gates));
      const running = fathom([
        'run',
        ...target(own.kubeconfig, ns),
        '-p',
        file,
        '--aggregator-node-selector',
        `${NODE_LABEL}:${label}`,
        '--wait',
        '90s',
        '-o',
        'json',
      ]);
      // Every plugin runs (and waits for its gate): a Job pod and two pods per DaemonSet.
      const pluginPods = await untilOrExit(
        running,
        api.waitForList<Pod, Pod[]>(
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('fathom-component=plugin')}`,
          (pods) => {
            const up = [...pods.values()].filter((p) =>
              p.status?.containerStatuses?.some((c) => c.name === 'plugin' && c.state?.running),
            );
            return up.length === 5 ? up : undefined;
          },
          60_000,
        ),
      );
      const onNodes = (plugin: string): string[] =>
        pluginPods
          .filter((p) => p.metadata.labels?.['fathom-plugin'] === plugin)
          .map((p) => p.spec.nodeName ?? '')
          .sort();
      expect([onNodes('gated-ds'), onNodes('late-crasher')]).toEqual([nodes, nodes]);
      expect(nodes).toEqual(expect.arrayContaining(onNodes('gated-job')));
      const before = own.pids['kube-apiserver'];
      const aggregatorDir = runner.podDir(ns, 'fathom-aggregator')!;

      // A crash-like restart (SIGKILL after 1 s: a SIGTERMed kube-apiserver drains its watches
      // for up to 60 s). While it is down, two plugins report straight to the aggregator, and
      // the status writes that follow meet no API server: they must not be lost.
      await own.restart('kube-apiserver', {
        graceMs: 1000,
        whileDown: async () => {
          await writeFile(gates.report, '');
          await whenInDir(
            aggregatorDir,
            async () => {
              const lines = (await runner.podLogs(ns, 'fathom-aggregator', 'aggregator')).split(
                '\n',
              );
              const received = (l: string): boolean => l.includes('"msg":"result received"');
              const last = lines.findLastIndex(received);
              const failed = lines.slice(last).some((l) => l.includes('could not publish status'));
              return lines.filter(received).length === 3 && failed ? true : undefined;
            },
            90_000,
          ).catch(async (err: Error) => {
            // Say what the pods did, so a failure under CI load can be told apart from a bug.
            const tails = await Promise.all(
              pluginPods.map(async (p) => {
                const name = p.metadata.name;
                const log = await runner.podLogs(ns, name, 'plugin');
                return `${name}: ${log.trimEnd().split('\n').slice(-3).join(' | ')}`;
              }),
            );
            const agg = await runner.podLogs(ns, 'fathom-aggregator', 'aggregator');
            throw new Error(
              `${err.message}\naggregator: ${agg.trimEnd().split('\n').slice(-8).join('\n')}\n` +
                tails.join('\n'),
            );
          }); // on 2 busy cores the reports can take longer than the default 30 s
        },
      });
      expect(own.pids['kube-apiserver']).not.toBe(before);
      // Now a DaemonSet starts crash-looping: only the aggregator's resumed pod watches can
      // tell, and only they can end the run.
      await writeFile(gates.crash, '');

      const r = await running;
      expect(r.stderr).toMatch(/error: run [0-9a-f-]{36}: a plugin failed or timed out/);
      expect(r.code).toBe(1);
      const final = statusOf(r);
      expect(final.status).toBe('complete');
      expect(entries(final)).toEqual(
        [
          ...nodes.map((n) => `gated-ds/${n}:complete:passed`),
          ...nodes.map((n) => `late-crasher/${n}:failed:failed`),
          'gated-job/global:complete:passed',
        ].sort(),
      );
      // The aggregator's pod watches did break with the API server.
      const logs = await runner.podLogs(ns, 'fathom-aggregator', 'aggregator');
      expect(logs).toContain('pod watch failed');
    });
  },
);
