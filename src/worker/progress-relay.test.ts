import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMtlsRecorder } from '../../test/interop/mtls-recorder.js';
import type { MtlsRecorder } from '../../test/interop/mtls-recorder.js';
import { createMtlsClient } from '../core/mtls-client.js';
import { startProgressRelay } from './progress-relay.js';
import type { ProgressRelay } from './progress-relay.js';

let recorder: MtlsRecorder;
let relay: ProgressRelay;

beforeEach(async () => {
  recorder = await startMtlsRecorder({ plugin: 'e2e' });
  relay = await startProgressRelay({
    client: createMtlsClient(recorder.url, {
      caPem: recorder.ca.caPem,
      certPem: recorder.client.certPem,
      keyPem: recorder.client.keyPem,
    }),
    targetPath: '/api/v1/progress/global/e2e',
    port: 0,
  });
});

afterEach(async () => {
  await relay.close();
  await recorder.close();
});

/** A plain HTTP call to the relay, as a plugin makes it. */
function call(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: relay.port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          ...(res.headers['content-type'] ? { type: res.headers['content-type'] } : {}),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** Whether a TCP connection to `host:port` is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('progress relay', () => {
  it('listens on loopback only', async () => {
    expect(relay.address).toBe('127.0.0.1');
    expect(await accepts('127.0.0.1', relay.port)).toBe(true);
    const external = externalAddress();
    if (external) expect(await accepts(external, relay.port)).toBe(false);
  });

  it('forwards the body unchanged as a POST and copies the answer back', async () => {
    const update = '{"msg":"running","total":10,"completed":3}';
    recorder.answer({ status: 200, body: 'ok', contentType: 'text/plain' });
    expect(relay.url).toBe(`http://127.0.0.1:${relay.port}/progress`);
    expect(await call('POST', '/progress', update)).toEqual({
      status: 200,
      body: 'ok',
      type: 'text/plain',
    });
    const [req] = recorder.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/api/v1/progress/global/e2e' });
    expect(req!.clientCn).toBe('e2e');
    expect(req!.body.toString()).toBe(update);
    expect(req!.headers['content-type']).toBeUndefined();
  });

  it('accepts any method and relays refusals as they are', async () => {
    recorder.answer({ status: 403, body: 'result e2e/global unexpected\n' });
    expect(await call('PUT', '/progress?x=1', '{}')).toMatchObject({
      status: 403,
      body: 'result e2e/global unexpected\n',
    });
    expect(recorder.requests[0]!.method).toBe('POST');
  });

  it('answers 404 elsewhere', async () => {
    expect(await call('POST', '/progress/extra', '{}')).toMatchObject({ status: 404 });
    expect(recorder.requests).toHaveLength(0);
  });

  it('answers 500 when the aggregator cannot be reached', async () => {
    await recorder.close();
    expect(await call('POST', '/progress', '{}')).toEqual({ status: 500, body: '' });
  });

  it('refuses a port already in use, naming the variable', async () => {
    await expect(
      startProgressRelay({
        client: createMtlsClient(recorder.url, { caPem: '', certPem: '', keyPem: '' }),
        targetPath: '/x',
        port: relay.port,
      }),
    ).rejects.toMatchObject({ code: 'FATHOM_CONFIG_INVALID', message: /SONOBUOY_PROGRESS_PORT/ });
  });
});
