/**
 * The aggregator pod's second listener: it hands out the finished results tarball. `fathom
 * retrieve` reaches it through the API server's pod proxy, which cannot present the run CA's
 * client certificates, so this listener asks instead for the token kept in the run's Secret.
 */
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { ErrorCode } from '../../core/errors.js';
import {
  PARTIAL_NAME_HEADER,
  PARTIAL_PATH,
  PARTIAL_SHA_HEADER,
  RETRIEVE_TOKEN_HEADER,
} from './names.js';

export interface ResultsServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly token: string;
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** The finished tarball, once there is one. */
  readonly tarball: () => { readonly name: string; readonly path: string } | undefined;
  /** Packs what was accepted so far (`retrieve --partial`); the file is removed once sent. */
  readonly partial?: () => Promise<PartialTarball>;
}

export interface PartialTarball {
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface ResultsServer {
  readonly port: number;
  close(): Promise<void>;
}

function sameToken(given: string | string[] | undefined, want: string): boolean {
  if (typeof given !== 'string' || want === '') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Serves `GET /results/<tarball name>` to holders of the token; 409 until the run is packed. */
export async function startResultsServer(options: ResultsServerOptions): Promise<ResultsServer> {
  const server = https.createServer(
    { cert: options.tls.certPem, key: options.tls.keyPem },
    (req, res) => {
      const fail = (status: number, code: ErrorCode, message: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code, message }));
      };
      const m = /^\/results\/([^/?]+)$/.exec(req.url ?? '');
      const partial = req.url === PARTIAL_PATH && options.partial;
      if (req.method !== 'GET' || (!m && !partial))
        return fail(404, 'FATHOM_ROUTE_NOT_FOUND', `no route for ${req.method} ${req.url}`);
      if (!sameToken(req.headers[RETRIEVE_TOKEN_HEADER], options.token)) {
        return fail(403, 'FATHOM_RETRIEVE_TOKEN_INVALID', 'missing or wrong retrieve token');
      }
      if (partial) {
        void (async () => {
          const tar = await partial();
          try {
            res.writeHead(200, {
              'content-type': 'application/gzip',
              'content-length': String(tar.size),
              [PARTIAL_NAME_HEADER]: tar.name,
              [PARTIAL_SHA_HEADER]: tar.sha256,
            });
            await pipeline(createReadStream(tar.path), res);
          } finally {
            await rm(tar.path, { force: true });
          }
        })().catch(() => res.destroy());
        return;
      }
      if (!m) return;
      const tar = options.tarball();
      if (!tar) return fail(409, 'FATHOM_RUN_NOT_DONE', 'the run has not produced its tarball yet');
      if (decodeURIComponent(m[1]!) !== tar.name)
        return fail(404, 'FATHOM_RESULTS_NOT_FOUND', `no tarball named ${m[1]}`);
      void (async () => {
        const { size } = await stat(tar.path);
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(size) });
        await pipeline(createReadStream(tar.path), res);
      })().catch(() => res.destroy());
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
