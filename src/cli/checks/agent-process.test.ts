/**
 * A node agent process against a dispatcher replica, both in this process with real HTTPS and a
 * real command check, on the manual clock: the agent registers, is given the check once the
 * dispatcher places it, runs it, shows it in its /metrics, and on stop ends every check.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCheckText } from '../../checks/config/index.js';
import { ManualClock } from '../../core/clock.js';
import { createCertificateAuthority } from '../../core/pki.js';
import { runAgentProcess } from './agent-process.js';
import { runDispatcherProcess } from './dispatcher-process.js';

interface Line {
  readonly event?: string;
  readonly component?: string;
  readonly status?: string;
  readonly count?: number;
}

function logLines() {
  const lines: Line[] = [];
  let waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) {
        const line = JSON.parse(text) as Line;
        lines.push(line);
        const hit = waiters.filter((w) => w.pred(line));
        waiters = waiters.filter((w) => !hit.includes(w));
        for (const w of hit) w.resolve(line);
      }
      done();
    },
  });
  return {
    logger: pino({ base: null, level: 'debug' }, stream),
    when: (pred: (l: Line) => boolean): Promise<Line> => {
      const seen = lines.find(pred);
      return seen
        ? Promise.resolve(seen)
        : new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

const stops: AbortController[] = [];
afterEach(() => stops.forEach((s) => s.abort()));

describe('the agent process', () => {
  it('runs what it is given, shows it in /metrics, and stops its checks on stop', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const log = logLines();
    const ca = await createCertificateAuthority({ name: 'CN=test-ca', now: Date.now() });
    const pair = await ca.issue({ subject: 'CN=d', usage: 'server', names: ['127.0.0.1'] });
    const [config] = parseCheckText(
      `name: ping\ntype: command\ninterval: 10s\ninstances:\n  - command: [${JSON.stringify(process.execPath)}, -e, '0']\n`,
      'ping.yaml',
    );
    const dStop = new AbortController();
    const aStop = new AbortController();
    stops.push(dStop, aStop);
    const dispatcherUrl = await new Promise<string>((resolve, reject) => {
      runDispatcherProcess({
        host: '127.0.0.1',
        port: 0,
        identity: 'solo',
        token: 't',
        tls: pair,
        times: {
          nodeExpirationMs: 30_000,
          warmupMs: 1_000,
          unscheduledThresholdMs: 60_000,
          rebalancePeriodMs: 600_000,
        },
        strategy: 'count',
        minImprovementPercent: 10,
        sources: [
          async function* () {
            await Promise.resolve();
            yield { added: [config!], removed: [], errors: [] };
          },
        ],
        clock,
        random: () => 0,
        logger: log.logger.child({ component: 'dispatcher' }),
        signal: dStop.signal,
        onListening: resolve,
      }).catch(reject);
    });
    let metricsUrl: string | undefined;
    const agentDone = runAgentProcess({
      node: 'node-1',
      dispatchers: ['https://127.0.0.1:1', dispatcherUrl], // the first is down: fail over
      token: 't',
      caPem: ca.caPem,
      pollMs: 1_000,
      nodeExpirationMs: 30_000,
      workers: 2,
      listen: { host: '127.0.0.1', port: 0 },
      labels: { pool: 'a' },
      clock,
      logger: log.logger.child({ component: 'agent' }),
      signal: aStop.signal,
      onListening: (u) => (metricsUrl = u),
    });
    await log.when((l) => l.component === 'dispatcher' && l.event === 'node-registered');
    await clock.advance(1_000); // warmup over: placed on node-1
    await clock.advance(1_000); // the agent's next poll: not up to date, fetches
    expect(await log.when((l) => l.component === 'agent' && l.event === 'configs')).toMatchObject({
      count: 1,
    });
    await log.when((l) => l.component === 'agent' && l.event === 'run');
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /^fathom_check_status\{check_name="ping",check_id="ping:[0-9a-f]{16}",node="node-1"\} 0$/m,
    );
    expect(metrics).toMatch(/^fathom_check_runs_total\{[^}]*check_name="ping"[^}]*\} 1$/m);
    expect(await (await fetch(`${metricsUrl}/healthz`)).text()).toBe('ok');

    aStop.abort();
    await agentDone;
    await log.when((l) => l.component === 'agent' && l.event === 'stopped');
    await expect(fetch(`${metricsUrl}/healthz`)).rejects.toThrow();
    dStop.abort();
  });
});
