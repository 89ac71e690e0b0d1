import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { createRunCa, type KeyPair } from '../core/pki.js';
import { createAggregator } from './aggregator.js';
import {
  credentialPlan,
  renewalDueAt,
  RunCredentials,
  type RenewalTargets,
  type ServerTls,
} from './credentials.js';
import { startAggregationServer, type AggregationServer } from './server.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

describe('credentialPlan', () => {
  it.each([
    // timeout, groups, valid for, renewed ahead of expiry, renewed at all
    {
      timeoutMs: 30_000,
      groups: 1,
      validForMs: HOUR + 30_000,
      renewAheadMs: 20 * MIN + 10_000,
      renews: false,
    },
    { timeoutMs: HOUR, groups: 1, validForMs: 2 * HOUR, renewAheadMs: 30 * MIN, renews: false },
    {
      timeoutMs: 72 * HOUR,
      groups: 1,
      validForMs: 73 * HOUR,
      renewAheadMs: 30 * MIN,
      renews: false,
    },
    {
      timeoutMs: 72 * HOUR,
      groups: 3,
      validForMs: 217 * HOUR,
      renewAheadMs: 30 * MIN,
      renews: false,
    },
    { timeoutMs: HOUR, groups: 0, validForMs: 2 * HOUR, renewAheadMs: 30 * MIN, renews: false },
    { timeoutMs: 0, groups: 2, validForMs: 24 * HOUR, renewAheadMs: 30 * MIN, renews: true },
    {
      timeoutMs: 10_000 * HOUR,
      groups: 2,
      validForMs: 365 * 24 * HOUR,
      renewAheadMs: 30 * MIN,
      renews: true,
    },
  ])('timeout $timeoutMs ms × $groups groups', ({ timeoutMs, groups, ...want }) => {
    expect(credentialPlan(timeoutMs, groups)).toEqual(want);
  });

  it.each([
    { timeoutMs: 30_000, groups: 1 },
    { timeoutMs: HOUR, groups: 4 },
    { timeoutMs: 72 * HOUR, groups: 2 },
  ])('a run with a timeout ($timeoutMs ms × $groups) is covered with the margin to spare', (r) => {
    const plan = credentialPlan(r.timeoutMs, r.groups);
    // Were a restored CA renewed, that would fall after the plan too.
    expect(renewalDueAt(0, plan)).toBeGreaterThan(r.timeoutMs * r.groups);
    expect(plan.validForMs - r.timeoutMs * r.groups).toBe(HOUR);
  });
});

