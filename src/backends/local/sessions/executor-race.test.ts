/**
 * A workload can change before `place` answers: on Kubernetes, kwok (or a fast kubelet) marks a
 * pod Running while its create call is still on its way back, so the watch brings Running and
 * then `place` returns the Pod as created (Pending), and nothing changes after. The executor
 * must keep the watch's newer state, or the session waits for a Running it already saw.
 */
import { describe, expect, it } from 'vitest';
import type { WorkloadRuntime } from '../../../core/workload.js';
import { final, loadTest, sessionsSuite } from './test-helpers.js';

const suite = sessionsSuite();

/** `place` answers only after the watch told Running, and answers with the state as created. */
function lateAnswers(inner: WorkloadRuntime): WorkloadRuntime {
  const running = new Set<string>();
  const wakers = new Map<string, () => void>();
  return {
    get: (n) => inner.get(n),
    list: (o) => inner.list(o),
    logs: (n, c, o) => inner.logs(n, c, o),
    remove: (n, o) => inner.remove(n, o),
    async *watch(owner, signal) {
      for await (const e of inner.watch(owner, signal)) {
        yield e; // handled by the executor before the code below runs
        if (e.type === 'changed' && e.workload.phase === 'Running') {
          running.add(e.workload.name);
          wakers.get(e.workload.name)?.();
        }
      }
    },
    async place(spec) {
      const created = await inner.place(spec);
      if (spec.name.includes('-d-')) return created; // the driver may end before it is seen running
      if (!running.has(spec.name)) await new Promise<void>((r) => wakers.set(spec.name, r));
      return {
        ...created,
        phase: 'Pending',
        containers: created.containers.map((c) => ({
          name: c.name,
          restarts: 0,
          state: 'waiting' as const,
          reason: 'ContainerCreating',
          message: '',
        })),
      };
    },
  };
}

describe('the executor and a place answer older than the watch', () => {
  it('keeps the newer state from the watch: the session runs and succeeds', async () => {
    const h = suite.h();
    const c = await h.controller({ executors: 1, runtime: lateAnswers(h.runtime()) });
    try {
      await c.submit(loadTest('late'));
      const s = await c.until('late', final);
      expect(s.status).toMatchObject({ state: 'Succeeded', reason: 'DriverSucceeded' });
    } finally {
      await c.abandon();
    }
  });
});
