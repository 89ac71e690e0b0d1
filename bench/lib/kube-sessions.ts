/**
 * Session submit to running on the test control plane: 50 kwok nodes of which 1 are pool
 * `drivers`, 4 `servers` and 8 `clients` (label fathom.test/pool), `fathom session-controller
 * --backend kubernetes` as a process of its own, and a session of 1 driver, 4 servers and 8
 * clients submitted REPS times through the CLI. kwok marks each pod Running once bound, so the
 * figure is fathom's part plus the API server, not container start-ups.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '../../test/cluster/cluster.js';
import { POOL_LABEL } from '../../test/cluster/nodes.js';
import { clusterBinaries } from './kube-run.js';
import { FATHOM_BIN, runTimed, vmHwmKiB } from './measure.js';

export const KUBE_SESSION_NODES = 50;

export interface KubeSessionRun {
  /** From spawning `session submit` to the `running` event (every component Running). */
  submitToRunningMs: number;
  acceptedToRunningMs: number;
}

export interface KubeSessionFigures {
  runs: KubeSessionRun[];
  clusterStartMs: number;
  controllerHwmKiB?: number;
}

const node = process.execPath;

export async function kubeSessions(
  reps: number,
  log: (line: string) => void,
): Promise<KubeSessionFigures> {
  const binaries = await clusterBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-ksessions-'));
  const started = performance.now();
  const cluster: TestCluster = await startCluster({
    nodes: KUBE_SESSION_NODES,
    pools: [
      { name: 'drivers', count: 1 },
      { name: 'servers', count: 4 },
      { name: 'clients', count: 8 },
    ],
    binaries,
    log,
  });
  const clusterStartMs = performance.now() - started;
  const flags = ['--backend', 'kubernetes', '--kubeconfig', cluster.kubeconfig];
  const poolFlags = ['--pool-label', POOL_LABEL];
  const cli = async (args: string[]): Promise<string> => {
    const r = await runTimed(node, [FATHOM_BIN, ...args, ...flags, ...poolFlags], {
      captureStdout: true,
      timeoutMs: 120_000,
    });
    if (r.code !== 0) throw new Error(`fathom ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  await cluster.api.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'fathom-sessions' },
  });
  const controller = spawn(node, [FATHOM_BIN, 'session-controller', ...flags, ...poolFlags], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  try {
    const runs: KubeSessionRun[] = [];
    for (let i = 0; i < reps; i++) {
      const name = `lt-${i}`;
      const file = join(dir, `${name}.yaml`);
      const component = (n: string, kind: string, replicas: number) => ({
        name: n,
        kind,
        pool: `${n}s`,
        replicas,
        image: 'registry.example/load:1',
        command: ['/load', kind],
        ...(kind === 'driver' ? {} : { port: 10000 }),
      });
      const doc = {
        apiVersion: 'fathom.dev/v1alpha1',
        kind: 'Session',
        metadata: { name },
        spec: {
          timeout: '5m',
          components: [
            component('driver', 'driver', 1),
            component('server', 'server', 4),
            component('client', 'client', 8),
          ],
        },
      };
      await writeFile(file, JSON.stringify(doc));
      const t0 = Date.now();
      await cli(['session', 'submit', '-f', file]);
      for (let polls = 0; ; polls++) {
        const s = JSON.parse(await cli(['session', 'get', name, '-o', 'json'])) as {
          status?: { state: string; message: string };
        };
        if (s.status?.state === 'Running') break;
        if (s.status && ['Succeeded', 'Errored', 'Cancelled'].includes(s.status.state)) {
          throw new Error(`session ${name} ended ${s.status.state}: ${s.status.message}`);
        }
        if (polls > 600) throw new Error(`session ${name} not running after 600 polls`);
      }
      const events = JSON.parse(await cli(['session', 'events', name, '-o', 'json'])) as {
        kind: string;
        time: number | string;
      }[];
      const at = (kind: string): number => {
        const t = events.find((e) => e.kind === kind)?.time;
        if (t === undefined) throw new Error(`session ${name}: no ${kind} event`);
        return typeof t === 'number' ? t : Date.parse(t);
      };
      runs.push({
        submitToRunningMs: at('running') - t0,
        acceptedToRunningMs: at('running') - at('accepted'),
      });
      log(`kubernetes session ${name}: ${runs.at(-1)!.submitToRunningMs} ms submit→running`);
      await cli(['session', 'cancel', name]);
    }
    const hwm = vmHwmKiB(controller.pid);
    return { runs, clusterStartMs, ...(hwm !== undefined ? { controllerHwmKiB: hwm } : {}) };
  } finally {
    const exited = new Promise((r) => controller.once('exit', r));
    if (controller.exitCode === null) controller.kill('SIGTERM');
    await exited;
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
