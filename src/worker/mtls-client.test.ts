import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunCa } from '../core/pki.js';
import { readTlsDir, TLS_FILES, writeTlsDir } from '../core/tls-files.js';
import { createMtlsClient } from './mtls-client.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-mtls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mTLS client with files', () => {
  it("the worker's client reads the files on every request, so a renewal takes effect", async () => {
    const ca = await createRunCa();
    const server = await ca.serverCert(['127.0.0.1']);
    const srv = https.createServer(
      { key: server.keyPem, cert: server.certPem, ca: ca.caPem, requestCert: true },
      (_req, res) => res.end('ok'),
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const { port } = srv.address() as AddressInfo;
      const other = await createRunCa();
      await writeTlsDir(dir, { caPem: other.caPem, ...(await other.clientCert('e2e')) });
      const client = createMtlsClient(`https://127.0.0.1:${port}`, () => readTlsDir(dir));
      await expect(client.request({ method: 'GET', path: '/' })).rejects.toThrow();
      await writeTlsDir(dir, { caPem: ca.caPem, ...(await ca.clientCert('e2e')) });
      const res = await client.request({ method: 'GET', path: '/' });
      expect(res.body.toString()).toBe('ok');
      await writeFile(join(dir, TLS_FILES.key), (await ca.clientCert('e2e')).keyPem);
      await expect(client.request({ method: 'GET', path: '/' })).rejects.toMatchObject({
        code: 'FATHOM_TLS_INVALID',
      });
    } finally {
      srv.close();
    }
  });
});
