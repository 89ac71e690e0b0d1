import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificateDnsNames, createRunCa } from './pki.js';

function get(port: number, options: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', ...options }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

describe('per-run CA', () => {
  it('issues SEC1 client keys named after the plugin, accepted over mutual TLS', async () => {
    const ca = await createRunCa({ now: Date.now() });
    const server = await ca.serverCert(['127.0.0.1', 'localhost']);
    const client = await ca.clientCert('node-inventory');
    expect(client.keyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(certificateDnsNames(client.certPem)).toEqual(['node-inventory']);

    const srv = https.createServer(
      {
        key: server.keyPem,
        cert: server.certPem,
        ca: ca.caPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.end(peer.subjectaltname);
      },
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as AddressInfo;
    try {
      expect(await get(port, { ca: ca.caPem, cert: client.certPem, key: client.keyPem })).toBe(
        'DNS:node-inventory',
      );
      // Without a client certificate the handshake is refused.
      await expect(get(port, { ca: ca.caPem })).rejects.toThrow();
      // A certificate from another run's CA is refused too.
      const other = await (await createRunCa({ now: Date.now() })).clientCert('node-inventory');
      await expect(
        get(port, { ca: ca.caPem, cert: other.certPem, key: other.keyPem }),
      ).rejects.toThrow();
    } finally {
      srv.close();
    }
  });
});
