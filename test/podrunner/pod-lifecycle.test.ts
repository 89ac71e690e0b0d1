/** The pod worker restarts, fails, stops and deletes pods like a kubelet (harness.ts). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { whenInDir } from '../support/wait.js';
import { createPodHarness, phase, script } from './harness.js';
import type { PodHarness, Status } from './harness.js';

let harness: PodHarness;
beforeAll(async () => {
  harness = await createPodHarness();
});
afterEach(() => harness.stopAll());
afterAll(() => harness.close());
const start = (...args: Parameters<PodHarness['start']>) => harness.start(...args);

describe('PodWorker lifecycle', () => {
  it('restarts a crashing container with growing backoff on the clock (restartPolicy Always)', async () => {
    const { api, clock } = start({ containers: [script('crash', 'process.exit(1)')] });
    const looping = (restarts: number) => (s: Status) =>
      s.containerStatuses[0]!.restartCount === restarts &&
      s.containerStatuses[0]!.state.waiting?.reason === 'CrashLoopBackOff';

    for (const [restarts, delay] of [
      [0, 1000],
      [1, 2000],
      [2, 4000],
      [3, 4000],
    ] as const) {
      const s = await api.until(looping(restarts), `CrashLoopBackOff after ${restarts} restarts`);
      expect(s.phase).toBe('Running');
      expect(s.containerStatuses[0]!.lastState.terminated?.exitCode).toBe(1);
      expect(s.containerStatuses[0]!.state.waiting?.message).toMatch(
        new RegExp(
          `^back-off ${delay / 1000}s restarting failed container=crash pod=p\\d+_ns\\(uid-\\d+\\)$`,
        ),
      );
      expect(clock.pendingDelays()).toEqual([delay]);
      await clock.advance(delay - 1);
      expect(api.last!.containerStatuses[0]!.restartCount).toBe(restarts); // not a moment early
      await clock.advance(1);
    }
  });

  it('does not restart a container that succeeded under OnFailure', async () => {
    const { api, clock } = start({ restartPolicy: 'OnFailure', containers: [script('ok', '')] });
    const s = await api.until(phase('Succeeded'), 'Succeeded');
    expect(s.containerStatuses[0]!.restartCount).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('fails the pod when an init container fails under Never, and never starts the containers', async () => {
    const { api, podDir } = start({
      restartPolicy: 'Never',
      initContainers: [script('init', 'process.exit(3)')],
      containers: [script('main', 'console.log("ran")')],
    });
    const s = await api.until(phase('Failed'), 'Failed');
    expect(s.initContainerStatuses![0]!.state.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
    expect(s.containerStatuses[0]!.state.waiting?.reason).toBe('PodInitializing');
    await expect(readFile(join(podDir, 'main.log'))).rejects.toThrow();
  });

  it('on deletion sends SIGTERM, SIGKILLs after the grace period, writes the final status and removes the pod', async () => {
    const { api, pod, podDir, worker, clock } = start({
      containers: [
        script(
          'stubborn',
          'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("ready"); setInterval(() => {}, 1e9)',
        ),
      ],
    });
    const log = join(podDir, 'stubborn.log');
    await whenInDir(podDir, async () =>
      (await readFile(log, 'utf8').catch(() => '')).includes('ready') ? true : undefined,
    );
    const pid = worker.pid('stubborn')!;
    expect(pid).toBeGreaterThan(0);

    worker.update({
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: '2026-01-01T00:00:00Z',
        deletionGracePeriodSeconds: 5,
      },
    });
    await whenInDir(podDir, async () =>
      (await readFile(log, 'utf8')).includes('ignoring SIGTERM') ? true : undefined,
    );
    expect(clock.pendingDelays()).toEqual([5000]);
    expect(() => process.kill(pid, 0)).not.toThrow(); // still alive inside the grace period
    expect(api.removed).toBe(0);

    await clock.advance(5000);
    await worker.finished;
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(api.last!.phase).toBe('Failed');
    expect(api.last!.containerStatuses[0]!.state.terminated).toMatchObject({
      exitCode: 137,
      reason: 'Error',
    });
    expect(api.removed).toBe(1);
  });

  it('runs a container without a command as an idle process until stopped, and stop writes nothing', async () => {
    const { api, worker } = start({
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }],
    });
    await api.until(phase('Running'), 'Running');
    const pid = worker.pid('pause')!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    const writes = api.statuses.length;
    await worker.end('stop');
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(api.statuses).toHaveLength(writes);
    expect(api.removed).toBe(0);
  });
  it('kills at once, without API calls, when the pod object is removed outright', async () => {
    const { api, worker, clock } = start({
      containers: [script('c', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1e9)')],
    });
    await api.until(phase('Running'), 'Running');
    const pid = worker.pid('c')!;
    const writes = api.statuses.length;
    await worker.end('gone'); // no clock advance needed: SIGKILL straight away
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(clock.pending).toBe(0);
    expect(api.statuses).toHaveLength(writes);
    expect(api.removed).toBe(0);
  });
});
