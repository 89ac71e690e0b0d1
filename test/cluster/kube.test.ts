/**
 * The cluster's PKI and API client over real mutual TLS: a Node HTTPS server stands in for
 * the apiserver's authentication (CN = user, O = groups) and its list/watch protocol.
 */
import { createSign, createVerify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeHttp,
  kubeHttpFromKubeconfig,
  readKubeconfig,
  renderKubeconfig,
} from './kube.js';
import type { KubeCredentials } from './kube.js';
import { createClusterPki } from './pki.js';
import type { ClusterPki } from './pki.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let pki: ClusterPki;
let server: Server;
let url: string;
let admin: KubeCredentials;
let handler: Handler;
let dir: string;

beforeAll(async () => {
  pki = await createClusterPki();
  const serving = await pki.servingCert(['127.0.0.1', 'localhost']);
  const cert = await pki.clientCert({
    user: 'fathom-admin',
    groups: ['system:masters', 'team, a'],
  });
  admin = { caPem: pki.caPem, certPem: cert.certPem, keyPem: cert.keyPem };
  server = createServer(
    {
      cert: serving.certPem,
      key: serving.keyPem,
      ca: pki.caPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => handler(req, res),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'fathom-kube-test-'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** Answers with the user and groups the client certificate carries, as the apiserver reads them. */
const whoami: Handler = (req, res) => {
  const subject = (req.socket as TLSSocket).getPeerCertificate().subject;
  const groups = subject.O === undefined ? [] : ([] as string[]).concat(subject.O);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ user: subject.CN, groups }));
};

describe('cluster PKI over mutual TLS', () => {
  it('authenticates a client certificate as CN = user, one O per group', async () => {
    handler = whoami;
    const api = createKubeHttp(url, admin);
    try {
      expect(await api.get('/whoami')).toEqual({
        user: 'fathom-admin',
        groups: ['system:masters', 'team, a'],
      });
    } finally {
      api.close();
    }
  });

  it('serves for every host in the SAN list and refuses clients of another CA', async () => {
    handler = whoami;
    const viaName = createKubeHttp(url.replace('127.0.0.1', 'localhost'), admin);
    const other = await createClusterPki();
    const stranger = await other.clientCert({ user: 'mallory', groups: ['system:masters'] });
    const foreign = createKubeHttp(url, {
      caPem: pki.caPem,
      certPem: stranger.certPem,
      keyPem: stranger.keyPem,
    });
    try {
      expect(await viaName.get('/whoami')).toMatchObject({ user: 'fathom-admin' });
      await expect(foreign.get('/whoami')).rejects.toThrow(
        /certificate|socket hang up|ECONNRESET|alert/i,
      );
    } finally {
      viaName.close();
      foreign.close();
    }
  });

  it('makes a service-account key pair that signs and verifies ES256', async () => {
    const sa = await pki.serviceAccountKeys();
    expect(sa.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(sa.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const sig = createSign('SHA256').update('token').sign(sa.privateKeyPem);
    expect(createVerify('SHA256').update('token').verify(sa.publicKeyPem, sig)).toBe(true);
    expect(createVerify('SHA256').update('tampered').verify(sa.publicKeyPem, sig)).toBe(false);
  });
});

describe('kubeconfig', () => {
  it('round-trips server and credentials, and a client built from it authenticates', async () => {
    handler = whoami;
    const path = join(dir, 'admin.kubeconfig');
    await writeFile(path, renderKubeconfig({ server: url, creds: admin, user: 'fathom-admin' }));
    expect(await readKubeconfig(path)).toEqual({ server: url, creds: admin });
    const api = await kubeHttpFromKubeconfig(path);
    try {
      expect(await api.get('/whoami')).toMatchObject({ user: 'fathom-admin' });
    } finally {
      api.close();
    }
  });

  it('rejects a kubeconfig without a usable current context', async () => {
    const path = join(dir, 'empty.kubeconfig');
    await writeFile(path, 'apiVersion: v1\nkind: Config\ncurrent-context: nope\n');
    await expect(readKubeconfig(path)).rejects.toThrow(/no current context/);
  });
});

describe('KubeHttp', () => {
  const pod = (name: string, phase: string): object => ({
    metadata: { name, namespace: 'ns', resourceVersion: '1' },
    status: { phase },
  });

  it('turns non-2xx answers into errors with the API message', async () => {
    handler = (_req, res) => {
      res.statusCode = 403;
      res.end(
        JSON.stringify({ kind: 'Status', message: 'nodes is forbidden: User "x" cannot list' }),
      );
    };
    const api = createKubeHttp(url, admin);
    try {
      await expect(api.get('/api/v1/nodes')).rejects.toThrow(
        'GET /api/v1/nodes: HTTP 403: nodes is forbidden: User "x" cannot list',
      );
      expect((await api.request('GET', '/api/v1/nodes')).status).toBe(403);
    } finally {
      api.close();
    }
  });

  it('waitForList lists, then follows the watch until the condition holds', async () => {
    const seen: string[] = [];
    handler = (req, res) => {
      seen.push(req.url!);
      res.setHeader('content-type', 'application/json');
      if (!req.url!.includes('watch=1')) {
        res.end(
          JSON.stringify({
            metadata: { resourceVersion: '7' },
            items: [pod('a', 'Pending'), pod('gone', 'Pending')],
          }),
        );
        return;
      }
      // A watch stream: one JSON event per line, split across writes on purpose.
      const events = [
        { type: 'DELETED', object: pod('gone', 'Pending') },
        { type: 'ADDED', object: pod('b', 'Pending') },
        { type: 'MODIFIED', object: pod('a', 'Running') },
        { type: 'MODIFIED', object: pod('b', 'Running') },
      ];
      const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      res.write(text.slice(0, 50));
      res.write(text.slice(50));
    };
    const api = createKubeHttp(url, admin);
    try {
      const names = await api.waitForList<
        { metadata: { name: string }; status: { phase: string } } & {
          metadata: { resourceVersion?: string };
        },
        string[]
      >(
        '/api/v1/namespaces/ns/pods?labelSelector=app%3Dx',
        (objects) => {
          const all = [...objects.values()];
          return all.length === 2 && all.every((p) => p.status.phase === 'Running')
            ? all.map((p) => p.metadata.name).sort()
            : undefined;
        },
        10_000,
      );
      expect(names).toEqual(['a', 'b']);
      expect(seen).toEqual([
        '/api/v1/namespaces/ns/pods?labelSelector=app%3Dx',
        '/api/v1/namespaces/ns/pods?labelSelector=app%3Dx&watch=1&resourceVersion=7',
      ]);
    } finally {
      api.close();
    }
  });

  it('waitForList lists again after 410 Gone or a closed watch, and goes on', async () => {
    const seen: string[] = [];
    let lists = 0;
    handler = (req, res) => {
      seen.push(req.url!);
      res.setHeader('content-type', 'application/json');
      if (!req.url!.includes('watch=1')) {
        lists++;
        // The third list finally has the pod running.
        const items = lists < 3 ? [pod('a', 'Pending')] : [pod('a', 'Running')];
        res.end(JSON.stringify({ metadata: { resourceVersion: String(lists * 10) }, items }));
        return;
      }
      if (lists === 1) {
        const gone = { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } };
        res.end(JSON.stringify(gone) + '\n');
      } else res.end(); // the server closes the watch with no event
    };
    const api = createKubeHttp(url, admin);
    try {
      const phase = await api.waitForList<
        { metadata: { name: string }; status: { phase: string } },
        string
      >(
        '/api/v1/pods',
        (objects) =>
          [...objects.values()].some((p) => p.status.phase === 'Running') ? 'Running' : undefined,
        10_000,
      );
      expect(phase).toBe('Running');
      expect(seen).toEqual([
        '/api/v1/pods',
        '/api/v1/pods?watch=1&resourceVersion=10',
        '/api/v1/pods',
        '/api/v1/pods?watch=1&resourceVersion=20',
        '/api/v1/pods',
      ]);
    } finally {
      api.close();
    }
  });

  it('waitForList fails on any other ERROR event', async () => {
    handler = (req, res) => {
      if (!req.url!.includes('watch=1')) {
        res.end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] }));
        return;
      }
      res.write(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', code: 500, reason: 'InternalError' },
        }) + '\n',
      );
    };
    const api = createKubeHttp(url, admin);
    try {
      await expect(api.waitForList('/api/v1/pods', () => undefined, 10_000)).rejects.toThrow(
        /InternalError/,
      );
    } finally {
      api.close();
    }
  });
});
