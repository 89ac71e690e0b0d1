/**
 * Crash recovery on Kubernetes, through the real CLI against the test control plane: the
 * aggregator container is killed with SIGKILL mid-run, the pod runner (playing the kubelet)
 * restarts it (restartPolicy OnFailure), and it resumes from the journal on its emptyDir
 * volume. Killed a second time, it is held down (its Secret removed) while the DaemonSet's
 * workers report, so their uploads fail and are retried against the restarted aggregator.
 * Every result accepted before a kill must be in the final tarball, the plugins already
 * launched are adopted (not created again) and the Job plugin runs exactly once.
 *
 * Needs `npm run build` (the CLI and the pods run bin/fathom.js). Waits on watch events, files
 * and child-process exits, never on timers.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/aggregation/types.js';
import { RETRIEVE_SECRET, STATUS_ANNOTATION } from '../../src/backends/kubernetes/names.js';
import { decodeStatusAnnotation } from '../../src/backends/kubernetes/status-annotation.js';
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
  statusOf,
  target,
  untar,
  untilOrExit,
  type Pod,
} from './kube-cli.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const AGGREGATOR = 'fathom-aggregator';

interface Secret {
  metadata: { labels?: Record<string, string> };
  data?: Record<string, string>;
}

/**
 * A Job that reports at once and appends a line to `runs` each time it runs, and a DaemonSet
 * that reports once `gate` exists; `waiter` runs WAIT_FOR_FILE.
 */
function plugins(label: string, waiter: string, runs: string, gate: string): string {
  return `sonobuoy-config: {driver: Job, plugin-name: early, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    echo run >> '${runs}'
    echo "early result" > "$d/early.txt"
    printf '%s\\n' "$d/early.txt" > "$d/done"${FAST_WORKER_ENV}
${podSpec(label, 'Job')}
---
sonobuoy-config: {driver: DaemonSet, plugin-name: late, result-format: raw}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    d="$SONOBUOY_RESULTS_DIR"
    node '${waiter}' '${gate}'
    echo "late on $NODE_NAME" > "$d/late.txt"
    printf '%s\\n' "$d/late.txt" > "$d/done"
    exec sleep infinity${FAST_WORKER_ENV}
${podSpec(label, 'DaemonSet')}
`;
}

