/**
 * Sessions across controllers: restarts at any point, sessions written or ended by another
 * process, nodes leaving their pools. Real SQLite store, real local processes, manual clock.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  nextStatus,
  poolsFromNodes,
  SessionExecutor,
  sessionStoreOver,
} from '../../../sessions/index.js';
import { workloadNames } from '../workloads/index.js';
import type { Home } from './test-helpers.js';
import {
  allNodes,
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

describe('sessions written or ended by another process', () => {
  it('one stored without a status is queued on sync and runs; one that can never run ends at once', async () => {
    const c = await controller();
    const other = h.sessions();
    const ok = sessionOf('applied', [
      { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(0) },
    ]);
    const nopool = sessionOf('nopool', [
      { name: 'd', kind: 'driver', pool: 'gpu', command: driverCommand(0) },
    ]);
    await other.create({ session: ok, submittedAt: h.clock.now() });
    await other.create({ session: nopool, submittedAt: h.clock.now() });
    await c.sync();
    const refused = (await other.get('nopool'))!.session;
    expect(refused.status).toMatchObject({ state: 'Errored', reason: 'PoolError' });
    expect(await kinds('nopool')).toEqual(['queued', 'errored']);
    await c.tick();
    expect((await c.until('applied', final)).status?.state).toBe('Succeeded');
    expect(await kinds('applied')).toEqual([
      'queued',
      'accepted',
      'provisioning',
      'running',
      'done',
    ]);
    await allClean(c);
  });

  it('one ended in the store while it runs: its executor stops and cleans up', async () => {
    const c = await controller();
    await c.submit(
      sessionOf('ended', [
        { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(0, 'never') },
      ]),
    );
    await c.until('ended', (s) => s === 'Running');
    const now = h.clock.now();
    await h.sessions().update('ended', (s) => ({
      ...s,
      status: nextStatus(s.status, 'Cancelled', 'Cancelled', 'cancelled elsewhere', now),
    }));
    await c.sync();
    await c.until('ended', final);
    expect(c.running()).toEqual([]);
    await allClean(c);
  });
});

describe('faults', () => {
  it('a controller killed mid-session: the next one adopts what runs and it finishes normally', async () => {
    const first = await controller();
    const session = loadTest('survive', { env: { GO: h.goFile } });
    await first.submit(session);
    await first.until('survive', (s) => s === 'Running');
    const held = first.usage();
    await first.abandon(); // no cleanup: its workloads run on
    expect((await workloadNames(h.home)).length).toBe(5);

    const second = await controller();
    expect(second.running()).toEqual(['survive']);
    expect(second.usage()).toEqual(held);
    // Reservations match what runs: each held node runs one workload of the session.
    const held2 = second
      .usage()
      .flatMap((p) => p.holders.flatMap((x) => x.nodes))
      .sort();
    const workloads = await h.sessions().holdings();
    expect(Object.values(workloads.get('survive')!).flat().sort()).toEqual(held2);
    await h.go();
    const s = await second.until('survive', final);
    expect(s.status).toMatchObject({ state: 'Succeeded', reason: 'DriverSucceeded' });
    // Each event once: the second controller resumed, it did not start over.
    expect(await kinds('survive')).toEqual([
      'queued',
      'accepted',
      'provisioning',
      'running',
      'done',
    ]);
    expect(h.placed.filter((n) => n === 'survive-d-0')).toHaveLength(1);
    await allClean(second);
  });

  it('a controller killed mid-provisioning: the next one places the rest, each workload once', async () => {
    const first = await controller();
    await first.submit(loadTest('mid', { env: { GO: h.goFile } }));
    await h.whenPlaced('mid-s-1');
    await first.abandon();
    const second = await controller();
    expect(second.running()).toEqual(['mid']);
    await second.until('mid', (s) => s === 'Running');
    await h.go();
    expect((await second.until('mid', final)).status?.state).toBe('Succeeded');
    expect([...h.placed].sort()).toEqual(['mid-c-0', 'mid-c-1', 'mid-d-0', 'mid-s-0', 'mid-s-1']);
    expect(await kinds('mid')).toEqual(['queued', 'accepted', 'provisioning', 'running', 'done']);
    await allClean(second);
  });

  it('a queued session survives a restart and runs under the next controller', async () => {
    const first = await controller(1);
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
    await first.submit(waits('a'));
    await first.submit(waits('b'));
    await first.abandon();
    const second = await controller(1);
    expect(second.running()).toEqual(['a']);
    expect(second.queued()).toEqual(['b']);
    await h.go();
    expect((await second.until('b', final)).status?.state).toBe('Succeeded');
    await allClean(second);
  });

  it('a node leaving its pool mid-session: Errored PodsMissing, its nodes released', async () => {
    const c = await controller();
    await c.submit(
      sessionOf('lost', [
        { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(1, 'never') },
        { name: 's', kind: 'server', pool: 'srv', command: serverCommand(), port: 1 },
      ]),
    );
    await c.until('lost', (s) => s === 'Running');
    await c.setPools(poolsFromNodes(allNodes.filter((n) => n.name !== 'srv-0')));
    const s = await c.until('lost', final);
    expect(s.status).toMatchObject({ state: 'Errored', reason: 'PodsMissing' });
    expect(s.status?.message).toMatch(/srv-0/);
    await allClean(c);
    expect(c.usage().find((p) => p.name === 'srv')?.capacity).toBe(1);
  });

  it('a store that breaks under a running executor: its workloads are removed all the same', async () => {
    const raw = h.rawStore();
    const store = sessionStoreOver(raw);
    const session = sessionOf('broken', [
      { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(1), env: { GO: h.goFile } },
      { name: 's', kind: 'server', pool: 'srv', command: serverCommand(), port: 1 },
    ]);
    await store.create({ session, submittedAt: h.clock.now() });
    let running!: () => void;
    const isRunning = new Promise<void>((resolve) => (running = resolve));
    const executor = new SessionExecutor({
      session,
      nodes: { drv: ['drv-0'], srv: ['srv-0'] },
      runtime: h.runtime(),
      store,
      clock: h.clock,
      onEvent: (kind) => kind === 'running' && running(),
    });
    const result = executor.run();
    await isRunning;
    expect((await workloadNames(h.home)).sort()).toEqual(['broken-d-0', 'broken-s-0']);
    await raw.close();
    await h.go();
    await expect(result).rejects.toThrow(/not open/);
    expect(await workloadNames(h.home)).toEqual([]);
  });
});
