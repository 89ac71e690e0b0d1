import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  makeCerts,
  ServerFixture,
  type Certs,
  type Reply,
} from '../../test/support/aggregation.js';
import { TIMEOUT_ERROR_MESSAGE } from './types.js';

let certs: Certs;
let f: ServerFixture;

beforeAll(async () => {
  certs = await makeCerts();
});
beforeEach(async () => {
  f = await ServerFixture.start(certs);
});
afterEach(async () => {
  await f.stop();
});

describe('aggregation server: routes, TLS and status', () => {
  it('serves https on the address it reports', () => {
    expect(f.server.url).toBe(`https://127.0.0.1:${f.server.port}`);
    expect(f.server.port).toBeGreaterThan(0);
  });

  it('stores a single file under the name from content-disposition', async () => {
    const xml = '<testsuites><testsuite name="x"/></testsuites>';
    const res = await f.put('/api/v1/results/global/e2e', certs.e2e, xml, {
      'content-type': 'text/xml; charset=utf-8',
      'content-disposition': 'attachment;filename=junit_01.xml',
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(await readFile(join(f.dir, 'plugins/e2e/results/global/junit_01.xml'), 'utf8')).toBe(
      xml,
    );
    expect(await f.tree()).toEqual([
      'plugins',
      'plugins/e2e',
      'plugins/e2e/results',
      'plugins/e2e/results/global',
      'plugins/e2e/results/global/junit_01.xml',
    ]);
    expect(f.aggregator.entries()[0]).toEqual({
      plugin: 'e2e',
      node: 'global',
      status: 'complete',
      'result-status': '',
      'result-counts': null,
    });
  });

  it('names a file "result" without content-disposition and accepts an empty content-type', async () => {
    // Sonobuoy's worker sends an empty content-type for unknown extensions.
    const path = '/api/v1/results/by-node/node-1/systemd-logs';
    const res = await f.put(path, certs.logs, 'log', { 'content-type': '' });
    expect(res.status).toBe(200);
    const stored = join(f.dir, 'plugins/systemd-logs/results/node-1/result');
    expect(await readFile(stored, 'utf8')).toBe('log');
  });

  it('refuses results nobody expects with 403', async () => {
    const stranger = await f.put('/api/v1/results/global/stranger', certs.stranger, 'x');
    expect(stranger.status).toBe(403);
    expect(stranger.json()).toEqual({
      code: 'FATHOM_RESULT_UNEXPECTED',
      message: 'result stranger/global unexpected',
    });
    // e2e is a Job: it has no per-node results.
    const byNode = await f.put('/api/v1/results/by-node/node-1/e2e', certs.e2e, 'x');
    expect(byNode.status).toBe(403);
    expect(byNode.json().message).toBe('result e2e/node-1 unexpected');
    expect(await f.tree()).toEqual([]);
  });

  it('refuses with 403 a certificate issued for another plugin', async () => {
    const res = await f.put('/api/v1/results/global/e2e', certs.logs, 'x');
    expect(res.status).toBe(403);
    expect(res.json().code).toBe('FATHOM_CLIENT_CERT_MISMATCH');
    const progress = await f.send('/api/v1/progress/global/e2e', {
      method: 'POST',
      creds: certs.logs,
      body: '{"msg":"hi"}',
    });
    expect(progress.status).toBe(403);
    expect(f.aggregator.entries()[0]).not.toHaveProperty('progress');
    expect(await f.tree()).toEqual([]);
    expect((await f.put('/api/v1/results/global/e2e', certs.e2e, 'x')).status).toBe(200);
  });

  it('refuses the TLS handshake without a client certificate or with one from another CA', async () => {
    const path = '/api/v1/results/global/e2e';
    await expect(f.send(path, { body: 'x' })).rejects.toThrow();
    await expect(f.send(path, { creds: certs.foreign, body: 'x' })).rejects.toThrow();
    expect(f.aggregator.pending()).toHaveLength(3);
    expect(await f.tree()).toEqual([]);
    expect((await f.put(path, certs.e2e, 'x')).status).toBe(200);
  });

  it('answers 409 to a second upload and keeps the first', async () => {
    const path = '/api/v1/results/global/e2e';
    expect((await f.put(path, certs.e2e, 'first')).status).toBe(200);
    const again = await f.put(path, certs.e2e, 'second');
    expect(again.status).toBe(409);
    expect(again.json()).toEqual({
      code: 'FATHOM_RESULT_DUPLICATE',
      message: 'result e2e/global already received',
    });
    expect(await readFile(join(f.dir, 'plugins/e2e/results/global/result'), 'utf8')).toBe('first');
  });

  it('answers 500 when the result cannot be written, and accepts the retry', async () => {
    await writeFile(join(f.dir, 'plugins'), 'a file where a directory must go');
    const res = await f.put('/api/v1/results/global/e2e', certs.e2e, 'x');
    expect(res.status).toBe(500);
    expect(res.json().code).toBe('FATHOM_RESULT_WRITE_FAILED');
    expect(f.aggregator.entries()[0]!.status).toBe('running');
    await rm(join(f.dir, 'plugins'));
    expect((await f.put('/api/v1/results/global/e2e', certs.e2e, 'x')).status).toBe(200);
    expect((await f.tree()).filter((p) => p.startsWith('.incoming-'))).toEqual([]);
  });

  it('answers 404 for unknown paths and methods', async () => {
    const unknown = await f.put('/api/v1/results/nowhere/e2e', certs.e2e, 'x');
    expect(unknown.status).toBe(404);
    expect(unknown.json().code).toBe('FATHOM_ROUTE_NOT_FOUND');
    const get = await f.send('/api/v1/results/global/e2e', { method: 'GET', creds: certs.e2e });
    expect(get.status).toBe(404);
  });

  it('replaces progress, merges appending updates, and stamps name, node and time itself', async () => {
    const path = '/api/v1/progress/by-node/node-1/systemd-logs';
    const post = (body: string, method = 'POST'): Promise<Reply> =>
      f.send(path, { method, creds: certs.logs, body });
    const first = await post(
      '{"name":"liar","node":"elsewhere","msg":"start","total":10,"completed":2}',
    );
    expect(first.status).toBe(200);
    expect(first.text).toBe('');
    expect(f.aggregator.entries()[1]!.progress).toEqual({
      name: 'systemd-logs',
      node: 'node-1',
      timestamp: '2026-03-01T12:00:00.000Z',
      msg: 'start',
      total: 10,
      completed: 2,
    });
    await f.clock.advance(5000);
    // The worker relays whatever method the plugin used.
    const append = await post(
      '{"msg":"more","appendcompleted":3,"appendfailing":["t1"],"appendtotals":true}',
      'PUT',
    );
    expect(append.status).toBe(200);
    expect(f.aggregator.entries()[1]!.progress).toEqual({
      name: 'systemd-logs',
      node: 'node-1',
      timestamp: '2026-03-01T12:00:05.000Z',
      msg: 'more',
      total: 14,
      completed: 5,
      failures: ['t1'],
    });
    expect((await post('{"msg":"reset","total":1,"completed":1}')).status).toBe(200);
    const reset = f.aggregator.entries()[1]!.progress;
    expect(reset).toMatchObject({ msg: 'reset', total: 1, completed: 1 });
    expect(reset).not.toHaveProperty('failures');

    const global = await f.send('/api/v1/progress/global/e2e', {
      method: 'POST',
      creds: certs.e2e,
      body: '{"msg":"e2e","total":7000,"completed":1}',
    });
    expect(global.status).toBe(200);
    expect(f.aggregator.entries()[0]!.progress).toMatchObject({ name: 'e2e', node: 'global' });
  });

  it('answers 400 to progress that is not a JSON object and 403 to progress nobody expects', async () => {
    const path = '/api/v1/progress/by-node/node-1/systemd-logs';
    for (const body of ['not json', '[1,2]', '{"total":"ten"}', '{"completed":1.5}', '']) {
      const res = await f.send(path, { method: 'POST', creds: certs.logs, body });
      expect(res.status, body).toBe(400);
      expect(res.json().code).toBe('FATHOM_PROGRESS_INVALID');
    }
    const stranger = await f.send('/api/v1/progress/by-node/node-9/systemd-logs', {
      method: 'POST',
      creds: certs.logs,
      body: '{}',
    });
    expect(stranger.status).toBe(403);
    expect(stranger.json().message).toBe('progress update for systemd-logs/node-9 unexpected');
    expect(f.aggregator.entries().some((e) => e.progress)).toBe(false);
  });

  it('records a Monitor error once; a later upload for that key gets 409 as in Sonobuoy', async () => {
    const { aggregator } = f;
    expect(
      await aggregator.recordError('systemd-logs', 'node-2', { error: TIMEOUT_ERROR_MESSAGE }),
    ).toBe(true);
    expect(await aggregator.recordError('systemd-logs', 'node-2', { error: 'again' })).toBe(false);
    const stored = join(f.dir, 'plugins/systemd-logs/errors/node-2/error.json');
    expect(JSON.parse(await readFile(stored, 'utf8'))).toEqual({ error: TIMEOUT_ERROR_MESSAGE });
    expect(aggregator.entries()[2]!.status).toBe('failed');
    const late = await f.put('/api/v1/results/by-node/node-2/systemd-logs', certs.logs, 'late');
    expect(late.status).toBe(409);
    expect(existsSync(join(f.dir, 'plugins/systemd-logs/results'))).toBe(false);
  });

  it('completes once the Job result and every DaemonSet node result are in', async () => {
    const { aggregator } = f;
    let done = false;
    const complete = aggregator.whenComplete().then(() => (done = true));
    expect((await f.put('/api/v1/results/global/e2e', certs.e2e, 'x')).status).toBe(200);
    const node1 = await f.put('/api/v1/results/by-node/node-1/systemd-logs', certs.logs, 'x');
    expect(node1.status).toBe(200);
    expect(done).toBe(false);
    expect(aggregator.isComplete()).toBe(false);
    expect(aggregator.pending()).toEqual([{ plugin: 'systemd-logs', node: 'node-2' }]);
    await aggregator.recordError('systemd-logs', 'node-2', { error: 'Container X terminated' });
    await complete;
    expect(done).toBe(true);
    expect(aggregator.entries().map((e) => `${e.plugin}/${e.node}=${e.status}`)).toEqual([
      'e2e/global=complete',
      'systemd-logs/node-1=complete',
      'systemd-logs/node-2=failed',
    ]);
  });
});