/** Every file under `dir`, relative to it, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const found = await readdir(dir, { recursive: true, withFileTypes: true });
  return found
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe.skipIf(!cluster)(
  `the aggregator container is killed mid-run and restarted${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const label = randomBytes(4).toString('hex');
    const ns = `fathom-krecover-${label}`;
    let runner: TestPodRunner;
    let api: KubeHttp;
    let dir: string;

    beforeAll(async () => {
      dir = await tempDir('kube-recovery');
      api = await kubeHttpFromKubeconfig(cluster!.kubeconfig);
      runner = await startTestPodRunner(cluster!.kubeconfig, {
        count: 2,
        labels: { [NODE_LABEL]: label },
        restartBackoff: { initialMs: 100, maxMs: 400 },
        // A container held by a missing Secret starts soon after the Secret is back.
        retryBackoff: { initialMs: 100, maxMs: 400 },
      });
    });

    afterAll(async () => {
      if (api) await fathom(['delete', '--wait', ...target(cluster!.kubeconfig, ns)]);
      await runner?.stop();
      api?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const aggregatorPath = `/api/v1/namespaces/${ns}/pods?fieldSelector=${encodeURIComponent(`metadata.name=${AGGREGATOR}`)}`;
    /** Resolves with what `until` makes of the aggregator pod once it says something. */
    const whenAggregator = <R>(until: (pod: Pod) => R | undefined): Promise<R> =>
      api.waitForList<Pod, R>(aggregatorPath, (pods) => {
        const pod = pods.values().next().value;
        return pod ? until(pod) : undefined;
      });
    const pluginPods = (): Promise<Pod[]> =>
      api
        .get<{ items: Pod[] }>(
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('fathom-component=plugin')}`,
        )
        .then((l) => l.items);
    const aggregatorLog = (): Promise<string> => runner.podLogs(ns, AGGREGATOR, 'aggregator');
    /** The aggregator container's status in `pod`. */
    const aggregatorContainer = (pod: Pod) =>
      pod.status?.containerStatuses?.find((c) => c.name === 'aggregator');
    /** SIGKILL to the aggregator container's process, as a crash would end it. */
    const killAggregator = (): number => {
      const pid = runner.containerPid(ns, AGGREGATOR, 'aggregator');
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, 'SIGKILL');
      return pid!;
    };
    /** The pino lines of a log with message `msg`, parsed. */
    const logged = (log: string, msg: string): Record<string, unknown>[] =>
      log
        .split('\n')
        .filter((l) => l.includes(`"msg":"${msg}"`))
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    // Shared by the two tests, which follow one run in order.
    let running: Promise<CliResult>;
    let nodes: string[];
    let gated: Pod[];
    let gate: string;
    let runs: string;

    it('is restarted after SIGKILL, resumes from its volume and adopts its plugins; retrieve --partial has the Job result', async () => {
      nodes = [...runner.nodes].sort();
      gate = join(dir, 'gates', 'late');
      await mkdir(join(dir, 'gates'));
      const waiter = join(dir, 'wait-for-file.cjs');
      await writeFile(waiter, WAIT_FOR_FILE);
      runs = join(dir, 'early-runs');
      const file = join(dir, 'plugins.yaml');
      await writeFile(file, plugins(label, waiter, runs, gate));
      running = fathom([
        'run',
        ...target(cluster!.kubeconfig, ns),
        '-p',
        file,
        '--aggregator-node-selector',
        `${NODE_LABEL}:${label}`,
        '--wait',
        '150s',
        '-o',
        'json',
      ]);

      // The Job's result is accepted (the status annotation says so) and the DaemonSet's pods
      // wait at their gate: the kill comes mid-run, with one result in and two to come.
      await untilOrExit(
        running,
        whenAggregator((pod) => {
          const status = decodeStatusAnnotation(pod.metadata.annotations?.[STATUS_ANNOTATION]);
          const early = status?.plugins.find((e) => e.plugin === 'early');
          return early?.status === 'complete' || undefined;
        }),
      );
      gated = await untilOrExit(
        running,
        api.waitForList<Pod, Pod[]>(
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('fathom-plugin=late')}`,
          (pods) => {
            const up = [...pods.values()].filter((p) =>
              p.status?.containerStatuses?.some((c) => c.name === 'plugin' && c.state?.running),
            );
            return up.length === nodes.length ? up : undefined;
          },
        ),
      );
      expect(gated.map((p) => p.spec.nodeName).sort()).toEqual(nodes);
      const uidsBefore = (await pluginPods()).map((p) => p.metadata.uid).sort();
      expect(uidsBefore).toHaveLength(nodes.length + 1);

      const pid = killAggregator();
      // The kubelet stand-in restarts the container (137 = killed by signal 9) ...
      const restarted = await untilOrExit(
        running,
        whenAggregator((pod) => {
          const c = aggregatorContainer(pod);
          return c?.restartCount === 1 && c.state?.running ? c : undefined;
        }),
      );
      expect(restarted.lastState?.terminated?.exitCode).toBe(137);
      expect(runner.containerPid(ns, AGGREGATOR, 'aggregator')).not.toBe(pid);
      // ... and the new process resumes from the journal and adopts both plugins.
      const resumed = await untilOrExit(
        running,
        whenInDir(runner.podDir(ns, AGGREGATOR)!, async () => {
          const log = await aggregatorLog();
          return logged(log, 'plugin adopted').length === 2 ? log : undefined;
        }),
      );
      expect(logged(resumed, 'resuming from the journal')).toHaveLength(1);
      expect(logged(resumed, 'aggregator listening')).toHaveLength(2);
      expect(logged(resumed, 'plugin launched')).toHaveLength(2);
      expect((await pluginPods()).map((p) => p.metadata.uid).sort()).toEqual(uidsBefore);

      // While the DaemonSet is still held: status and a partial tarball from the new process.
      const status = await fathom(['status', '-o', 'json', ...target(cluster!.kubeconfig, ns)]);
      expect(status.code, status.stderr).toBe(0);
      const seen = JSON.parse(status.stdout) as RunStatus;
      expect(seen.status).toBe('running');
      expect(seen.plugins.map((e) => `${e.plugin}/${e.node}:${e.status}`).sort()).toEqual([
        'early/global:complete',
        ...nodes.map((n) => `late/${n}:running`),
      ]);
      const partial = await fathom([
        'retrieve',
        '--partial',
        join(dir, 'partial'),
        ...target(cluster!.kubeconfig, ns),
      ]);
      expect(partial.code, partial.stderr).toBe(0);
      expect(partial.stdout.trim()).toMatch(/_partial\.tar\.gz$/);
      const partialTree = join(dir, 'partial-tree');
      await mkdir(partialTree);
      await untar(partial.stdout.trim(), partialTree);
      expect(
        (await filesUnder(join(partialTree, 'plugins'))).filter((f) => f.includes('/results/')),
      ).toEqual(['early/results/global/early.txt']);
    }, 120_000);

    it('is killed again and held down while the DaemonSet reports: the failed uploads are retried, and the tarball has every result', async () => {
      // Without the Secret its env refers to, the container cannot start again (a kubelet's
      // CreateContainerConfigError): the aggregator stays down until the Secret is back.
      const secretPath = `/api/v1/namespaces/${ns}/secrets/${RETRIEVE_SECRET}`;
      const secret = await api.get<Secret>(secretPath);
      expect((await api.request('DELETE', secretPath)).status).toBe(200);
      killAggregator();
      await untilOrExit(
        running,
        whenAggregator((pod) => {
          const reason = aggregatorContainer(pod)?.state?.waiting?.reason;
          return reason === 'CreateContainerConfigError' || undefined;
        }),
      );
      expect(runner.containerPid(ns, AGGREGATOR, 'aggregator')).toBeUndefined();

      // Both DaemonSet pods report now, find no aggregator and keep trying.
      await writeFile(gate, '');
      const workerLog = (pod: Pod): Promise<string> =>
        runner.podLogs(ns, pod.metadata.name, 'sonobuoy-worker');
      for (const pod of gated) {
        await untilOrExit(
          running,
          whenInDir(runner.podDir(ns, pod.metadata.name)!, async () =>
            logged(await workerLog(pod), 'upload failed; retrying').length > 0 ? true : undefined,
          ),
        );
      }
      const { labels } = secret.metadata;
      await api.create(`/api/v1/namespaces/${ns}/secrets`, {
        metadata: { name: RETRIEVE_SECRET, ...(labels ? { labels } : {}) },
        data: secret.data,
      });

      const r = await running;
      expect(r.code, r.stderr).toBe(0);
      const final = statusOf(r);
      expect(final.status).toBe('complete');
      expect(entries(final)).toEqual([
        'early/global:complete:passed',
        ...nodes.map((n) => `late/${n}:complete:passed`),
      ]);
      const after = await api.get<Pod>(`/api/v1/namespaces/${ns}/pods/${AGGREGATOR}`);
      expect(aggregatorContainer(after)?.restartCount).toBe(2);
      // Each worker's result went to the restarted aggregator on a retry, accepted the first time.
      for (const pod of gated) {
        const delivered = logged(await workerLog(pod), 'result delivered');
        expect(delivered).toHaveLength(1);
        expect(delivered[0]).toMatchObject({ alreadyReceived: false });
        expect(delivered[0]!.attempts).toBeGreaterThan(1);
      }

      const home = join(dir, 'home');
      const retrieved = await fathom(['retrieve', home, ...target(cluster!.kubeconfig, ns)]);
      expect(retrieved.code, retrieved.stderr).toBe(0);
      expect(retrieved.stdout.trim()).toBe(join(home, final['tar-info'].name));
      await untar(retrieved.stdout.trim(), home);
      expect(await readFile(join(home, 'plugins/early/results/global/early.txt'), 'utf8')).toBe(
        'early result\n',
      );
      for (const n of nodes) {
        expect(await readFile(join(home, `plugins/late/results/${n}/late.txt`), 'utf8')).toBe(
          `late on ${n}\n`,
        );
      }
      // The tarball's run log spans the three aggregator processes; each result came in once.
      const runLog = await readFile(join(home, 'meta', 'run.log'), 'utf8');
      expect(logged(runLog, 'resuming from the journal')).toHaveLength(2);
      expect(logged(runLog, 'result received')).toHaveLength(nodes.length + 1);
      // The Job finished before the first kill and was adopted, never started again.
      expect(await readFile(runs, 'utf8')).toBe('run\n');
    }, 150_000);
  },
);
