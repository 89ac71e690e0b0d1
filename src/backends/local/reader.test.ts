import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PluginStatusEntry, RunStatus } from '../../aggregation/types.js';
import { ManualClock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { compute } from '../../status/compute.js';
import { createStatusPoller } from '../../status/poller.js';
import type { KubeObject } from '../../status/types.js';
import { watchStatus, type WatchUpdate } from '../../status/watch.js';
import { createLocalClusterReader, LOCAL_GROUP } from './reader.js';
import { recordPlugin } from './test-helpers.js';

const RUN = { group: LOCAL_GROUP, kind: 'Run' };
const POD = { group: '', kind: 'Pod' };
const AGGREGATOR_PID = 4242;

let home: string;
let live: Set<number>;
const reader = () => createLocalClusterReader({ home, isAlive: (pid) => live.has(pid ?? -1) });

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-local-reader-'));
  live = new Set([AGGREGATOR_PID]);
});
afterEach(() => rm(home, { recursive: true, force: true }));

const plugin = (name: string, driver: 'Job' | 'DaemonSet', nodeSelector = {}) =>
  recordPlugin(name, driver, { nodeSelector });

const entry = (
  p: string,
  node: string,
  status: PluginStatusEntry['status'],
): PluginStatusEntry => ({
  plugin: p,
  node,
  status,
  'result-status': status === 'complete' ? 'passed' : '',
  'result-counts': null,
});

/** Writes a run directory as the local backend does. */
async function writeRun(
  ns: string,
  status?: RunStatus['status'],
  plugins: PluginStatusEntry[] = [],
) {
  const dir = join(home, 'runs', ns);
  await mkdir(dir, { recursive: true });
  const record = {
    uuid: `uuid-${ns}`,
    namespace: ns,
    createdAt: '2026-01-01T00:00:00.000Z',
    timeoutMs: 0,
    maxResultBytes: 0,
    terminatedGraceMs: 0,
    nodes: [
      { name: 'node-1', labels: {} },
      { name: 'node-2', labels: { gpu: 'yes' } },
    ],
    plugins: [plugin('ds', 'DaemonSet'), plugin('gpu', 'Job', { gpu: 'yes' })],
  };
  await writeFile(join(dir, 'run.json'), JSON.stringify(record));
  await writeFile(join(dir, 'aggregator.pid'), String(AGGREGATOR_PID));
  if (status) {
    const doc: RunStatus = {
      plugins,
      status,
      'tar-info': {
        name: status === 'complete' ? 'r.tar.gz' : '',
        created: '',
        sha256: '',
        size: 0,
      },
    };
    await writeFile(join(dir, 'status.json'), JSON.stringify(doc));
  }
  return dir;
}

type Snap = [container: string, state: 'running' | 'terminated' | 'waiting', exitCode?: number];

async function writePod(dir: string, plugin: string, key: string, containers: Snap[]) {
  const podDir = join(dir, 'pods', plugin, key);
  await mkdir(podDir, { recursive: true });
  if (!containers.length) return;
  const snapshot = {
    containers: containers.map(([name, state, exitCode]) => ({
      name,
      state,
      ...(state === 'terminated' ? { exitCode, reason: exitCode ? 'Error' : 'Completed' } : {}),
    })),
  };
  await writeFile(join(podDir, 'status.json'), JSON.stringify(snapshot));
}

const verdict = (o: KubeObject | undefined) => {
  const r = compute(o!);
  return `${r.status}: ${r.message}`;
};

