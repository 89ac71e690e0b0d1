/**
 * The local run's side of a pool claim: `claimAndWait` against the real SQLite store, with this
 * test playing the controller (its pid file names this live process, so none is started) on a
 * manual clock; and the probe `localRunEnded` over real run directories.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../core/clock.js';
import type { ClusterNode } from '../../../core/nodes.js';
import type { DurableStore } from '../../../core/store.js';
import type { ClaimStore } from '../../../sessions/index.js';
import { claimStoreOver, waitForClaim } from '../../../sessions/index.js';
import { createCluster } from '../cluster-store.js';
import { openLocalStore } from '../durable-store.js';
import { writePidFile } from '../process/pidfile.js';
import { files } from '../store.js';
import type { ClaimWaitOptions } from './run-claims.js';
import { claimAndWait, claimWaiterFile, localRunEnded, poolNodes } from './run-claims.js';

let home: string;
let clock: ManualClock;
let raw: DurableStore;
let claims: ClaimStore;
let lines: string[];
/** A pid that is surely not alive: a child that already exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-run-claims-'));
  await mkdir(join(home, 'sessions'));
  // "The controller runs": ensureController finds a live pid and starts nothing.
  await writePidFile(join(home, 'sessions', 'controller.pid'), process.pid);
  clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
  raw = openLocalStore(home);
  claims = claimStoreOver(raw);
  lines = [];
});
afterEach(async () => {
  await raw.close();
  await rm(home, { recursive: true, force: true });
});

async function waiting(run: string, more: Partial<ClaimWaitOptions> = {}) {
  const dir = join(home, 'runs', run);
  await mkdir(dir, { recursive: true });
  const got = claimAndWait({
    home,
    run,
    dir,
    pool: { name: 'srv', priority: 3, labelKey: 'pool' },
    clock,
    env: {},
    progress: (l) => lines.push(l),
    ...more,
  });
  got.catch(() => {}); // looked at by the test
  await clock.whenSleeping();
  return { dir, got };
}

describe('claimAndWait', () => {
  it('writes the claim, says who holds the pool, returns the nodes once granted; the waiter file stays', async () => {
    const nodes = ['s1', 's2'].map((name) => ({ name, labels: { pool: 'srv' } }));
    await createCluster(home, { nodes }, clock);
    const s = openLocalStore(home);
    await s.collection('session-holdings').create('lt', { nodes: { srv: ['s1'] } });
    await s.close();
    const { dir, got } = await waiting('r');
    expect(await claims.get('r')).toMatchObject({
      run: 'r',
      pool: 'srv',
      priority: 3,
      state: 'Waiting',
    });
    expect(await localRunEnded(home, 'r')).toBe(false); // its waiter is this live process
    await claims.grant('r', ['s2', 's1']);
    await clock.advance(200);
    expect(await got).toEqual(['s1', 's2']);
    expect(lines).toEqual(['Waiting for the nodes of pool "srv", held by session lt.']);
    expect(await localRunEnded(home, 'r')).toBe(false);
    await rm(join(dir, claimWaiterFile));
    expect(await localRunEnded(home, 'r')).toBe(true); // no run.json, nobody waiting
  });

  it('refused while waiting (the pool shrank): FATHOM_POOL_REFUSED with the reason, claim gone', async () => {
    const { got } = await waiting('r');
    await claims.refuse('r', 'pool "srv" has 1 node, the run asks for 2');
    await clock.advance(200);
    await expect(got).rejects.toMatchObject({
      code: 'FATHOM_POOL_REFUSED',
      message: '--pool srv: pool "srv" has 1 node, the run asks for 2',
    });
    expect(await claims.list()).toEqual([]);
  });

  it('given up (Ctrl-C) or removed by delete: the claim goes', async () => {
    const stop = new AbortController();
    const a = await waiting('a', { signal: stop.signal });
    stop.abort();
    await expect(a.got).rejects.toMatchObject({ code: 'FATHOM_TIMEOUT' });
    expect(await claims.get('a')).toBeUndefined();
    const b = await waiting('b');
    await claims.remove('b');
    await clock.advance(200);
    await expect(b.got).rejects.toMatchObject({ code: 'FATHOM_POOL_REFUSED' });
  });

  it("a dead run's claim under the same name is replaced", async () => {
    await claims.create({
      run: 'r',
      pool: 'other',
      priority: 0,
      submittedAt: 1,
      state: 'Granted',
      granted: ['o1'],
    });
    await waiting('r');
    expect(await claims.get('r')).toMatchObject({ pool: 'srv', state: 'Waiting' });
  });

  it('a run name too long for a holding key is refused before anything is written', async () => {
    const run = 'r'.repeat(60);
    await expect(
      claimAndWait({
        home,
        run,
        dir: join(home, 'runs', run),
        pool: { name: 'srv', priority: 0, labelKey: 'pool' },
        clock,
        env: {},
      }),
    ).rejects.toMatchObject({ code: 'FATHOM_BAD_FLAG_VALUE' });
    expect(await claims.list()).toEqual([]);
  });
});

describe('waitForClaim (the part every backend shares)', () => {
  it('no controller acts: warned once, the heartbeat runs on every poll, granted later', async () => {
    const beats: number[] = [];
    let controller = 'absent';
    const got = waitForClaim(
      {
        claims,
        pools: () => Promise.resolve([]),
        ensureController: () => Promise.resolve(controller),
      },
      {
        run: 'k',
        pool: { name: 'srv', priority: 0 },
        clock,
        progress: (l) => lines.push(l),
        absentWarning: 'warning: no session controller',
        beat: () => Promise.resolve(void beats.push(clock.now())),
      },
    );
    await clock.whenSleeping();
    expect(beats).toHaveLength(1); // before the claim was written
    await clock.advance(200);
    await clock.whenSleeping();
    controller = 'running';
    await claims.grant('k', ['s1']);
    await clock.advance(200);
    expect(await got).toEqual(['s1']);
    expect(lines).toEqual([
      'warning: no session controller',
      'Waiting for the nodes of pool "srv".',
    ]);
    expect(beats).toHaveLength(3);
  });
});

describe('localRunEnded', () => {
  const dirOf = (run: string) => join(home, 'runs', run);
  const record = (run: string) => writeFile(join(dirOf(run), files.record), '{}');
  const status = (run: string, s: string) =>
    writeFile(
      join(dirOf(run), files.status),
      JSON.stringify({
        plugins: [],
        status: s,
        'tar-info': { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 },
      }),
    );

  it.each([
    { why: 'deleted: no run directory', setup: () => Promise.resolve(), ended: true },
    {
      why: 'its waiter died before starting it',
      setup: () => writePidFile(join(dirOf('r'), claimWaiterFile), deadPid()),
      ended: true,
    },
    {
      why: 'running: its aggregator is alive',
      setup: async () => {
        await record('r');
        await status('r', 'running');
        await writePidFile(join(dirOf('r'), files.daemonPid), process.pid);
      },
      ended: false,
    },
    {
      why: 'complete',
      setup: async () => {
        await record('r');
        await status('r', 'complete');
      },
      ended: true,
    },
    {
      why: 'failed: its aggregator is dead',
      setup: async () => {
        await record('r');
        await status('r', 'running');
        await writePidFile(join(dirOf('r'), files.daemonPid), deadPid());
      },
      ended: true,
    },
  ])('$why: $ended', async ({ why, setup, ended }) => {
    if (!why.startsWith('deleted')) await mkdir(dirOf('r'), { recursive: true });
    await setup();
    expect(await localRunEnded(home, 'r')).toBe(ended);
  });
});

describe('poolNodes', () => {
  const nodes: ClusterNode[] = [
    { name: 'b', labels: { tier: 'srv' } },
    { name: 'a', labels: { tier: 'srv' } },
    { name: 'c', labels: {} },
  ];
  it('the pool by the configured label; refused as the CLI says it', () => {
    expect(poolNodes(nodes, { name: 'srv', priority: 0, labelKey: 'tier' })).toEqual(['a', 'b']);
    expect(() =>
      poolNodes(nodes, { name: 'srv', nodes: 3, priority: 0, labelKey: 'tier' }),
    ).toThrow('--pool srv: pool "srv" has 2 nodes, the run asks for 3');
    expect(() => poolNodes(nodes, { name: 'srv', priority: 0, labelKey: 'pool' })).toThrow(
      /does not exist: no node has the label pool=srv/,
    );
  });
});