/** PUTs a result over mutual TLS; resolves with the status and the server certificate's serial. */
function put(
  port: number,
  trust: string,
  client: KeyPair,
  plugin: string,
): Promise<{ status: number; serverSerial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/api/v1/results/global/${plugin}`,
        ca: trust,
        cert: client.certPem,
        key: client.keyPem,
        agent: false,
        headers: { 'content-disposition': 'attachment;filename=out.txt' },
      },
      (res) => {
        const serverSerial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serverSerial }));
      },
    );
    req.on('error', reject);
    req.end('result');
  });
}

describe('RunCredentials', () => {
  let dir: string;
  let server: AggregationServer | undefined;
  let stop: AbortController;
  beforeEach(async () => {
    stop = new AbortController();
    dir = await mkdtemp(join(tmpdir(), 'fathom-creds-'));
  });
  afterEach(async () => {
    stop.abort();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues certificates for the planned validity', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const creds = await RunCredentials.create({
      clock,
      timeoutMs: 72 * HOUR,
      groups: 2,
      hosts: ['127.0.0.1'],
    });
    const validTo = (pem: string): number => Date.parse(new X509Certificate(pem).validTo);
    const planned = clock.now() + 145 * HOUR;
    expect(validTo(creds.ca.caPem)).toBe(planned);
    expect(validTo(creds.serverTls().certPem)).toBe(planned);
    expect(validTo((await creds.clientCert('e2e')).certPem)).toBe(planned);
    expect(creds.renewAt).toBe(planned - 30 * MIN);
  });

  it('renews a run without a timeout on the clock: new server context, new client pairs, old ones still accepted', async () => {
    const plan = credentialPlan(0, 1);
    // Start so that renewal falls on the real now: TLS checks validity against the real time.
    // Whole seconds, as certificates hold them.
    const start = Math.floor((Date.now() - renewalDueAt(0, plan)) / 1000) * 1000;
    const clock = new ManualClock(start);
    const creds = await RunCredentials.create({
      clock,
      timeoutMs: 0,
      groups: 1,
      hosts: ['127.0.0.1'],
    });
    const aggregator = createAggregator({
      outputDir: dir,
      clock,
      expected: [
        { plugin: 'e2e', node: 'global' },
        { plugin: 'late', node: 'global' },
      ],
    });
    const srv = await startAggregationServer({ aggregator, tls: creds.serverTls() });
    server = srv;
    const firstCa = creds.ca.caPem;
    const firstClient = await creds.clientCert('e2e');
    await creds.clientCert('late');
    const renewed = new Map<string, { caPem: string; clientCert: KeyPair }>();
    const contexts: ServerTls[] = [];
    const targets: RenewalTargets = {
      setServerTls: (tls) => {
        contexts.push(tls);
        srv.setTls(tls);
      },
      renewClient: (plugin, material) => {
        renewed.set(plugin, material);
        return Promise.resolve();
      },
    };
    const maintaining = creds.maintain(targets, stop.signal);
    await clock.whenSleeping();
    expect(clock.pendingDelays()).toEqual([renewalDueAt(0, plan)]);
    await clock.advance(renewalDueAt(0, plan) - 1);
    expect(contexts).toEqual([]);

    await clock.advance(1);
    await clock.whenSleeping();
    expect(contexts).toHaveLength(1);
    expect([...renewed.keys()].sort()).toEqual(['e2e', 'late']);
    const next = renewed.get('late')!;
    expect(next.caPem).toBe(creds.ca.caPem);
    expect(next.caPem).not.toBe(firstCa);
    expect(Date.parse(new X509Certificate(next.clientCert.certPem).validTo)).toBe(
      clock.now() + plan.validForMs,
    );
    // The next renewal is a full period later.
    expect(clock.pendingDelays()).toEqual([renewalDueAt(0, plan)]);

    // A worker that has not re-read its files yet still gets through, and sees the new server pair.
    const serverSerial = new X509Certificate(contexts[0]!.certPem).serialNumber;
    const old = await put(srv.port, firstCa, firstClient, 'e2e');
    expect(old).toEqual({ status: 200, serverSerial });
    // One that has re-read them does too.
    expect(await put(srv.port, next.caPem, next.clientCert, 'late')).toEqual({
      status: 200,
      serverSerial,
    });
    stop.abort();
    await maintaining;
  });

  it('leaves a run with a timeout alone: no renewal is scheduled', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const creds = await RunCredentials.create({ clock, timeoutMs: HOUR, groups: 1, hosts: ['x'] });
    const targets: RenewalTargets = {
      setServerTls: () => expect.fail('renewed'),
      renewClient: () => Promise.reject(new Error('renewed')),
    };
    await creds.maintain(targets, stop.signal);
    expect(clock.pending).toBe(0);
  });

  it('retries a client renewal that failed, a minute later', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const creds = await RunCredentials.create({ clock, timeoutMs: 0, groups: 1, hosts: ['x'] });
    await creds.clientCert('e2e');
    const attempts: number[] = [];
    const targets: RenewalTargets = {
      setServerTls: () => undefined,
      renewClient: () => {
        attempts.push(clock.now());
        return attempts.length === 1
          ? Promise.reject(new Error('API server unavailable'))
          : Promise.resolve();
      },
    };
    const maintaining = creds.maintain(targets, stop.signal);
    const due = creds.renewAt;
    await clock.advance(due - clock.now());
    await clock.whenSleeping(); // the renewal is done and the retry is waiting
    expect(attempts).toEqual([due]);
    expect(clock.pendingDelays()).toEqual([MIN]);
    await clock.advance(MIN);
    await clock.whenSleeping();
    expect(attempts).toEqual([due, due + MIN]);
    expect(clock.pendingDelays()).toEqual([creds.renewAt - clock.now()]);
    stop.abort();
    await maintaining;
  });

  it('continues with a restored CA, renewing it at once when it is about to expire', async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const old = await createRunCa({
      now: clock.now() - 23 * HOUR - 50 * MIN,
      validForMs: 24 * HOUR,
    });
    const creds = await RunCredentials.create({
      clock,
      timeoutMs: 0,
      groups: 1,
      hosts: ['x'],
      ca: old,
    });
    expect(creds.ca.notAfter).toBe(clock.now() + 24 * HOUR);
    expect(creds.ca.exportState().caKeyPem).toBe(old.exportState().caKeyPem);
    const fresh = await createRunCa({ now: clock.now(), validForMs: 24 * HOUR });
    const kept = await RunCredentials.create({
      clock,
      timeoutMs: 0,
      groups: 1,
      hosts: ['x'],
      ca: fresh,
    });
    expect(kept.ca.caPem).toBe(fresh.caPem);
  });
});
