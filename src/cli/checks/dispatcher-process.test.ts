/**
 * Two dispatcher replicas in this process, each with its real HTTPS server and a shared lease
 * file, on the manual clock: one leads, the other follows and forwards an agent's status to it;
 * the leader stopped releases the lease, so the follower leads on its next try with the next
 * term and warms up. Waits are on the replicas' own log lines.
 */
import { Writable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAgentClient } from '../../checks/agent/client.js';
import { createChecksApi } from '../../checks/api-client.js';
import { LocalLeaseStore } from '../../backends/local/lease.js';
import { ManualClock } from '../../core/clock.js';
import { createCertificateAuthority, type KeyPair } from '../../core/pki.js';
import { runDispatcherProcess } from './dispatcher-process.js';

interface Line {
  readonly event?: string;
  readonly role?: string;
  readonly term?: number;
  readonly identity?: string;
}

/** A logger whose lines a test can wait for. */
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
    logger: pino({ base: null }, stream),
    when: (pred: (l: Line) => boolean): Promise<Line> => {
      const seen = lines.find(pred);
      return seen
        ? Promise.resolve(seen)
        : new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

let dir: string;
let pair: KeyPair;
let caPem: string;
const stops: AbortController[] = [];
const runs: Promise<void>[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-replicas-'));
  const ca = await createCertificateAuthority({ name: 'CN=test-ca', now: Date.now() });
  caPem = ca.caPem;
  pair = await ca.issue({ subject: 'CN=d', usage: 'server', names: ['127.0.0.1'] });
});
afterEach(async () => {
  for (const s of stops) s.abort();
  await Promise.all(runs);
  stops.length = 0;
  runs.length = 0;
  await rm(dir, { recursive: true, force: true });
});

function replica(
  identity: string,
  clock: ManualClock,
  log: ReturnType<typeof logLines>,
  o: { tls?: KeyPair; peerName?: string } = {},
) {
  const stop = new AbortController();
  stops.push(stop);
  let url = '';
  const listening = new Promise<string>((resolve) => {
    runs.push(
      runDispatcherProcess({
        host: '127.0.0.1',
        port: 0,
        identity,
        token: 'secret',
        tls: o.tls ?? pair,
        caPem,
        ...(o.peerName ? { peerName: o.peerName } : {}),
        times: {
          nodeExpirationMs: 30_000,
          warmupMs: 5_000,
          unscheduledThresholdMs: 60_000,
          rebalancePeriodMs: 600_000,
        },
        strategy: 'count',
        minImprovementPercent: 10,
        lease: {
          ...LocalLeaseStore.forFile(join(dir, 'dispatcher.json'), clock),
          durationMs: 15_000,
          retryMs: 1_000,
        },
        sources: [],
        clock,
        random: () => 0,
        logger: log.logger.child({ identity }),
        signal: stop.signal,
        onListening: (u) => resolve((url = u)),
      }),
    );
  });
  return { stop, listening, url: () => url };
}

describe('dispatcher replicas', () => {
  it('lead and follow through the lease file, forward, and hand over at once on a clean stop', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const log = logLines();
    const a = replica('a', clock, log);
    const aUrl = await a.listening;
    await log.when((l) => l.identity === 'a' && l.event === 'role' && l.role === 'leader');
    const b = replica('b', clock, log);
    const bUrl = await b.listening;
    await log.when((l) => l.identity === 'b' && l.role === 'follower');

    // An agent that only knows b is answered by a, through b.
    const agent = createAgentClient({ url: bUrl, token: 'secret', caPem, timeoutMs: 5000 });
    const answer = await agent.postStatus('node-1', { last_change: 0 });
    expect(answer).toMatchObject({ value: true, term: 0 });
    const apiA = createChecksApi({ url: aUrl, token: 'secret', caPem, timeoutMs: 5000 });
    expect((await apiA.state()).nodes.map((n) => n.name)).toEqual(['node-1']);

    a.stop.abort();
    await log.when((l) => l.identity === 'a' && l.event === 'stopped');
    const released = await LocalLeaseStore.forFile(join(dir, 'dispatcher.json'), clock).store.get(
      'dispatcher',
    );
    expect(released!.record.holder).toBe('');
    await clock.advance(1_000); // b's next try, far short of the 15 s lease
    const lead = await log.when((l) => l.identity === 'b' && l.role === 'leader');
    expect(lead.term).toBe(1);
    const apiB = createChecksApi({ url: bUrl, token: 'secret', caPem, timeoutMs: 5000 });
    expect(await apiB.state()).toMatchObject({ not_running: '', warmup: true, term: 1 });
    agent.close();
  });

  it('forward to the leader by address, checking its certificate for the peer name', async () => {
    // As on Kubernetes: one certificate for the Service's name, replicas reached by pod IP.
    const ca = await createCertificateAuthority({ name: 'CN=test-ca', now: Date.now() });
    caPem = ca.caPem;
    const shared = await ca.issue({ subject: 'CN=svc', usage: 'server', names: ['checks.test'] });
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const log = logLines();
    const peer = { tls: shared, peerName: 'checks.test' };
    replica('a', clock, log, peer);
    await log.when((l) => l.identity === 'a' && l.event === 'role' && l.role === 'leader');
    const b = replica('b', clock, log, peer);
    const c = replica('c', clock, log, { tls: shared });
    const [bUrl, cUrl] = await Promise.all([b.listening, c.listening]);
    await log.when((l) => l.identity === 'b' && l.role === 'follower');
    await log.when((l) => l.identity === 'c' && l.role === 'follower');

    const client = (url: string) =>
      createAgentClient({
        url,
        token: 'secret',
        caPem,
        servername: 'checks.test',
        timeoutMs: 5000,
      });
    const viaB = client(bUrl);
    expect(await viaB.postStatus('node-1', { last_change: 0 })).toMatchObject({ value: true });
    // Without the name, the leader's address is what its certificate must name, and it does not.
    const viaC = client(cUrl);
    const err = await viaC.postStatus('node-2', { last_change: 0 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/503 Follower unable to forward.*altnames/);
    viaB.close();
    viaC.close();
  });
});
