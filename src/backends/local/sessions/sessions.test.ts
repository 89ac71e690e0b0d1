/**
 * Sessions end to end below the CLI: the controller and executors over the real SQLite store and
 * the real local workload runtime (real processes), with the controller's time on a manual clock.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { isFathomError } from '../../../core/errors.js';
import type { Home } from './test-helpers.js';
import {
  driverCommand,
  final,
  loadTest,
  serverCommand,
  sessionOf,
  sessionsSuite,
} from './test-helpers.js';

const suite = sessionsSuite();
const { controller, kinds, allClean } = suite;
let h: Home;
beforeEach(() => {
  h = suite.h();
});

describe('a session runs to its end', () => {
  it('servers, then clients, then the driver with every address: succeeds, logs kept, all removed', async () => {
    const c = await controller();
    await c.submit(loadTest('ok'));
    const s = await c.until('ok', final);
    expect(s.status).toMatchObject({ state: 'Succeeded', reason: 'DriverSucceeded' });
    expect(s.status?.startTime).toBeDefined();
    expect(s.status?.stopTime).toBeDefined();
    expect(s.status?.conditions.find((x) => x.type === 'Ready')?.status).toBe('True');
    expect(await kinds('ok')).toEqual(['queued', 'accepted', 'provisioning', 'running', 'done']);
    // Servers, clients, then the driver, each group after the one before was ready.
    expect(h.placed).toEqual(['ok-s-0', 'ok-s-1', 'ok-c-0', 'ok-c-1', 'ok-d-0']);
    // Removed with the driver last (a controller killed meanwhile still finds its exit).
    expect(h.removed).toEqual(h.placed);
    const logs = await h.sessions().logs('ok');
    expect(logs.map((l) => l.workload).sort()).toEqual(
      ['ok-c-0', 'ok-c-1', 'ok-d-0', 'ok-s-0', 'ok-s-1'].sort(),
    );
    // The driver reached the four in order: servers by replica, then clients by replica.
    const port = (w: string): string =>
      /listening on (\d+)/.exec(logs.find((l) => l.workload === w)!.text)![1]!;
    const reached = /reached (.*)/.exec(logs.find((l) => l.workload === 'ok-d-0')!.text)![1]!;
    expect(reached.split(' ').map((a) => a.split(':')[1])).toEqual(
      ['ok-s-0', 'ok-s-1', 'ok-c-0', 'ok-c-1'].map(port),
    );
    await allClean(c);
  });

  it('a driver that exits non-zero: Errored ContainerError, everything removed', async () => {
    const c = await controller();
    await c.submit(loadTest('bad', { command: driverCommand(4, 3) }));
    const s = await c.until('bad', final);
    expect(s.status).toMatchObject({ state: 'Errored', reason: 'ContainerError' });
    expect(s.status?.message).toMatch(/^driver has failed/);
    expect(await kinds('bad')).toEqual([
      'queued',
      'accepted',
      'provisioning',
      'running',
      'errored',
    ]);
    await allClean(c);
  });

  it('a server that exits while the driver runs fails the session at once', async () => {
    const c = await controller();
    await c.submit(
      sessionOf('exits', [
        { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(1, 'never') },
        { name: 's', kind: 'server', pool: 'srv', command: serverCommand(true), port: 1 },
      ]),
    );
    const s = await c.until('exits', final);
    expect(s.status).toMatchObject({ state: 'Errored', reason: 'ComponentExited' });
    expect(s.status?.message).toMatch(/component s \(replica 0\) exited/);
    await allClean(c);
  });

  it('a component whose command does not exist: ContainerError before the driver is placed', async () => {
    const c = await controller();
    await c.submit(
      sessionOf('nocmd', [
        { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(1) },
        { name: 's', kind: 'server', pool: 'srv', command: ['/nonexistent/fathom-nope'], port: 1 },
      ]),
    );
    const s = await c.until('nocmd', final);
    expect(s.status).toMatchObject({ state: 'Errored', reason: 'ContainerError' });
    expect(s.status?.message).toMatch(/component s \(replica 0\) has failed/);
    expect(h.placed).toEqual(['nocmd-s-0']);
    expect(await kinds('nocmd')).toEqual(['queued', 'accepted', 'provisioning', 'errored']);
    await allClean(c);
  });

  it('times out on the clock from its start: TimeoutErrored, everything removed', async () => {
    const c = await controller();
    const spec = { timeout: '30s' };
    await c.submit(
      sessionOf(
        'slow',
        [{ name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(0, 'never') }],
        spec,
      ),
    );
    await c.until('slow', (s) => s === 'Running');
    await h.clock.advance(29_999);
    expect((await h.sessions().get('slow'))?.session.status?.state).toBe('Running');
    await h.clock.advance(1);
    const s = await c.until('slow', final);
    expect(s.status).toMatchObject({ state: 'Errored', reason: 'TimeoutErrored' });
    expect(s.status?.message).toBe('test did not complete before timeout (30s)');
    await allClean(c);
  });
});

describe('submit, the queue and cancel', () => {
  it('refuses a session that can never run, naming the pool, the request and the capacity', async () => {
    const c = await controller();
    const one = (pool: string, replicas: number) =>
      sessionOf('x', [
        { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(0) },
        { name: 's', kind: 'server', pool, replicas, command: serverCommand(), port: 1 },
      ]);
    const refused = async (s: ReturnType<typeof one>) =>
      c.submit(s).then(
        () => undefined,
        (e: unknown) => (isFathomError(e, 'FATHOM_SESSION_REFUSED') ? e.message : String(e)),
      );
    expect(await refused(one('gpu', 1))).toMatch(/session x: pool "gpu" does not exist/);
    expect(await refused(one('srv', 3))).toBe(
      'session x: pool "srv" has 2 nodes, the session needs 3',
    );
    expect(await h.sessions().list()).toEqual([]);
  });

  it('runs exactly `executors` sessions with more queued; the third starts when one ends', async () => {
    const c = await controller(2);
    const most = { n: 0 };
    const active = new Set<string>();
    c.onChange((name, state) => {
      if (state === 'Initializing' || state === 'Running') active.add(name);
      else active.delete(name);
      most.n = Math.max(most.n, active.size);
    });
    const waits = (name: string) =>
      sessionOf(name, [
        {
          name: 'd',
          kind: 'driver',
          pool: 'drv',
          command: driverCommand(0),
          env: { GO: h.goFile },
        },
      ]);
    for (const n of ['q1', 'q2', 'q3']) await c.submit(waits(n));
    expect(c.running()).toEqual(['q1', 'q2']);
    expect(c.queued()).toEqual(['q3']);
    expect((await h.sessions().get('q3'))?.session.status?.state).toBe('Queued');
    await Promise.all(['q1', 'q2'].map((n) => c.until(n, (s) => s === 'Running')));
    await h.go();
    for (const n of ['q1', 'q2', 'q3']) {
      expect((await c.until(n, final)).status?.state).toBe('Succeeded');
    }
    expect(most.n).toBe(2);
    await allClean(c);
  });

  it('cancels a queued session at once and a running one with its workloads', async () => {
    const c = await controller(1);
    const forever = (name: string) =>
      sessionOf(name, [
        { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(1, 'never') },
        { name: 's', kind: 'server', pool: 'srv', command: serverCommand(), port: 1 },
      ]);
    await c.submit(forever('run'));
    await c.submit(forever('wait'));
    expect(c.queued()).toEqual(['wait']);
    const q = await c.cancel('wait');
    expect(q.status).toMatchObject({ state: 'Cancelled', reason: 'Cancelled' });
    expect(q.status?.startTime).toBeUndefined();
    expect(await kinds('wait')).toEqual(['queued', 'errored']);
    expect(c.queued()).toEqual([]);

    await c.until('run', (s) => s === 'Running');
    const r = await c.cancel('run');
    expect(r.status).toMatchObject({ state: 'Cancelled', reason: 'Cancelled' });
    expect(await kinds('run')).toEqual([
      'queued',
      'accepted',
      'provisioning',
      'running',
      'errored',
    ]);
    await allClean(c);
    // Cancelling what ended changes nothing; an unknown name is an error.
    expect((await c.cancel('run')).status?.state).toBe('Cancelled');
    await expect(c.cancel('nope')).rejects.toMatchObject({ code: 'FATHOM_SESSION_NOT_FOUND' });
  });

  it('admits by priority, then first come, when an executor frees', async () => {
    const c = await controller(1);
    const waits = (name: string, priority: number) =>
      sessionOf(
        name,
        [
          {
            name: 'd',
            kind: 'driver',
            pool: 'drv',
            command: driverCommand(0),
            env: { GO: h.goFile },
          },
        ],
        { priority },
      );
    await c.submit(waits('first', 0));
    await c.submit(waits('low', 0));
    await c.submit(waits('high', 5));
    expect(c.queued()).toEqual(['high', 'low']);
    const order: string[] = [];
    c.onChange(
      (name, state) => state === 'Initializing' && !order.includes(name) && order.push(name),
    );
    await h.go();
    await c.until('low', final);
    expect(order).toEqual(['high', 'low']);
  });

  it('drops a finished session with its events and logs once its ttl has passed', async () => {
    const c = await controller();
    const s = sessionOf(
      'brief',
      [{ name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(0) }],
      {
        ttl: '10m',
      },
    );
    await c.submit(s);
    await c.until('brief', final);
    await h.clock.advance(10 * 60_000 - 1);
    await c.tick();
    expect(await h.sessions().logs('brief')).toHaveLength(1);
    await h.clock.advance(1);
    await c.tick();
    expect(await h.sessions().get('brief')).toBeUndefined();
    expect(await h.sessions().events('brief')).toEqual([]);
    expect(await h.sessions().logs('brief')).toEqual([]);
  });
});
