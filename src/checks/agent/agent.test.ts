/**
 * Agents against a real dispatcher API on loopback, all on one manual clock. Agent A reaches the
 * dispatcher through a TCP proxy the test can cut (a network partition); the test checks after
 * every step that no check is held by two agents, and that every check is held again once the
 * partitioned node has expired.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { checkIds, configDigest } from '../config/index.js';
import { ChecksHandler } from '../handler.js';
import { dispatcherMetrics } from '../metrics.js';
import { Scheduler } from '../run/scheduler.js';
import { startDispatcherServer, type DispatcherServer } from '../server.js';
import type { CheckConfig } from '../types.js';
import { NodeAgent, type AgentEvent } from './agent.js';
import { createAgentClient, type AgentClient } from './client.js';
import { schedulerExecutor } from './executor.js';

const TOKEN = 't'.repeat(40);
const EXPIRY = 30_000;
const POLL = 10_000;

function cfg(i: number): CheckConfig {
  const content = {
    name: `c${i}`,
    type: 'tcp' as const,
    intervalMs: 5_000,
    timeoutMs: 1_000,
    instances: [{ host: '127.0.0.1', port: 1 }],
  };
  return { ...content, source: `test:${i}`, digest: configDigest(content) };
}

/** A TCP relay to `port` whose connections the test can cut, and refuse while cut. */
async function relay(port: number) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((socket) => {
    if (cut) return socket.destroy();
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut(): void {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    heal(): void {
      cut = false;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('agents with fencing', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('never runs a check on two nodes, and runs every check again after a partition', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 5, 4));
    const ref: { handler?: ChecksHandler } = {};
    const metrics = dispatcherMetrics(() => ref.handler);
    const handler = (ref.handler = new ChecksHandler({
      clock,
      warmupMs: 5_000,
      dispatcher: {
        strategy: 'count',
        nodeExpirationMs: EXPIRY,
        unscheduledThresholdMs: 60_000,
        rebalancePeriodMs: 3_600_000,
        minImprovementPercent: 10,
        checkIds,
        random: () => 0,
        observer: metrics.observer,
      },
    }));
    const server: DispatcherServer = await startDispatcherServer({
      handler,
      clock,
      token: TOKEN,
      registry: metrics.registry,
      nodeExpirationMs: EXPIRY,
      identity: 'solo',
      forward: { timeoutMs: 2000, maxConnections: 4 },
    });
    cleanups.push(
      () => server.close(),
      () => handler.stop(),
    );
    const proxy = await relay(server.port);
    cleanups.push(() => proxy.close());

    const configs = Array.from({ length: 6 }, (_, i) => cfg(i));
    handler.applyConfigs(configs, []);
    await handler.apply({ role: 'leader', term: 1 });

    const stop = new AbortController();
    const events: Record<string, AgentEvent[]> = { a: [], b: [] };
    const agents: Record<string, NodeAgent> = {};
    const loops: Promise<void>[] = [];
    for (const [node, url] of [
      ['a', proxy.url],
      ['b', server.url],
    ] as const) {
      const client: AgentClient = createAgentClient({ url, token: TOKEN, timeoutMs: 2000 });
      const scheduler = new Scheduler({
        clock,
        run: () => Promise.resolve({ status: 'ok', message: '', metrics: {} }),
      });
      cleanups.push(
        () => client.close(),
        () => scheduler.stop(),
      );
      agents[node] = new NodeAgent({
        node,
        client,
        executor: schedulerExecutor(scheduler, checkIds),
        clock,
        pollMs: POLL,
        nodeExpirationMs: EXPIRY,
        onEvent: (e) => events[node]!.push(e),
      });
      loops.push(agents[node].run(stop.signal));
    }
    cleanups.push(async () => {
      stop.abort();
      await Promise.all(loops);
    });

    const held = (node: string) => new Set(agents[node]!.held.map((c) => c.digest));
    const overlap = () => [...held('a')].filter((d) => held('b').has(d));
    /** Steps of one second; after each, the agents' requests (real I/O) must have landed. */
    const step = async (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        await clock.advance(1000);
        // Real HTTP round trips finish before time moves again.
        await Promise.all(Object.values(agents).map((a) => a.settled()));
        expect(overlap()).toEqual([]);
      }
    };

    await step(25); // warmup, registration, first fetches
    expect(held('a').size + held('b').size).toBe(6);
    expect(held('a').size).toBe(3);

    proxy.cut();
    const cutAt = clock.now();
    let fencedAt: number | undefined;
    for (let s = 0; s < 60 && (held('b').size < 6 || held('a').size > 0); s++) {
      await step(1);
      if (fencedAt === undefined && held('a').size === 0) fencedAt = clock.now();
    }
    expect(held('b').size).toBe(6);
    expect(held('a').size).toBe(0);
    expect(events.a!.some((e) => e.type === 'fenced' && e.count === 3)).toBe(true);
    // A stops no later than the expiration after its last confirmed poll (< cut + poll).
    expect(fencedAt! - cutAt).toBeLessThan(EXPIRY + POLL);

    proxy.heal();
    await step(12); // a re-registers as a new, empty node: nothing runs twice
    expect(handler.dispatcher!.state.nodes.has('a')).toBe(true);
    expect(held('b').size).toBe(6);
  });

  it('ignores a deposed leader (a lower term) and fences when nothing else confirms', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 5, 5));
    const handler = new ChecksHandler({
      clock,
      warmupMs: 1000,
      dispatcher: {
        strategy: 'count',
        nodeExpirationMs: EXPIRY,
        unscheduledThresholdMs: 60_000,
        rebalancePeriodMs: 3_600_000,
        minImprovementPercent: 10,
        checkIds,
        random: () => 0,
      },
    });
    const metrics = dispatcherMetrics(() => handler);
    const server = await startDispatcherServer({
      handler,
      clock,
      token: TOKEN,
      registry: metrics.registry,
      nodeExpirationMs: EXPIRY,
      identity: 'solo',
      forward: { timeoutMs: 2000, maxConnections: 4 },
    });
    const client = createAgentClient({ url: server.url, token: TOKEN, timeoutMs: 2000 });
    const scheduler = new Scheduler({
      clock,
      run: () => Promise.resolve({ status: 'ok', message: '', metrics: {} }),
    });
    cleanups.push(
      () => server.close(),
      () => handler.stop(),
      () => client.close(),
      () => scheduler.stop(),
    );
    handler.applyConfigs([cfg(1)], []);
    await handler.apply({ role: 'leader', term: 5 });
    const events: AgentEvent[] = [];
    const agent = new NodeAgent({
      node: 'a',
      client,
      executor: schedulerExecutor(scheduler, checkIds),
      clock,
      pollMs: POLL,
      nodeExpirationMs: EXPIRY,
      onEvent: (e) => events.push(e),
    });
    await agent.poll(); // registers during the warmup
    await clock.advance(1000); // dispatching starts: c1 goes to a
    await agent.poll(); // stale → fetches
    expect(agent.held.map((c) => c.name)).toEqual(['c1']);
    expect(agent.term).toBe(5);

    await handler.apply({ role: 'leader', term: 4 }); // an older leader answers from now on
    await agent.poll();
    expect(events.at(-1)).toEqual({ type: 'error', message: 'answer from a deposed leader' });
    expect(agent.held).toHaveLength(1); // still within the expiration
    await clock.advance(EXPIRY - 1000);
    await agent.poll();
    expect(agent.held).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'fenced', count: 1 });
  });
});
