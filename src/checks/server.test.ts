/**
 * The dispatcher's API over real HTTP on loopback: two replicas, a leader and a follower that
 * forwards to it, driven on a manual clock through warmup and dispatch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import type { DispatcherOptions } from './dispatch/dispatcher.js';
import { ChecksHandler } from './handler.js';
import { dispatcherMetrics } from './metrics.js';
import { startDispatcherServer, type DispatcherServer } from './server.js';
import type { CheckConfig } from './types.js';

const TOKEN = 'a'.repeat(32);
const cfg = (name: string): CheckConfig => ({
  name,
  type: 'tcp',
  intervalMs: 15_000,
  timeoutMs: 10_000,
  instances: [{ host: 'h', port: 1 }],
  source: `test:${name}`,
  digest: `d-${name}`,
});

describe('dispatcher API', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 5, 3));
  const options: DispatcherOptions = {
    strategy: 'count',
    nodeExpirationMs: 30_000,
    unscheduledThresholdMs: 60_000,
    rebalancePeriodMs: 600_000,
    minImprovementPercent: 10,
    checkIds: (c) => c.instances.map((_, i) => `${c.name}:${i}`),
    random: () => 0,
  };
  const replicas: { handler: ChecksHandler; server: DispatcherServer }[] = [];
  let leader: { handler: ChecksHandler; server: DispatcherServer };
  let follower: { handler: ChecksHandler; server: DispatcherServer };

  const call = async (
    server: DispatcherServer,
    method: string,
    path: string,
    body?: string,
    token: string | null = TOKEN,
  ) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };

  beforeAll(async () => {
    for (const identity of ['one', 'two']) {
      const ref: { handler?: ChecksHandler } = {};
      const metrics = dispatcherMetrics(() => ref.handler);
      const handler = (ref.handler = new ChecksHandler({
        clock,
        warmupMs: 30_000,
        dispatcher: { ...options, observer: metrics.observer },
      }));
      const server = await startDispatcherServer({
        handler,
        clock,
        token: TOKEN,
        registry: metrics.registry,
        nodeExpirationMs: 30_000,
        identity,
        forward: { timeoutMs: 5000, maxConnections: 8 },
      });
      replicas.push({ handler, server });
    }
    [leader, follower] = replicas as [typeof leader, typeof follower];
  });
  afterAll(async () => {
    for (const r of replicas) {
      await r.handler.stop();
      await r.server.close();
    }
  });

  it('refuses calls without the token, and answers 503 before leadership is known', async () => {
    expect(
      await call(leader.server, 'GET', '/api/v1/clusterchecks', undefined, null),
    ).toMatchObject({ status: 401, text: 'no session token provided\n' });
    expect(
      await call(leader.server, 'GET', '/api/v1/clusterchecks', undefined, 'b'.repeat(32)),
    ).toMatchObject({ status: 401, text: 'invalid session token\n' });
    expect(
      await call(leader.server, 'POST', '/api/v1/clusterchecks/status/n1', '{"last_change":0}'),
    ).toMatchObject({ status: 503, text: 'Startup in progress\n' });
    expect(
      JSON.parse((await call(leader.server, 'GET', '/api/v1/clusterchecks')).text),
    ).toMatchObject({ not_running: 'Startup in progress' });
    expect((await call(leader.server, 'GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('a follower without the leader address cannot forward', async () => {
    await follower.handler.apply({ role: 'follower', holder: 'one', address: '', term: 3 });
    expect(
      await call(follower.server, 'POST', '/api/v1/clusterchecks/status/n1', '{"last_change":0}'),
    ).toMatchObject({
      status: 503,
      text: 'Follower unable to forward as leaderForwarder is not available yet\n',
    });
  });

  it('registers through the follower during warmup, then dispatches on the leader', async () => {
    leader.handler.applyConfigs([cfg('web'), cfg('db')], []);
    await leader.handler.apply({ role: 'leader', term: 3 });
    const address = new URL(leader.server.url).host;
    await follower.handler.apply({ role: 'follower', holder: 'one', address, term: 3 });

    const viaFollower = await call(
      follower.server,
      'POST',
      '/api/v1/clusterchecks/status/n1',
      '{"last_change":0,"node_type":2}',
    );
    expect(viaFollower).toMatchObject({ status: 200, text: '{"isuptodate":true}' });
    expect(viaFollower.headers.get('fathom-term')).toBe('3');
    expect(JSON.parse((await call(follower.server, 'GET', '/api/v1/clusterchecks')).text)).toEqual({
      not_running: 'currently follower',
      warmup: false,
      nodes: [],
      dangling: [],
    });
    const warming = JSON.parse((await call(leader.server, 'GET', '/api/v1/clusterchecks')).text);
    expect(warming).toMatchObject({
      not_running: '',
      warmup: true,
      leader: 'one',
      term: 3,
      nodes: [{ name: 'n1', configs: [] }],
    });

    await clock.whenSleeping(1);
    await clock.advance(30_000);
    const state = JSON.parse((await call(leader.server, 'GET', '/api/v1/clusterchecks')).text) as {
      warmup: boolean;
      nodes: { configs: { config: CheckConfig }[] }[];
    };
    expect(state.warmup).toBe(false);
    expect(state.nodes[0]!.configs.map((c) => c.config.name)).toEqual(['db', 'web']);

    expect(
      (await call(leader.server, 'POST', '/api/v1/clusterchecks/status/n1', '{"last_change":0}'))
        .text,
    ).toBe('{"isuptodate":false}');
    const configs = await call(follower.server, 'GET', '/api/v1/clusterchecks/configs/n1');
    expect(configs.status).toBe(200);
    const lastChange = /"last_change":(\d+)/.exec(configs.text)![1]!;
    expect(
      (JSON.parse(configs.text) as { configs: CheckConfig[] }).configs
        .map((c: CheckConfig) => c.name)
        .sort(),
    ).toEqual(['db', 'web']);
    expect(
      (
        await call(
          leader.server,
          'POST',
          '/api/v1/clusterchecks/status/n1',
          `{"last_change":${lastChange}}`,
        )
      ).text,
    ).toBe('{"isuptodate":true}');
  });

  it("answers the original's errors: unknown node, bad JSON, bad X-Real-Ip", async () => {
    expect(await call(leader.server, 'GET', '/api/v1/clusterchecks/configs/ghost')).toMatchObject({
      status: 500,
      text: 'node ghost is unknown\n',
    });
    const bad = await call(
      leader.server,
      'POST',
      '/api/v1/clusterchecks/status/n1',
      '{"last_change":',
    );
    expect(bad.status).toBe(500);
    const wrongType = await call(
      leader.server,
      'POST',
      '/api/v1/clusterchecks/status/n1',
      '{"last_change":"x"}',
    );
    expect(wrongType).toMatchObject({ status: 500, text: 'json: last_change: must be number\n' });
    const res = await fetch(`${leader.server.url}/api/v1/clusterchecks/status/n1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'x-real-ip': 'not-an-ip' },
      body: '{"last_change":-1}',
    });
    expect(res.status).toBe(500);
  });

  it('rebalances, isolates and serves endpoints checks through the follower', async () => {
    expect(
      JSON.parse(
        (await call(follower.server, 'POST', '/api/v1/clusterchecks/rebalance?force=true')).text,
      ),
    ).toEqual([]);
    expect(
      JSON.parse(
        (await call(follower.server, 'POST', '/api/v1/clusterchecks/isolate/check/web:0')).text,
      ),
    ).toEqual({
      check_id: 'web:0',
      check_node: 'n1',
      is_isolated: false,
      reason: 'No other runners available',
    });
    expect(
      JSON.parse((await call(follower.server, 'GET', '/api/v1/endpointschecks/configs/n1')).text),
    ).toEqual({ last_change: 0, configs: [] });
  });

  it('takes the token as X-Fathom-Token, as through the API server proxy, and forwards it', async () => {
    const viaProxy = async (token: string) => {
      const res = await fetch(`${follower.server.url}/api/v1/clusterchecks/rebalance`, {
        method: 'POST',
        headers: { 'x-fathom-token': token },
      });
      return { status: res.status, text: await res.text() };
    };
    expect(await viaProxy(TOKEN)).toEqual({ status: 200, text: '[]' });
    expect(await viaProxy('c'.repeat(32))).toEqual({
      status: 401,
      text: 'invalid session token\n',
    });
  });

  it('exposes the cluster_checks metrics, labelled join_leader', async () => {
    const text = (await call(leader.server, 'GET', '/metrics', undefined, null)).text;
    expect(text).toContain('cluster_checks_nodes_reporting{join_leader="true"} 1');
    expect(text).toContain('cluster_checks_configs_dispatched{join_leader="true",node="n1"} 2');
    expect(text).toContain(
      'cluster_checks_configs_info{join_leader="true",node="n1",check_name="web",check_id="web:0"} 1',
    );
    const followerText = (await call(follower.server, 'GET', '/metrics', undefined, null)).text;
    expect(followerText).toContain('cluster_checks_nodes_reporting{join_leader="false"} 0');
  });

  it('a leader that loses the lease stops answering as leader', async () => {
    await leader.handler.apply({ role: 'follower', holder: 'two', address: '', term: 4 });
    expect((await call(leader.server, 'GET', '/api/v1/clusterchecks/configs/n1')).status).toBe(503);
    expect(leader.handler.dispatcher).toBeUndefined();
  });
});