describe('the local ClusterReader: Run', () => {
  it('is NotFound without a run, and for a namespace that cannot name one', async () => {
    const r = reader();
    expect(await r.get({ ...RUN, namespace: 'e2e', name: 'e2e' })).toBeUndefined();
    expect(await r.get({ ...RUN, namespace: 'Not_A_Label', name: 'x' })).toBeUndefined();
    expect(await r.list(RUN, '')).toEqual([]);
  });

  it('is InProgress while running, Current once complete, Failed when the aggregator died', async () => {
    const r = reader();
    const id = { ...RUN, namespace: 'e2e', name: 'e2e' };
    await writeRun('e2e', 'running', [
      entry('ds', 'node-1', 'complete'),
      entry('ds', 'node-2', 'running'),
    ]);
    const running = await r.get(id);
    expect(running).toMatchObject({
      apiVersion: 'fathom.dev/v1alpha1',
      kind: 'Run',
      metadata: { name: 'e2e', namespace: 'e2e', uid: 'uuid-e2e' },
      status: { phase: 'Running', results: { expected: 2, received: 1, failed: 0 } },
    });
    expect(verdict(running)).toBe('InProgress: 1 of 2 results in');

    await writeRun('e2e', 'post-processing');
    expect(verdict(await r.get(id))).toBe('InProgress: All results are in; post-processing them');

    await writeRun('e2e', 'complete', [entry('ds', 'node-1', 'complete')]);
    live.clear(); // the aggregator exits after its last status
    const complete = await r.get(id);
    expect(verdict(complete)).toBe('Current: Resource is Ready');
    expect(complete).toMatchObject({ status: { phase: 'Complete', tarball: 'r.tar.gz' } });

    await writeRun('e2e', 'running');
    expect(verdict(await r.get(id))).toBe('Failed: The aggregator stopped before the run finished');
  });

  it('a corrupt run.json is an error naming the file and field, not a missing run', async () => {
    const dir = await writeRun('e2e', 'running');
    await writeFile(join(dir, 'run.json'), JSON.stringify({ uuid: 'u', namespace: 'e2e' }));
    await expect(reader().get({ ...RUN, namespace: 'e2e', name: 'e2e' })).rejects.toMatchObject({
      code: 'FATHOM_STATE_INVALID',
      message: `${join(dir, 'run.json')}: createdAt: is missing`,
    });
  });

  it('a live aggregator that has not published yet is a running run', async () => {
    await writeRun('e2e');
    expect(verdict(await reader().get({ ...RUN, namespace: 'e2e', name: 'e2e' }))).toBe(
      'InProgress: 0 of 0 results in',
    );
  });

  it("'' lists the runs of every namespace; other names in a namespace are NotFound", async () => {
    await writeRun('a', 'running');
    await writeRun('b', 'running');
    const r = reader();
    expect((await r.list(RUN, '')).map((o) => (o.metadata as { name: string }).name)).toEqual([
      'a',
      'b',
    ]);
    expect(await r.get({ ...RUN, namespace: 'a', name: 'b' })).toBeUndefined();
  });
});

