/**
 * One node agent as a long-running process: polls the dispatcher replicas (any will do; a
 * follower forwards), runs what it is given on the scheduler, stops what it can no longer
 * confirm (fencing), serves `/healthz` and `/metrics`, logs JSON lines, and on stop aborts every
 * check before it exits.
 */
import Fastify from 'fastify';
import type { Logger } from 'pino';
import { NodeAgent } from '../../checks/agent/agent.js';
import { createAgentClient } from '../../checks/agent/client.js';
import { schedulerExecutor } from '../../checks/agent/executor.js';
import { failoverClient } from '../../checks/agent/failover.js';
import { agentMetrics } from '../../checks/agent/metrics.js';
import { checkIds } from '../../checks/config/index.js';
import { Scheduler } from '../../checks/run/scheduler.js';
import type { Clock } from '../../core/clock.js';
import type { ClusterReader } from '../../status/index.js';

export interface AgentProcessOptions {
  readonly node: string;
  /** Every replica's URL. */
  readonly dispatchers: readonly string[];
  readonly token: string;
  readonly caPem?: string;
  readonly servername?: string;
  readonly pollMs: number;
  /** Until a dispatcher says otherwise. */
  readonly nodeExpirationMs: number;
  readonly workers: number;
  readonly stateDir?: string;
  /** Where /healthz and /metrics are served (plain HTTP); none when absent. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly labels?: Readonly<Record<string, string>>;
  readonly statusReader?: ClusterReader;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly onListening?: (url: string | undefined) => void;
}

export async function runAgentProcess(o: AgentProcessOptions): Promise<void> {
  const { clock, logger: log, node } = o;
  const ref: { scheduler?: Scheduler } = {};
  const metrics = agentMetrics(node, () => ref.scheduler?.results() ?? []);
  const scheduler = new Scheduler({
    clock,
    workers: o.workers,
    ...(o.stateDir ? { stateDir: o.stateDir } : {}),
    extras: () => ({ node, ...(o.statusReader ? { statusReader: o.statusReader } : {}) }),
    onRun: (check, run) => {
      metrics.record(check.config.name, run);
      const fields = { event: 'run', check: check.config.name, id: run.id, status: run.status };
      if (run.status !== 'ok') log.warn(fields, run.message);
      else log.debug(fields, 'ok');
    },
  });
  ref.scheduler = scheduler;
  const client = failoverClient(
    o.dispatchers.map((url) =>
      createAgentClient({
        url,
        token: o.token,
        timeoutMs: 5000,
        ...(o.caPem ? { caPem: o.caPem } : {}),
        ...(o.servername ? { servername: o.servername } : {}),
      }),
    ),
  );
  let lastError = '';
  const agent = new NodeAgent({
    node,
    client,
    executor: schedulerExecutor(scheduler, checkIds),
    clock,
    pollMs: o.pollMs,
    nodeExpirationMs: o.nodeExpirationMs,
    workers: o.workers,
    ...(o.labels ? { labels: o.labels } : {}),
    onEvent: (e) => {
      if (e.type === 'configs') {
        lastError = '';
        log.info({ event: 'configs', count: e.count, term: e.term }, 'assignment fetched');
      } else if (e.type === 'fenced') {
        log.warn({ event: 'fenced', count: e.count }, 'assignment unconfirmed: checks stopped');
      } else if (e.message !== lastError) {
        // Once per distinct error: a dispatcher that is down is not a line per poll.
        lastError = e.message;
        log.warn({ event: 'poll-error' }, e.message);
      }
    },
  });

  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.get('/healthz', (_q, reply) => reply.header('content-type', 'text/plain').send('ok'));
  app.get('/metrics', async (_q, reply) =>
    reply
      .header('content-type', metrics.registry.contentType)
      .send(await metrics.registry.metrics()),
  );
  let url: string | undefined;
  if (o.listen) {
    await app.listen({ host: o.listen.host, port: o.listen.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : o.listen.port;
    url = `http://${o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host}:${port}`;
  }
  log.info({ event: 'started', node, dispatchers: o.dispatchers, url }, 'agent started');
  o.onListening?.(url);
  try {
    await agent.run(o.signal); // ends on abort, holding nothing
  } finally {
    await scheduler.stop();
    client.close();
    await app.close();
    log.info({ event: 'stopped' }, 'stopped');
  }
}
