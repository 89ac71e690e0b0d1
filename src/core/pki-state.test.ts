import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunCa, loadRunCa, restoreRunCa, saveRunCa, type KeyPair } from './pki.js';

const HOUR = 3_600_000;

/** An mTLS server trusting `caPem` with `server`; resolves with a GET function and a closer. */
async function serve(caPem: string, server: KeyPair) {
  const srv = https.createServer(
    { ...{ key: server.keyPem, cert: server.certPem }, ca: caPem, requestCert: true },
    (_req, res) => res.end('ok'),
  );
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  const get = (trust: string, client: KeyPair): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          ca: trust,
          cert: client.certPem,
          key: client.keyPem,
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
    });
  return { get, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-pki-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('run CA persistence', () => {
  it('saves the CA with mode 0600 and no leftovers; the loaded CA is trusted where the original was', async () => {
    const original = await createRunCa({ now: Date.now() });
    const path = join(dir, 'ca.json');
    await saveRunCa(original, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['ca.json']);

    const restored = await loadRunCa(path);
    expect(restored.caPem).toBe(original.caPem);
    // The restarted aggregator's server certificate, trusted by a worker that kept the original CA...
    const server = await serve(original.caPem, await restored.serverCert(['127.0.0.1']));
    try {
      // ...and a worker's certificate from before the restart, accepted by the new server.
      expect(await server.get(original.caPem, await original.clientCert('e2e'))).toBe('ok');
      expect(await server.get(restored.caPem, await restored.clientCert('e2e'))).toBe('ok');
      // Another CA's certificates still fail.
      const stranger = await createRunCa({ now: Date.now() });
      await expect(server.get(original.caPem, await stranger.clientCert('e2e'))).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('replaces an existing state file atomically, keeping mode 0600', async () => {
    const path = join(dir, 'ca.json');
    await writeFile(path, 'old', { mode: 0o644 });
    const ca = await createRunCa({ now: Date.now() });
    await saveRunCa(ca, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await loadRunCa(path)).caPem).toBe(ca.caPem);
  });

  it('refuses a missing, damaged or mismatched state with FATHOM_TLS_INVALID', async () => {
    await expect(loadRunCa(join(dir, 'none.json'))).rejects.toMatchObject({
      code: 'FATHOM_TLS_INVALID',
    });
    await writeFile(join(dir, 'bad.json'), '{"version":1}');
    await expect(loadRunCa(join(dir, 'bad.json'))).rejects.toMatchObject({
      code: 'FATHOM_TLS_INVALID',
    });
    const a = (await createRunCa({ now: Date.now() })).exportState();
    const b = (await createRunCa({ now: Date.now() })).exportState();
    await expect(restoreRunCa({ ...a, caKeyPem: b.caKeyPem })).rejects.toThrow(
      /key does not belong/,
    );
  });
});

describe('run CA validity and renewal', () => {
  it('issues leaves for the requested window, never past the CA', async () => {
    const now = Date.UTC(2026, 0, 1);
    const ca = await createRunCa({ now, validForMs: 10 * HOUR });
    const short = new X509Certificate(
      (await ca.clientCert('e2e', { now, validForMs: HOUR })).certPem,
    );
    expect(Date.parse(short.validTo)).toBe(now + HOUR);
    const long = new X509Certificate(
      (await ca.clientCert('e2e', { now, validForMs: 100 * HOUR })).certPem,
    );
    expect(Date.parse(long.validTo)).toBe(ca.notAfter);
    expect(ca.notAfter).toBe(now + 10 * HOUR);
  });

  it('a renewed CA keeps its key: certificates from before and after verify under either', async () => {
    const before = await createRunCa({ now: Date.now() });
    const after = await before.renewed({ now: Date.now(), validForMs: 72 * HOUR });
    expect(after.caPem).not.toBe(before.caPem);
    expect(after.notAfter).toBeGreaterThan(before.notAfter);
    const server = await serve(after.caPem, await after.serverCert(['127.0.0.1']));
    try {
      // A worker that has not re-read its files yet: old trust, old client certificate.
      expect(await server.get(before.caPem, await before.clientCert('e2e'))).toBe('ok');
      expect(await server.get(after.caPem, await after.clientCert('e2e'))).toBe('ok');
    } finally {
      await server.close();
    }
  });
});
