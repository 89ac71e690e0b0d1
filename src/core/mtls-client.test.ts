import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMtlsClient, tlsDirSource } from './mtls-client.js';
import { peerDnsNames, startMtlsServer, type MtlsServer } from './mtls-server.js';
import { createRunCa } from './pki.js';
import { TLS_FILES, writeTlsDir } from './tls-files.js';

let dir: string;
let server: MtlsServer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-mtls-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A server whose one route answers with the names of the client certificate. */
async function namesServer(ca: Awaited<ReturnType<typeof createRunCa>>): Promise<MtlsServer> {
  return startMtlsServer({
    tls: { caPem: ca.caPem, ...(await ca.serverCert(['127.0.0.1'])) },
    routes: (app) => app.get('/', (request) => ({ names: peerDnsNames(request.raw) })),
  });
}

describe('mTLS server and client', () => {
  it("tells the handler the client certificate's names; a client from another CA gets no connection", async () => {
    const ca = await createRunCa({ now: Date.now() });
    server = await namesServer(ca);
    const client = createMtlsClient(server.url, {
      caPem: ca.caPem,
      ...(await ca.clientCert('e2e')),
    });
    const res = await client.request({ method: 'GET', path: '/' });
    expect(JSON.parse(res.body.toString())).toEqual({ names: ['e2e'] });
    const other = await createRunCa({ now: Date.now() });
    const stranger = createMtlsClient(server.url, {
      caPem: ca.caPem,
      ...(await other.clientCert('e2e')),
    });
    await expect(stranger.request({ method: 'GET', path: '/' })).rejects.toThrow();
  });

  it('swaps CA and server pair with setTls: old clients are refused, new ones served', async () => {
    const ca = await createRunCa({ now: Date.now() });
    server = await namesServer(ca);
    const next = await createRunCa({ now: Date.now() });
    server.setTls({ caPem: next.caPem, ...(await next.serverCert(['127.0.0.1'])) });
    const old = createMtlsClient(server.url, { caPem: ca.caPem, ...(await ca.clientCert('a')) });
    await expect(old.request({ method: 'GET', path: '/' })).rejects.toThrow();
    const fresh = createMtlsClient(server.url, {
      caPem: next.caPem,
      ...(await next.clientCert('b')),
    });
    const res = await fresh.request({ method: 'GET', path: '/' });
    expect(JSON.parse(res.body.toString())).toEqual({ names: ['b'] });
  });

  it('a client on a TLS directory reads the files on every request, so a renewal takes effect', async () => {
    const ca = await createRunCa({ now: Date.now() });
    server = await namesServer(ca);
    const other = await createRunCa({ now: Date.now() });
    await writeTlsDir(dir, { caPem: other.caPem, ...(await other.clientCert('e2e')) });
    const client = createMtlsClient(server.url, tlsDirSource(dir));
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow();
    await writeTlsDir(dir, { caPem: ca.caPem, ...(await ca.clientCert('e2e')) });
    const res = await client.request({ method: 'GET', path: '/' });
    expect(JSON.parse(res.body.toString())).toEqual({ names: ['e2e'] });
    await writeFile(join(dir, TLS_FILES.key), (await ca.clientCert('e2e')).keyPem);
    await expect(client.request({ method: 'GET', path: '/' })).rejects.toMatchObject({
      code: 'FATHOM_TLS_INVALID',
    });
  });
});