describe('the local ClusterReader: Pods', () => {
  it('gives each plugin placement and the aggregator a phase kstatus reads', async () => {
    const dir = await writeRun('e2e', 'running');
    await writePod(dir, 'ds', 'node-1', [['sonobuoy-worker', 'running']]);
    await writePod(dir, 'ds', 'node-2', [
      ['sonobuoy-worker', 'running'],
      ['plugin', 'running'],
    ]);
    await writePod(dir, 'gpu', 'global', [
      ['sonobuoy-worker', 'terminated', 0],
      ['plugin', 'terminated', 0],
    ]);
    const pods = await reader().list(POD, 'e2e');
    expect(
      pods.map((p) => [
        (p.metadata as { name: string }).name,
        (p.spec as { nodeName?: string }).nodeName,
        (p.status as { phase: string }).phase,
        verdict(p),
      ]),
    ).toEqual([
      ['fathom-aggregator', undefined, 'Running', 'Current: Pod is Ready'],
      ['fathom-ds-node-1', 'node-1', 'Pending', 'InProgress: Pod is in the Pending phase'],
      ['fathom-ds-node-2', 'node-2', 'Running', 'Current: Pod is Ready'],
      ['fathom-gpu-job', 'node-2', 'Succeeded', 'Current: Pod has completed successfully'],
    ]);
    expect(pods[1]).toMatchObject({
      metadata: {
        labels: { component: 'fathom', 'fathom-run': 'uuid-e2e', 'fathom-plugin': 'ds' },
      },
      status: {
        containerStatuses: [
          { name: 'plugin', ready: false, state: { waiting: { reason: 'ContainerCreating' } } },
          { name: 'sonobuoy-worker', ready: true, state: { running: {} } },
        ],
      },
    });
  });

  it('one container done and one running is Running but not Ready; a failure is phase Failed', async () => {
    const dir = await writeRun('e2e', 'running');
    await writePod(dir, 'ds', 'node-1', [
      ['sonobuoy-worker', 'running'],
      ['plugin', 'terminated', 0],
    ]);
    await writePod(dir, 'ds', 'node-2', [
      ['sonobuoy-worker', 'terminated', 0],
      ['plugin', 'terminated', 3],
    ]);
    const r = reader();
    expect(verdict(await r.get({ ...POD, namespace: 'e2e', name: 'fathom-ds-node-1' }))).toBe(
      'InProgress: Pod is running but is not Ready',
    );
    const failed = await r.get({ ...POD, namespace: 'e2e', name: 'fathom-ds-node-2' });
    expect((failed!.status as { phase: string }).phase).toBe('Failed');
    expect(verdict(failed)).toBe('Current: Pod has completed, but not successfully');
  });

  it('with the aggregator gone, a "running" container whose process died is lost', async () => {
    const dir = await writeRun('e2e', 'running');
    await writePod(dir, 'ds', 'node-1', [
      ['sonobuoy-worker', 'running'],
      ['plugin', 'running'],
    ]);
    await mkdir(join(dir, 'pids'));
    await writeFile(join(dir, 'pids', '111'), 'fathom-ds-node-1/plugin\n');
    await writeFile(join(dir, 'pids', '112'), 'fathom-ds-node-1/sonobuoy-worker\n');
    live = new Set([112]);
    const [aggregator, pod] = await reader().list(POD, 'e2e');
    expect((aggregator!.status as { phase: string }).phase).toBe('Failed');
    expect(pod).toMatchObject({
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'plugin',
            state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } },
          },
          { name: 'sonobuoy-worker', state: { running: {} } },
        ],
      },
    });
  });

  it('filters by label selector, and names unknown kinds in its error', async () => {
    const dir = await writeRun('e2e', 'running');
    await writePod(dir, 'ds', 'node-1', []);
    await writePod(dir, 'gpu', 'global', []);
    const r = reader();
    const selected = await r.list(POD, 'e2e', { matchLabels: { 'fathom-plugin': 'gpu' } });
    expect(selected.map((p) => (p.metadata as { name: string }).name)).toEqual(['fathom-gpu-job']);
    expect(verdict(selected[0])).toBe('InProgress: Pod is in the Pending phase');
    const err = await r.list({ group: 'apps', kind: 'Deployment' }, 'e2e').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FathomError);
    expect((err as FathomError).message).toBe(
      'the local backend has no kind Deployment.apps (it serves Run.fathom.dev, Pod, Session.fathom.dev)',
    );
    expect(await r.scopeOf(RUN)).toBe('Namespaced');
    expect(await r.scopeOf({ group: 'apps', kind: 'Deployment' })).toBeUndefined();
  });
});

describe('the local ClusterReader under the poller', () => {
  /** Yields to I/O until the watch is parked on its poll sleep (or over). */
  /** Until the watch waits for its next cycle, or ends. */
  const parked = (clock: ManualClock, outcome: Promise<unknown>): Promise<unknown> =>
    Promise.race([clock.whenSleeping(), outcome]);

  it('a watch on the Run and its pods reaches Current when the run completes', async () => {
    const dir = await writeRun('e2e', 'running', [entry('ds', 'node-1', 'running')]);
    await writePod(dir, 'ds', 'node-1', [['sonobuoy-worker', 'running']]);
    const clock = new ManualClock();
    const updates: WatchUpdate[] = [];
    const outcome = watchStatus(
      createStatusPoller(reader()),
      [
        { ...RUN, namespace: 'e2e', name: 'e2e' },
        { ...POD, namespace: 'e2e', name: 'fathom-ds-node-1' },
      ],
      { until: 'current', pollInterval: 1000, clock },
      (u) => updates.push(u),
    );
    await parked(clock, outcome);
    expect(updates.at(-1)!.aggregate).toBe('InProgress');

    await writePod(dir, 'ds', 'node-1', [
      ['sonobuoy-worker', 'terminated', 0],
      ['plugin', 'terminated', 0],
    ]);
    await writeRun('e2e', 'complete', [entry('ds', 'node-1', 'complete')]);
    await clock.advance(1000);
    await parked(clock, outcome);
    expect(await outcome).toMatchObject({ end: 'reached', aggregate: 'Current' });
    expect(
      updates.flatMap((u) =>
        u.event.type === 'ResourceUpdate'
          ? [
              `${u.event.resource.identifier.kind} ${u.event.resource.status} ${u.event.resource.message}`,
            ]
          : [],
      ),
    ).toEqual([
      'Run InProgress 0 of 1 results in',
      'Pod InProgress Pod is in the Pending phase',
      'Run Current Resource is Ready',
      'Pod Current Pod has completed successfully',
    ]);
  });
});
