/**
 * Test support: a real HTTPS server that requires client certificates from a per-test CA and
 * records every request, answering as the test tells it. Used by the worker's unit tests.
 */
import { createServer } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createRunCa } from '../../src/core/pki.js';
import type { KeyPair, RunCa } from '../../src/core/pki.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** CN of the client certificate presented. */
  clientCn: string;
}

/** An answer, or `hang-up` to drop the connection without one (a transient failure). */
export type Answer = { status: number; body?: string; contentType?: string } | 'hang-up';

export interface MtlsRecorder {
  readonly url: string;
  readonly ca: RunCa;
  /** A client pair signed by the recorder's CA for `plugin`. */
  readonly client: KeyPair;
  readonly requests: RecordedRequest[];
  /** Answers in order, one per request; once used up, every request gets `fallback`. */
  answer(...answers: Answer[]): void;
  /** Resolves once `count` requests have been recorded in all. */
  waitForRequests(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startMtlsRecorder(
  options: { plugin?: string; fallback?: Answer } = {},
): Promise<MtlsRecorder> {
  const ca = await createRunCa({ now: Date.now() });
  const server = await ca.serverCert(['127.0.0.1']);
  const client = await ca.clientCert(options.plugin ?? 'e2e');
  const requests: RecordedRequest[] = [];
  const queue: Answer[] = [];
  const fallback: Answer = options.fallback ?? { status: 200 };
  let waiters: { count: number; resolve: (r: RecordedRequest[]) => void }[] = [];

  const https = createServer(
    {
      ca: ca.caPem,
      cert: server.certPem,
      key: server.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          clientCn: String(peer.subject?.CN ?? ''),
        });
        const answer = queue.shift() ?? fallback;
        if (answer === 'hang-up') {
          req.socket.destroy();
        } else {
          const headers = answer.contentType ? { 'content-type': answer.contentType } : {};
          res.writeHead(answer.status, headers).end(answer.body ?? '');
        }
        const ready = waiters.filter((w) => requests.length >= w.count);
        waiters = waiters.filter((w) => requests.length < w.count);
        for (const w of ready) w.resolve([...requests]);
      });
    },
  );
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const port = (https.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    ca,
    client,
    requests,
    answer: (...answers) => void queue.push(...answers),
    waitForRequests(count) {
      if (requests.length >= count) return Promise.resolve([...requests]);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        https.close(() => resolve());
        https.closeAllConnections();
      }),
  };
}

/**
 * Lets I/O run until `done()` holds, without timers: each turn yields to the event loop once.
 * Gives up after `limitMs` of wall time so a broken test fails instead of hanging.
 */
export async function settle(done: () => boolean, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > limitMs) throw new Error('condition not reached');
    await new Promise<void>((r) => setImmediate(r));
  }
}
