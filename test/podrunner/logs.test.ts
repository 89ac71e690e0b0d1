import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectLog, startKubeletEndpoints } from './logs.js';
import type { KubeletEndpoints, LogTarget } from './logs.js';

const text = (b: Buffer): string => b.toString('utf8');

describe('selectLog', () => {
  const log = Buffer.from('one\ntwo\nthree\n');
  it.each([
    [{}, 'one\ntwo\nthree\n'],
    [{ tailLines: 2 }, 'two\nthree\n'],
    [{ tailLines: 1 }, 'three\n'],
    [{ tailLines: 10 }, 'one\ntwo\nthree\n'],
    [{ tailLines: 0 }, ''],
    [{ limitBytes: 5 }, 'one\nt'],
    [{ tailLines: 2, limitBytes: 4 }, 'two\n'],
  ])('%j', (options, out) => {
    expect(text(selectLog(log, options))).toBe(out);
  });

  it('counts a last line without a newline', () => {
    expect(text(selectLog(Buffer.from('a\nb\nc'), { tailLines: 2 }))).toBe('b\nc');
  });
});

describe('containerLogs endpoint', () => {
  let dir: string;
  let endpoints: KubeletEndpoints;
  let running = true;
  const listeners = new Set<() => void>();
  const changed = (): void => listeners.forEach((l) => l());
  const IP = '127.0.77.7';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podrunner-logs-'));
    await writeFile(join(dir, 'c.log'), 'first\nsecond\n');
    const target: LogTarget = {
      path: join(dir, 'c.log'),
      running: () => running,
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    endpoints = await startKubeletEndpoints(new Map([['n0', IP]]), (ns, pod, c) =>
      ns === 'ns' && pod === 'p' && c === 'c' ? target : undefined,
    );
  });
  afterAll(async () => {
    await endpoints?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** GETs a path; `onData` sees the body as it streams. */
  const get = (
    path: string,
    onData?: (soFar: string) => void,
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: IP, port: endpoints.ports.get('n0'), path, rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            onData?.(body);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('serves a log over HTTPS on the node IP, with tailLines and limitBytes', async () => {
    expect(await get('/containerLogs/ns/p/c')).toEqual({ status: 200, body: 'first\nsecond\n' });
    expect(await get('/containerLogs/ns/p/c?tailLines=1')).toEqual({
      status: 200,
      body: 'second\n',
    });
    expect(await get('/containerLogs/ns/p/c?limitBytes=3')).toEqual({ status: 200, body: 'fir' });
  });

  it("answers the kubelet's healthz and configz, as the node proxy asks them", async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
    const configz = await get('/configz');
    expect(configz.status).toBe(200);
    expect(JSON.parse(configz.body)).toMatchObject({
      kubeletconfig: { kind: 'KubeletConfiguration', port: endpoints.ports.get('n0') },
    });
  });

  it('answers 404 for what it does not have', async () => {
    expect((await get('/containerLogs/ns/p/other')).status).toBe(404);
    expect((await get('/pods')).status).toBe(404);
  });

  it('follows a running container until it stops', async () => {
    const path = join(dir, 'c.log');
    let step = 0;
    const body = await get('/containerLogs/ns/p/c?follow=true&tailLines=1', (soFar) => {
      // Each step waits for the previous output to arrive: event-driven, no timers.
      if (step === 0 && soFar === 'second\n') {
        step = 1;
        void appendFile(path, 'third\n');
      } else if (step === 1 && soFar.endsWith('third\n')) {
        step = 2;
        // Written before it stops, as a process's last output is.
        void appendFile(path, 'last words\n').then(() => {
          running = false;
          changed();
        });
      }
    });
    expect(body).toEqual({ status: 200, body: 'second\nthird\nlast words\n' });
    expect(listeners.size).toBe(0);
  });
});
