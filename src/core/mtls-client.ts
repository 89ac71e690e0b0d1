import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readTlsDir, type TlsMaterial } from './tls-files.js';

/**
 * An HTTPS client for mutual TLS: it trusts only the given CA and presents a client pair. The
 * other end is core/mtls-server.ts.
 */

/** What the client trusts (the CA) and presents (its pair). */
export type MtlsMaterial = TlsMaterial;

export interface MtlsRequest {
  method: string;
  /** Path (and query) appended to the base URL. */
  path: string;
  headers?: OutgoingHttpHeaders;
  /** A stream is piped, never buffered; a Buffer or string is sent as is. */
  body?: Readable | Buffer | string;
  signal?: AbortSignal;
}

export interface MtlsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most `maxResponseBytes`; the aggregator's answers are short. */
  body: Buffer;
}

/** A small HTTPS client bound to one base URL (the worker's upload and progress relay use one). */
export interface MtlsClient {
  readonly baseUrl: string;
  /** Resolves with any HTTP answer; rejects on connection, TLS or stream errors. */
  request(req: MtlsRequest): Promise<MtlsResponse>;
}

const MAX_RESPONSE_BYTES = 1 << 20;

/** Fixed material, or a source read again for every request (files a renewal rewrites). */
export type MtlsSource = MtlsMaterial | (() => Promise<MtlsMaterial>);

/** The material in a TLS directory (see tls-files.ts), read again for every request. */
export function tlsDirSource(dir: string): () => Promise<MtlsMaterial> {
  return () => readTlsDir(dir);
}

class NodeMtlsClient implements MtlsClient {
  constructor(
    readonly baseUrl: string,
    private readonly source: MtlsSource,
  ) {}

  async request(req: MtlsRequest): Promise<MtlsResponse> {
    const tls = typeof this.source === 'function' ? await this.source() : this.source;
    return this.#send(req, tls);
  }

  #send(req: MtlsRequest, tls: MtlsMaterial): Promise<MtlsResponse> {
    const url = new URL(req.path, this.baseUrl);
    return new Promise<MtlsResponse>((resolve, reject) => {
      let answered = false;
      const out = httpsRequest(
        url,
        {
          method: req.method,
          headers: req.headers,
          ca: tls.caPem,
          cert: tls.certPem,
          key: tls.keyPem,
          // One connection per request: uploads are rare and this leaves no sockets behind.
          agent: false,
          signal: req.signal,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size >= MAX_RESPONSE_BYTES) return;
            chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
            size += chunk.length;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      const body = req.body;
      if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
        out.end(body);
      } else {
        // An early answer (say 403) may cut the upload short; the answer is what counts then.
        pipeline(body, out).catch((err: unknown) => {
          if (!answered) reject(err instanceof Error ? err : new Error(String(err)));
        });
      }
    });
  }
}

/** Makes a client for `baseUrl` (https) that trusts only the CA and authenticates with the client pair. */
export function createMtlsClient(baseUrl: string, tls: MtlsSource): MtlsClient {
  return new NodeMtlsClient(baseUrl, tls);
}
