/**
 * Bench child: a dispatcher replica serving the node-agent API on loopback, leading, with
 * <nodes> agents registered and <configs> configs dispatched; or, as the floor, a bare node:http
 * server answering the same `{"isuptodate":true}`. argv: fathom|floor <nodes> <configs> <token>.
 * Sends `ready` with the port and each node's last_change, then serves until told `stop`, when
 * it answers `done` with its peak RSS and exits.
 */
import http from 'node:http';
import { ManualClock } from '../../src/core/clock.js';
import { checkIds } from '../../src/checks/config/index.js';
import { benchConfig } from '../lib/checks.js';
import { ChecksHandler } from '../../src/checks/handler.js';
import { dispatcherMetrics } from '../../src/checks/metrics.js';
import { startDispatcherServer } from '../../src/checks/server.js';

export type ServerChildMessage =
  | { type: 'ready'; port: number; lastChange: Record<string, number> }
  | { type: 'done'; maxRssKiB: number }
  | { type: 'error'; message: string };

const send = (m: ServerChildMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const [mode, nodesArg, configsArg, token] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
  ];
  const names = Array.from({ length: Number(nodesArg) }, (_, i) => `node-${i}`);
  if (mode === 'floor') {
    const body = '{"isuptodate":true}';
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    send({ type: 'ready', port, lastChange: Object.fromEntries(names.map((n) => [n, 0])) });
    return;
  }
  // The real time is irrelevant here: nodes never expire during the bench (a manual clock).
  const clock = new ManualClock(Date.UTC(2026, 11, 5));
  const ref: { handler?: ChecksHandler } = {};
  const metrics = dispatcherMetrics(() => ref.handler);
  const handler = (ref.handler = new ChecksHandler({
    clock,
    warmupMs: 0,
    dispatcher: {
      strategy: 'count',
      nodeExpirationMs: 30_000,
      unscheduledThresholdMs: 60_000,
      rebalancePeriodMs: 600_000,
      minImprovementPercent: 10,
      checkIds,
      random: Math.random,
      observer: metrics.observer,
    },
  }));
  await handler.apply({ role: 'leader', term: 1 });
  const d = handler.dispatcher!;
  for (const n of names) d.postStatus(n, { last_change: 0 }, '', clock.now());
  handler.applyConfigs(
    Array.from({ length: Number(configsArg) }, (_, i) => benchConfig(i)),
    [],
  );
  await clock.advance(0); // the warmup of 0 ends: every config is placed
  const server = await startDispatcherServer({
    handler,
    clock,
    token,
    registry: metrics.registry,
    nodeExpirationMs: 30_000,
    identity: 'bench',
    forward: { timeoutMs: 5000, maxConnections: 8 },
  });
  const lastChange = Object.fromEntries(names.map((n) => [n, d.configsFor(n)!.last_change]));
  send({ type: 'ready', port: server.port, lastChange });
}

process.on('message', (m: { type?: string }) => {
  if (m.type !== 'stop') return;
  send({ type: 'done', maxRssKiB: process.resourceUsage().maxRSS });
  process.disconnect();
  process.exit(0);
});

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect();
});
