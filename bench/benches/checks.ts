/**
 * Issue 10: the cluster-check dispatcher.
 * (a) One dispatcher per strategy, in its own process on manual time: 2,000 agents, 50,000
 *     configs. Time to dispatch all, to re-dispatch after 10 % of agents expire, to rebalance
 *     (busyness, utilization; normal and forced), configs moved when one node joins and when
 *     one leaves against the ideal 1/N share, and the process's peak RSS.
 * (b) The node-agent API over real HTTP on loopback: 2,000 agents' status POSTs, saturated (64
 *     connections) and at the nominal rate (2,000 agents every 10 s = 200/s), beside the floor:
 *     a bare node:http server answering the same body to the same load.
 */
import http from 'node:http';
import type { DispatchChildMessage } from '../children/checks-dispatch.js';
import type { ServerChildMessage } from '../children/checks-server.js';
import { forkChild, quantile } from '../lib/measure.js';
import { count, mib, ms, type Bench, type BenchResult, type Table } from '../lib/report.js';

const NODES = 2000;
const CONFIGS = 50_000;
const STRATEGIES = ['count', 'busyness', 'utilization', 'hashing'] as const;
const TOKEN = 'bench-token-0123456789abcdef0123456789';

type DispatchDone = Extract<DispatchChildMessage, { type: 'done' }>;
type Ready = Extract<ServerChildMessage, { type: 'ready' }>;

async function dispatchFigures(strategy: string): Promise<DispatchDone> {
  const child = forkChild<DispatchChildMessage>(
    new URL('../children/checks-dispatch.js', import.meta.url),
    [strategy, String(NODES), String(CONFIGS)],
  );
  const done = await child.next<DispatchDone>('done');
  await child.exited();
  return done;
}

interface Load {
  readonly requests: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** Status POSTs from every node in turn: `rate` per second (0: as fast as 64 connections go). */
async function statusLoad(ready: Ready, seconds: number, rate: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const nodes = Object.keys(ready.lastChange);
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const node = nodes[i++ % nodes.length]!;
      const body = JSON.stringify({ last_change: ready.lastChange[node], node_type: 2 });
      const t = process.hrtime.bigint();
      const req = http.request(
        {
          host: '127.0.0.1',
          port: ready.port,
          method: 'POST',
          path: `/api/v1/clusterchecks/status/${node}`,
          agent,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const start = Date.now();
  const end = start + seconds * 1000;
  if (rate === 0) {
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (Date.now() < end) await one();
      }),
    );
  } else {
    const inflight: Promise<void>[] = [];
    for (let k = 0; Date.now() < end; k++) {
      const due = start + (k * 1000) / rate;
      const wait = due - Date.now();
      // Pacing the offered load needs real time: this is the load generator, not a test.
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(one());
    }
    await Promise.all(inflight);
  }
  agent.destroy();
  return {
    requests: latencies.length,
    seconds: (Date.now() - start) / 1000,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
  };
}

async function httpFigures(
  mode: 'fathom' | 'floor',
): Promise<{ saturated: Load; nominal: Load; maxRssKiB: number }> {
  const child = forkChild<ServerChildMessage>(
    new URL('../children/checks-server.js', import.meta.url),
    [mode, String(NODES), String(CONFIGS), TOKEN],
  );
  const ready = await child.next<Ready>('ready');
  await statusLoad(ready, 1, 0); // warm up
  const saturated = await statusLoad(ready, 4, 0);
  const nominal = await statusLoad(ready, 5, NODES / 10);
  child.send({ type: 'stop' });
  const { maxRssKiB } = await child.next<Extract<ServerChildMessage, { type: 'done' }>>('done');
  await child.exited(5000);
  return { saturated, nominal, maxRssKiB };
}

export const checksBench: Bench = {
  name: 'checks',
  description: 'cluster-check dispatcher: 2,000 agents, 50,000 configs; the agent API over HTTP',
  async run(log): Promise<BenchResult> {
    const dispatch: DispatchDone[] = [];
    for (const s of STRATEGIES) {
      log(`checks: dispatcher, ${s}`);
      dispatch.push(await dispatchFigures(s));
    }
    log('checks: agent API over loopback');
    const fathom = await httpFigures('fathom');
    const floor = await httpFigures('floor');
    const ideal = CONFIGS / (NODES + 1);
    const tables: Table[] = [
      {
        title: `Dispatcher, ${count(NODES)} agents and ${count(CONFIGS)} configs (manual time, one process per strategy)`,
        columns: [
          'strategy',
          'dispatch all',
          'loads min–max',
          'node joins: moved (new node holds)',
          'node leaves: moved (its share)',
          're-dispatch after 10 % expire',
          'rebalance (moves)',
          'forced (moves)',
          'peak RSS',
        ],
        rows: dispatch.map((d) => [
          d.strategy,
          ms(d.dispatchMs),
          `${d.minLoad}–${d.maxLoad}`,
          `${d.joinMoved} (${d.joinNewLoad})`,
          `${d.leaveMoved} (${d.leaveShare})`,
          `${ms(d.expireMs)} for ${count(d.expiredConfigs)}`,
          d.rebalanceMs === undefined ? '–' : `${ms(d.rebalanceMs)} (${count(d.rebalanceMoves!)})`,
          d.forcedMs === undefined ? '–' : `${ms(d.forcedMs)} (${count(d.forcedMoves!)})`,
          mib(d.maxRssKiB),
        ]),
        notes: [
          `The ideal share of one node is ${ideal.toFixed(1)} configs (1/N). count and the random strategies place only new configs on a joining node (it waits for new configs or a rebalance); hashing moves its fair share at the next sweep. Expiry and removal never scan all configs (per-node and per-digest indexes).`,
        ],
      },
      {
        title: `Agent API: status POSTs from ${count(NODES)} agents over loopback`,
        columns: [
          'server',
          'saturated req/s (64 conns)',
          'p50',
          'p99',
          'at 200/s: p50',
          'p99',
          'errors',
          'server peak RSS',
        ],
        rows: [
          ['fathom dispatcher', fathom] as const,
          ['floor: bare node:http', floor] as const,
        ].map(([name, f]) => [
          name,
          count(Math.round(f.saturated.requests / f.saturated.seconds)),
          ms(f.saturated.p50),
          ms(f.saturated.p99),
          ms(f.nominal.p50),
          ms(f.nominal.p99),
          f.saturated.errors + f.nominal.errors,
          mib(f.maxRssKiB),
        ]),
        notes: [
          `fathom/floor throughput ratio: ${(fathom.saturated.requests / fathom.saturated.seconds / (floor.saturated.requests / floor.saturated.seconds)).toFixed(2)}. The load generator and the server are separate processes on the same 2 cores. 2,000 agents polling every 10 s offer 200 requests/s.`,
        ],
      },
    ];
    return { data: { dispatch, http: { fathom, floor } }, tables };
  },
};
