/**
 * Runs' pool claims through the controller: a claim waits behind a running session, is granted
 * the pool's nodes when it ends, keeps a later session off them, and gives them back when it is
 * removed or its run ends; a restarted controller takes granted claims back. Real SQLite store,
 * real local processes for the sessions, manual clock.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ClaimStore, PoolClaim, SessionController } from '../../../sessions/index.js';
import { claimStoreOver } from '../../../sessions/index.js';
import type { Home } from './test-helpers.js';
import { driverCommand, final, loadTest, sessionOf, sessionsSuite } from './test-helpers.js';

const suite = sessionsSuite();
const { allClean } = suite;
let h: Home;
let claims: ClaimStore;
/** Runs the probe calls ended. */
let ended: Set<string>;
const controllers: SessionController[] = [];

beforeEach(() => {
  h = suite.h();
  claims = claimStoreOver(h.rawStore());
  ended = new Set();
  controllers.length = 0;
});

async function controller(): Promise<SessionController> {
  const c = await h.controller({
    claims: claimStoreOver(h.rawStore()),
    runEnded: (run) => Promise.resolve(ended.has(run)),
  });
  controllers.push(c);
  return c;
}

const claim = (run: string, pool: string, more: Partial<PoolClaim> = {}): PoolClaim => ({
  run,
  pool,
  priority: 0,
  submittedAt: h.clock.now(),
  state: 'Waiting',
  ...more,
});

/** Who holds each pool's nodes, as `fathom pools` shows it. */
const holders = (c: SessionController): Record<string, string[]> =>
  Object.fromEntries(c.usage().map((p) => [p.name, p.holders.map((x) => x.holder)]));

const quick = (name: string, pool: string) =>
  sessionOf(name, [{ name: 'd', kind: 'driver', pool, command: driverCommand(0) }]);

describe('runs on a pool, through the controller', () => {
  it('waits behind a session, gets every node of the pool, keeps a later session off, gives them back when removed', async () => {
    const c = await controller();
    await c.submit(loadTest('lt', { env: { GO: h.goFile } }));
    await c.until('lt', (s) => s === 'Running');
    await claims.create(claim('r', 'srv'));
    await h.clock.advance(1);
    await c.submit(quick('later', 'srv')); // after the claim: behind it
    await c.sync();
    await c.tick();
    expect(c.claims()).toEqual({ queued: ['r'], granted: [] });
    expect(holders(c).srv).toEqual(['lt']);
    expect(c.queued()).toEqual(['later']);

    await h.go();
    await c.until('lt', final);
    await c.tick();
    expect(await claims.get('r')).toMatchObject({ state: 'Granted', granted: ['srv-0', 'srv-1'] });
    expect(c.claims()).toEqual({ queued: [], granted: ['r'] });
    expect(holders(c).srv).toEqual(['run/r']);
    expect((await h.sessions().holdings()).get('run--r')).toEqual({ srv: ['srv-0', 'srv-1'] });
    expect(c.queued()).toEqual(['later']); // a claim holds no executor slot, but its nodes

    await claims.remove('r');
    await c.sync();
    await c.tick();
    expect((await c.until('later', final)).status?.state).toBe('Succeeded');
    expect(c.claims()).toEqual({ queued: [], granted: [] });
    await allClean(c);
  });

  it('a granted claim whose run ended is removed and its nodes freed; a waiting one too', async () => {
    const c = await controller();
    await c.submit(loadTest('lt', { env: { GO: h.goFile } }));
    await c.until('lt', (s) => s === 'Running');
    await claims.create(claim('done', 'drv', { nodes: 2 }));
    await claims.create(claim('gave-up', 'cli'));
    await c.sync();
    await c.tick();
    expect(c.claims()).toEqual({ queued: ['gave-up'], granted: ['done'] });
    expect(holders(c).drv).toEqual(['lt', 'run/done']);
    ended.add('done').add('gave-up');
    await c.sync();
    expect(await claims.list()).toEqual([]);
    expect(c.claims()).toEqual({ queued: [], granted: [] });
    expect(holders(c).drv).toEqual(['lt']);
    await h.go();
    await c.until('lt', final);
    await allClean(c);
  });

  it('a claim for a pool that shrank below it is refused, not queued forever', async () => {
    const c = await controller();
    await claims.create(claim('big', 'srv', { nodes: 2 }));
    await c.sync();
    await c.tick();
    await claims.create(claim('next', 'srv', { nodes: 2 }));
    await c.sync();
    await c.tick();
    expect(c.claims()).toEqual({ queued: ['next'], granted: ['big'] });
    const shrunk = new Map([...h.pools].map(([p, n]) => [p, p === 'srv' ? n.slice(0, 1) : n]));
    await c.setPools(shrunk);
    expect(await claims.get('next')).toMatchObject({ state: 'Refused' });
    expect((await claims.get('next'))!.message).toMatch(
      /pool "srv" has 1 node, the run asks for 2/,
    );
    expect(c.claims()).toEqual({ queued: [], granted: ['big'] });
    // The granted one keeps what is left of its nodes, in the store as well.
    expect((await h.sessions().holdings()).get('run--big')).toEqual({ srv: ['srv-0'] });
  });

  it('a restarted controller takes a granted claim back: its nodes stay held', async () => {
    const first = await controller();
    await claims.create(claim('kept', 'cli'));
    await first.sync();
    await first.tick();
    expect(first.claims().granted).toEqual(['kept']);
    await first.abandon();
    const second = await controller();
    expect(second.claims()).toEqual({ queued: [], granted: ['kept'] });
    expect(holders(second).cli).toEqual(['run/kept']);
    await second.submit(quick('wants-cli', 'cli'));
    expect(second.queued()).toEqual(['wants-cli']);
    await claims.remove('kept');
    await second.sync();
    await second.tick();
    expect((await second.until('wants-cli', final)).status?.state).toBe('Succeeded');
    await allClean(second);
  });
});
