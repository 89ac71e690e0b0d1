import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { parseServer } from './dns.js';
import { runCheck } from './index.js';
import type { RunOutcome } from './types.js';

const TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
};
const TYPE_NUM = Object.fromEntries(Object.entries(TYPES).map(([n, t]) => [t, Number(n)]));

function encodeName(name: string): Buffer {
  const parts = name
    .split('.')
    .filter(Boolean)
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

/** Record data by name and type; a name that is absent is NXDOMAIN, `hang.test` is never answered. */
const zone: Record<string, Record<string, Buffer[]>> = {
  'web.test': {
    A: [Buffer.from([10, 0, 0, 1]), Buffer.from([10, 0, 0, 2])],
    AAAA: [Buffer.from('fd000000000000000000000000000001', 'hex')],
    MX: [Buffer.concat([u16(10), encodeName('mail.web.test')])],
    TXT: [
      Buffer.concat([
        Buffer.from([5]),
        Buffer.from('hello'),
        Buffer.from([6]),
        Buffer.from(' world'),
      ]),
    ],
    NS: [encodeName('ns1.web.test')],
  },
  'www.web.test': { CNAME: [encodeName('web.test')] },
  '_http._tcp.web.test': {
    SRV: [Buffer.concat([u16(0), u16(5), u16(8080), encodeName('web.test')])],
  },
  'empty.test': {},
};

function answer(query: Buffer): Buffer | undefined {
  let at = 12;
  const labels: string[] = [];
  while (query[at]! > 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString());
    at += query[at]! + 1;
  }
  const name = labels.join('.').toLowerCase();
  const type = TYPES[query.readUInt16BE(at + 1)] ?? '?';
  const question = query.subarray(12, at + 5);
  if (name === 'hang.test') return undefined;
  const records = zone[name];
  const rdatas = records?.[type] ?? [];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | (records ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const answers = rdatas.map((rd) =>
    Buffer.concat([
      u16(0xc00c),
      u16(TYPE_NUM[type]!),
      u16(1),
      Buffer.from([0, 0, 0, 60]),
      u16(rd.length),
      rd,
    ]),
  );
  return Buffer.concat([header, question, ...answers]);
}

let server: Socket;
let address: string;
let queries = 0;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, peer) => {
    queries++;
    const reply = answer(msg);
    if (reply) server.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  address = `127.0.0.1:${server.address().port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function check(instance: Record<string, unknown>, clock = new ManualClock()): Promise<RunOutcome> {
  return runCheck(
    'dns',
    { server: address, ...instance },
    { clock, signal: new AbortController().signal, timeoutMs: 5000 },
  );
}

describe('dns runner', () => {
  it.each([
    ['A', 'web.test', ['10.0.0.1', '10.0.0.2']],
    ['AAAA', 'web.test', ['fd00::1']],
    ['MX', 'web.test', ['mail.web.test']],
    ['TXT', 'web.test', ['hello world']],
    ['NS', 'web.test', ['NS1.web.test.']],
    ['CNAME', 'www.web.test', ['web.test']],
    ['SRV', '_http._tcp.web.test', ['web.test:8080']],
  ])('%s %s has every expected answer', async (type, name, expect_) => {
    const out = await check({ name, record_type: type, expect: expect_ });
    expect(out).toMatchObject({ status: 'ok', metrics: { answers: expect_.length } });
    expect(out.metrics.resolve_ms).toBe(0);
  });

  it('asks the given server (A by default), not the system resolver', async () => {
    const before = queries;
    expect((await check({ name: 'web.test' })).status).toBe('ok');
    expect(queries).toBe(before + 1);
  });

  it('is critical when an expected answer is missing', async () => {
    const out = await check({ name: 'web.test', expect: ['10.0.0.1', '10.0.0.9'] });
    expect(out).toEqual({
      status: 'critical',
      message: 'A web.test: expected 10.0.0.9, got 10.0.0.1, 10.0.0.2',
      metrics: { answers: 2, resolve_ms: 0 },
    });
  });

  it('is critical for NXDOMAIN and for a name without records of the type', async () => {
    expect(await check({ name: 'nope.test' })).toMatchObject({
      status: 'critical',
      message: 'A nope.test: NXDOMAIN',
    });
    expect(await check({ name: 'empty.test', record_type: 'MX' })).toMatchObject({
      status: 'critical',
      message: 'MX empty.test: no MX records',
    });
  });

  it('is critical at the timeout when the server never answers', async () => {
    const clock = new ManualClock();
    const out = check({ name: 'hang.test' }, clock);
    await clock.whenSleeping(1);
    await clock.advance(5000);
    expect(await out).toEqual({ status: 'critical', message: 'timed out after 5s', metrics: {} });
  });

  it('takes the server as a name, looked up first', async (test) => {
    // The test server listens on 127.0.0.1 only.
    if ((await lookup('localhost')).address !== '127.0.0.1') test.skip();
    const out = await check({
      server: `localhost:${server.address().port}`,
      name: 'web.test',
      expect: ['10.0.0.2'],
    });
    expect(out.status).toBe('ok');
  });

  it.each([
    ['10.0.0.53', { host: '10.0.0.53', port: 53 }],
    ['10.0.0.53:5353', { host: '10.0.0.53', port: 5353 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['dns.example:54', { host: 'dns.example', port: 54 }],
  ])('parseServer(%s)', (text, want) => expect(parseServer(text)).toEqual(want));
});
