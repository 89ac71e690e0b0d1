import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { createCertificateAuthority } from '../../core/pki.js';
import { runCheck } from './index.js';
import type { RunOutcome } from './types.js';

const DAY = 86_400_000;

/** A clock whose every reading is `stepMs` later than the previous: a known latency. */
class SteppingClock extends ManualClock {
  #step = 0;
  constructor(
    start: number,
    readonly stepMs: number,
  ) {
    super(start);
  }
  override now(): number {
    return super.now() + this.stepMs * this.#step++;
  }
}

const app: RequestListener = (req, res) => {
  if (req.url === '/down') return void res.writeHead(503).end('down');
  if (req.url === '/hang') return; // never answers
  if (req.url === '/big') {
    res.writeHead(200);
    res.write('a'.repeat(2 * 1024 * 1024));
    return void res.end('NEEDLE');
  }
  res.writeHead(200).end(`hello from ${req.method}`);
};

function listen(server: Server): Promise<number> {
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
  );
}

let dir: string;
let http: Server;
let httpUrl: string;
const tls: Record<string, { server: Server; url: string }> = {};
let caFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-http-check-'));
  http = createHttpServer(app);
  httpUrl = `http://127.0.0.1:${await listen(http)}`;
  const now = Date.now();
  const ca = await createCertificateAuthority({
    name: 'CN=check-test-ca',
    now,
    validForMs: 400 * DAY,
  });
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.caPem);
  // Leaves valid 100, 10 and 3 days (plus an hour, so the day count is exact).
  for (const [name, days] of [
    ['long', 100],
    ['soon', 10],
    ['close', 3],
  ] as const) {
    const leaf = await ca.issue(
      { subject: 'CN=127.0.0.1', usage: 'server', names: ['127.0.0.1', 'localhost'] },
      { now, validForMs: days * DAY + 3_600_000 },
    );
    const server = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, app);
    tls[name] = { server, url: `https://127.0.0.1:${await listen(server)}` };
  }
});

afterAll(async () => {
  for (const s of [http, ...Object.values(tls).map((t) => t.server)]) s.closeAllConnections();
  await Promise.all(
    [http, ...Object.values(tls).map((t) => t.server)].map((s) => new Promise((r) => s.close(r))),
  );
  await rm(dir, { recursive: true, force: true });
});

function check(
  instance: Record<string, unknown>,
  clock = new ManualClock(Date.now()),
): Promise<RunOutcome> {
  return runCheck('http', instance, {
    clock,
    signal: new AbortController().signal,
    timeoutMs: 10_000,
  });
}

describe('http runner', () => {
  it('is ok for 2xx and 3xx by default, critical otherwise, with the status as a metric', async () => {
    const ok = await check({ url: `${httpUrl}/` });
    expect(ok).toMatchObject({ status: 'ok', message: '', metrics: { status_code: 200 } });
    const down = await check({ url: `${httpUrl}/down` });
    expect(down.status).toBe('critical');
    expect(down.message).toBe(`HTTP 503 from ${httpUrl}/down`);
    expect((await check({ url: `${httpUrl}/down`, expect_status: [503] })).status).toBe('ok');
    expect((await check({ url: `${httpUrl}/`, expect_status: [204] })).status).toBe('critical');
  });

  it('sends the method and matches body_regex', async () => {
    expect(
      (await check({ url: `${httpUrl}/`, method: 'POST', body: 'x', body_regex: 'from POST$' }))
        .status,
    ).toBe('ok');
    const miss = await check({ url: `${httpUrl}/`, body_regex: 'from PUT' });
    expect(miss).toMatchObject({
      status: 'critical',
      message: `body of ${httpUrl}/ does not match /from PUT/`,
    });
  });

  it('reads at most the first MiB of the body for body_regex', async () => {
    expect((await check({ url: `${httpUrl}/big`, body_regex: '^a+$' })).status).toBe('ok');
    expect((await check({ url: `${httpUrl}/big`, body_regex: 'NEEDLE' })).status).toBe('critical');
  });

  it('measures latency on the clock and warns over latency_warning_ms', async () => {
    const out = await check(
      { url: `${httpUrl}/`, latency_warning_ms: 30 },
      new SteppingClock(Date.now(), 50),
    );
    expect(out.metrics.latency_ms).toBe(50);
    expect(out).toMatchObject({
      status: 'warning',
      message: `${httpUrl}/ answered in 50 ms, over 30 ms`,
    });
    const fast = await check(
      { url: `${httpUrl}/`, latency_warning_ms: 60 },
      new SteppingClock(Date.now(), 50),
    );
    expect(fast.status).toBe('ok');
  });

  it('refuses an untrusted certificate unless tls_verify is false or ca_file trusts it', async () => {
    const refused = await check({ url: `${tls.long!.url}/` });
    expect(refused.status).toBe('critical');
    expect(refused.message).toMatch(/certificate/);
    const trusted = await check({ url: `${tls.long!.url}/`, ca_file: caFile });
    expect(trusted).toMatchObject({
      status: 'ok',
      metrics: { cert_days_left: 100, status_code: 200 },
    });
    const unverified = await check({ url: `${tls.long!.url}/`, tls_verify: false });
    expect(unverified).toMatchObject({ status: 'ok', metrics: { cert_days_left: 100 } });
  });

  it('warns and goes critical as the certificate nears its end', async () => {
    const soon = await check({ url: `${tls.soon!.url}/`, ca_file: caFile });
    expect(soon).toMatchObject({
      status: 'warning',
      message: `certificate of ${tls.soon!.url}/ expires in 10 days`,
      metrics: { cert_days_left: 10 },
    });
    const close = await check({ url: `${tls.close!.url}/`, ca_file: caFile });
    expect(close).toMatchObject({ status: 'critical', metrics: { cert_days_left: 3 } });
    const tuned = await check({
      url: `${tls.soon!.url}/`,
      ca_file: caFile,
      cert_days_warning: 5,
      cert_days_critical: 2,
    });
    expect(tuned.status).toBe('ok');
  });

  it('counts days on the injected clock: an expired certificate (not verified) is critical', async () => {
    const later = new ManualClock(Date.now() + 12 * DAY);
    const out = await check({ url: `${tls.soon!.url}/`, tls_verify: false }, later);
    expect(out).toMatchObject({
      status: 'critical',
      message: `certificate of ${tls.soon!.url}/ expired 2 days ago`,
      metrics: { cert_days_left: -2 },
    });
  });

  it('is critical for a closed port and at the timeout, closing the connection', async () => {
    const closed = createHttpServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const refused = await check({ url: `http://127.0.0.1:${port}/` });
    expect(refused.status).toBe('critical');
    expect(refused.message).toMatch(/ECONNREFUSED/);

    const clock = new ManualClock(Date.now());
    const gone = new Promise<void>((r) =>
      http.once('connection', (s) => s.once('close', () => r())),
    );
    const hung = check({ url: `${httpUrl}/hang` }, clock);
    await clock.whenSleeping(1);
    await clock.advance(10_000);
    expect(await hung).toEqual({ status: 'critical', message: 'timed out after 10s', metrics: {} });
    await gone;
  });
});
