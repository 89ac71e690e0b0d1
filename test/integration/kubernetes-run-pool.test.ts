/**
 * `fathom run --pool --backend kubernetes` through the real CLI against the real control plane,
 * the test pod runner playing the kubelet: three runner nodes, two of them in a pool (label
 * `fathom.test/pool`, given with --pool-label), and the session controller as
 * `fathom session-controller --backend kubernetes` in a process of its own, in a sessions
 * namespace of this test's (`--sessions-namespace`):
 *
 * - a session holds one node of the pool; a run asking for the whole pool waits, saying so;
 *   the session ends, the run is granted both nodes, runs its DaemonSet on exactly them and its
 *   Job on one of them; `fathom status` says it waits, `fathom pools` shows `run/<namespace>`
 *   while it runs and nothing once it is complete;
 * - `--pool-nodes 1`: the plugins are kept to the one node granted; `fathom delete` gives it
 *   back;
 * - a pool no node is in is refused before anything is created.
 *
 * Needs `npm run build`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeHttpFromKubeconfig, type KubeHttp, type KubeObject } from '../cluster/kube.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import { fathom, fathomBin, tempDir, type CliResult } from '../support/cli.js';
import {
  FAST_WORKER_ENV,
  NODE_LABEL,
  WAIT_FOR_FILE,
  entries,
  podSpec,
  statusOf,
  target,
  type Pod,
} from './kube-cli.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const POOL_LABEL = 'fathom.test/pool';
const node = process.execPath;

/** A Job that writes its result once `gate` exists, and a DaemonSet that writes its at once. */
function plugins(label: string, gate: string): string {
  return `sonobuoy-config: {driver: Job, plugin-name: once, result-format: raw, skip-cleanup: true}
spec:
  name: plugin
  image: registry.example/never-pulled:1
  command: [/bin/sh, -c]
  args:
  - |
    while [ ! -e "${gate}" ]; do sleep 0.1; done
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

interface PoolJson {
  name: string;
  reserved: number;
  holders: { holder: string; nodes: string[] }[];
}

/** The CLI in the background: its stderr as it comes, and its result once it exits. */
function background(args: string[]) {
  const p = spawn(node, [fathomBin, ...args], {
    env: { ...process.env, CI: 'true', NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  const seen: { text: string; resolve: () => void }[] = [];
  p.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const s of seen.filter((x) => stderr.includes(x.text))) s.resolve();
  });
  const exited = new Promise<CliResult>((resolve) =>
    p.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
  return {
    process: p,
    exited,
    /** Resolves once stderr holds `text`; fails if the CLI exits first. */
    said(text: string): Promise<void> {
      const once = new Promise<void>((resolve) => {
        seen.push({ text, resolve });
        if (stderr.includes(text)) resolve();
      });
      return Promise.race([
        once,
        exited.then((r) => {
          throw new Error(`fathom exited (${r.code}) before saying ${text}:\n${r.stderr}`);
        }),
      ]);
    },
  };
}

describe.skipIf(!cluster)(
  `fathom run --pool --backend kubernetes${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const label = randomBytes(4).toString('hex');
    const pool = `p-${label}`;
    const sessionsNs = `kpool-sessions-${label}`;
    let inPool: TestPodRunner;
    let outside: TestPodRunner;
    let api: KubeHttp;
    let dir: string;
    let controller: ChildProcess | undefined;

    const sessionFlags = (): string[] => [
      ...target(cluster!.kubeconfig, sessionsNs),
      '--pool-label',
      POOL_LABEL,
    ];
    const runFlags = (ns: string, poolName: string, file: string): string[] => [
      'run',
      ...target(cluster!.kubeconfig, ns),
      '-p',
      file,
      '--pool',
      poolName,
      '--pool-label',
      POOL_LABEL,
      '--sessions-namespace',
      sessionsNs,
      '--aggregator-node-selector',
      `${NODE_LABEL}:${label}`,
    ];
    async function pools(): Promise<PoolJson | undefined> {
      const r = await fathom(['pools', ...sessionFlags(), '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as PoolJson[]).find((p) => p.name === pool);
    }
    /** Polls `fathom pools` (it has no watch) until `probe` holds, failing after `ms`. */
    async function poolsUntil(
      what: string,
      probe: (p: PoolJson | undefined) => boolean,
      ms = 60_000,
    ) {
      const deadline = Date.now() + ms;
      for (;;) {
        const p = await pools();
        if (probe(p)) return p;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(p)}`);
      }
    }
    const podsOf = async (ns: string, plugin: string): Promise<Pod[]> =>
      (
        await api.get<{ items: Pod[] }>(
          `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(`sonobuoy-plugin=${plugin}`)}`,
        )
      ).items;

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
      await api.create('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: sessionsNs },
      });
      const log = openSync(join(dir, 'controller.log'), 'a');
      controller = spawn(
        node,
        [fathomBin, 'session-controller', ...sessionFlags(), '--executors', '1'],
        { stdio: ['ignore', log, log], env: { ...process.env, CI: 'true' } },
      );
      closeSync(log);
    }, 120_000);

    afterAll(async () => {
      const p = controller;
      if (p && p.exitCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await exited;
      }
      await inPool?.stop();
      await outside?.stop();
      await api?.request('DELETE', `/api/v1/namespaces/${sessionsNs}`).catch(() => undefined);
      api?.close();
      if (dir && !process.env.FATHOM_CLUSTER_KEEP) await rm(dir, { recursive: true, force: true });
    }, 120_000);

    it('waits while a session holds a node of the pool, then runs on exactly the pool’s nodes; pools shows it while it runs', async () => {
      // A session whose one component holds one node of the pool until `sessionGate` exists.
      const wait = join(dir, 'wait.js');
      await writeFile(wait, WAIT_FOR_FILE);
      const sessionGate = join(dir, 'session-gate');
      const session = join(dir, 'hold.json');
      await writeFile(
        session,
        JSON.stringify({
          apiVersion: 'fathom.dev/v1alpha1',
          kind: 'Session',
          metadata: { name: 'hold' },
          spec: {
            timeout: '2m',
            components: [
              {
                name: 'driver',
                kind: 'driver',
                pool,
                image: 'fathom.test/node',
                command: [node, wait, sessionGate],
              },
            ],
          },
        }),
      );
      const s = await fathom(['session', 'submit', '-f', session, ...sessionFlags()]);
      expect(s.code, s.stderr).toBe(0);
      await poolsUntil('the session holding a node', (p) => p?.holders[0]?.holder === 'hold');

      const ns = `fathom-kpool-${label}`;
      const jobGate = join(dir, 'job-gate');
      const file = join(dir, 'plugins.yaml');
      await writeFile(file, plugins(label, jobGate));
      const run = background([...runFlags(ns, pool, file), '--wait', '120s', '-o', 'json']);
      await run.said(`Waiting for the nodes of pool "${pool}", held by session hold.`);
      expect((await api.request('GET', `/api/v1/namespaces/${ns}`)).status).toBe(404);
      const st = await fathom([
        'status',
        ...target(cluster!.kubeconfig, ns),
        '--sessions-namespace',
        sessionsNs,
      ]);
      expect(st.code).not.toBe(0);
      expect(st.stderr).toBe(
        `error: the run in namespace "${ns}" waits for the nodes of pool "${pool}" (\`fathom pools\` shows who holds them)\n`,
      );

      await writeFile(sessionGate, '');
      const nodes = [...inPool.nodes].sort();
      await run.said(`Pool "${pool}": granted ${nodes.join(', ')}.`);
      const held = await poolsUntil('the run holding the pool', (p) =>
        Boolean(p?.holders.some((h) => h.holder === `run/${ns}`)),
      );
      expect(held?.holders).toEqual([{ holder: `run/${ns}`, nodes }]);

      await writeFile(jobGate, '');
      const r = await run.exited;
      expect(r.code, r.stderr).toBe(0);
      expect(entries(statusOf(r))).toEqual(
        [
          ...nodes.map((n) => `per-node/${n}:complete:passed`),
          'once/global:complete:passed',
        ].sort(),
      );
      const placed = (await podsOf(ns, 'once')).map((p) => p.spec.nodeName);
      expect(placed).toHaveLength(1);
      expect(nodes).toContain(placed[0]);
      // Complete: the controller's probe gives the nodes back.
      await poolsUntil('the pool free again', (p) => p?.reserved === 0 && p.holders.length === 0);
      expect(
        (
          await fathom([
            'delete',
            '--wait',
            ...target(cluster!.kubeconfig, ns),
            '--sessions-namespace',
            sessionsNs,
          ])
        ).code,
      ).toBe(0);
    }, 240_000);

    it('--pool-nodes 1: the plugins stay on the one node granted; delete gives it back', async () => {
      const ns = `fathom-kpool-one-${label}`;
      const file = join(dir, 'plugins-one.yaml');
      await writeFile(file, plugins(label, join(dir, 'never')));
      const r = await fathom([...runFlags(ns, pool, file), '--pool-nodes', '1']);
      expect(r.code, r.stderr).toBe(0);
      const granted = /granted (\S+)\./.exec(r.stderr)?.[1];
      expect(inPool.nodes).toContain(granted);
      const held = await pools();
      expect(held?.holders).toEqual([{ holder: `run/${ns}`, nodes: [granted] }]);
      // The aggregator pod creates the plugins' objects: wait for the DaemonSet (a watch).
      const template = await api.waitForList<
        KubeObject & { spec: { template: { spec: Record<string, unknown> } } },
        Record<string, unknown>
      >(
        `/apis/apps/v1/namespaces/${ns}/daemonsets`,
        (all) => [...all.values()][0]?.spec.template.spec,
        60_000,
      );
      expect(template).toMatchObject({
        nodeSelector: { [POOL_LABEL]: pool },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchFields: [{ key: 'metadata.name', operator: 'In', values: [granted] }] },
              ],
            },
          },
        },
      });
      const d = await fathom([
        'delete',
        '--wait',
        ...target(cluster!.kubeconfig, ns),
        '--sessions-namespace',
        sessionsNs,
      ]);
      expect(d.code, d.stderr).toBe(0);
      await poolsUntil('the pool free again', (p) => p?.reserved === 0 && p.holders.length === 0);
    }, 180_000);

    it('a pool no node is in: exit 2, one line, no namespace made', async () => {
      const ns = `fathom-kpool-none-${label}`;
      const r = await fathom([
        ...runFlags(ns, `none-${label}`, join(dir, 'plugins.yaml')),
        '--wait',
        '90s',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `error: --pool none-${label}: pool "none-${label}" does not exist: no node has the label ${POOL_LABEL}=none-${label}\n`,
      );
      expect((await api.request('GET', `/api/v1/namespaces/${ns}`)).status).toBe(404);
    });
  },
);
