import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunCa } from '../../core/pki.js';
import { startResultsServer, type ResultsServer } from './results-server.js';

let dir: string;
let server: ResultsServer;
let caPem: string;
let tarball: { name: string; path: string } | undefined;

function get(path: string, token?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        ca: caPem,
        servername: 'localhost',
        headers: token === undefined ? {} : { 'x-fathom-token': token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-results-server-'));
  const ca = await createRunCa({ now: Date.now() });
  caPem = ca.caPem;
  server = await startResultsServer({
    host: '127.0.0.1',
    port: 0,
    token: 'secret-token',
    tls: await ca.serverCert(['localhost']),
    tarball: () => tarball,
  });
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('results listener', () => {
  it('asks for the token, answers 409 until packed, then serves exactly the tarball', async () => {
    expect((await get('/results/x.tar.gz')).status).toBe(403);
    expect((await get('/results/x.tar.gz', 'secret-tokeN')).status).toBe(403);
    const early = await get('/results/x.tar.gz', 'secret-token');
    expect([early.status, JSON.parse(early.body.toString()).code]).toEqual([
      409,
      'FATHOM_RUN_NOT_DONE',
    ]);

    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await writeFile(join(dir, 'r.tar.gz'), bytes);
    tarball = { name: '202601010000_sonobuoy_u.tar.gz', path: join(dir, 'r.tar.gz') };
    expect((await get('/results/other.tar.gz', 'secret-token')).status).toBe(404);
    expect((await get('/results/../../etc/passwd', 'secret-token')).status).toBe(404);
    const ok = await get(`/results/${tarball.name}`, 'secret-token');
    expect(ok.status).toBe(200);
    expect(ok.body.equals(bytes)).toBe(true);
  });
});
