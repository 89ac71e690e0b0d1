/**
 * An HTTPS server for mutual TLS: only clients presenting a certificate from the given CA get a
 * connection, handlers learn the peer's DNS names (what a client certificate speaks for), and
 * the CA and server pair can be swapped while it runs (certificate renewal). Routes are fastify's.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { certificateDnsNames } from './pki.js';
import type { TlsMaterial } from './tls-files.js';

export interface MtlsServerOptions {
  /** The CA clients must be signed by, and the server's own pair. */
  readonly tls: TlsMaterial;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 (the default) picks any free port. */
  readonly port?: number;
  /** Registers the routes and hooks before the server listens. */
  readonly routes: (app: FastifyInstance) => void;
  /** Longest URL parameter (fastify's default is 100). */
  readonly maxParamLength?: number;
  /** Per-request time limit in ms; 0 (the default) for none: uploads of big results take long. */
  readonly requestTimeout?: number;
}

export interface MtlsServer {
  /** `https://host:port`, IPv6 hosts bracketed. */
  readonly url: string;
  readonly port: number;
  /** Swaps the CA and server pair (certificate renewal); open connections keep theirs. */
  setTls(tls: TlsMaterial): void;
  close(): Promise<void>;
}

/** The DNS names of the peer certificate, cached per TLS connection. */
const peerNames = new WeakMap<TLSSocket, readonly string[]>();

/** The DNS names in the client certificate of the connection `request` came on. */
export function peerDnsNames(request: IncomingMessage): readonly string[] {
  const socket = request.socket as TLSSocket;
  let names = peerNames.get(socket);
  if (!names) {
    const der = socket.getPeerCertificate?.().raw;
    names = der ? certificateDnsNames(new X509Certificate(der).toString()) : [];
    peerNames.set(socket, names);
  }
  return names;
}

function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** Starts the server; resolves once it listens. */
export async function startMtlsServer(options: MtlsServerOptions): Promise<MtlsServer> {
  const { tls } = options;
  const host = options.host ?? '127.0.0.1';
  const app = Fastify({
    // Shutdown must not wait for slow clients.
    forceCloseConnections: true,
    requestTimeout: options.requestTimeout ?? 0,
    routerOptions: { maxParamLength: options.maxParamLength ?? 100 },
    https: {
      ca: tls.caPem,
      cert: tls.certPem,
      key: tls.keyPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    // fastify's own per-request lines are noise: handlers log what matters.
    logger: false,
  });
  options.routes(app);
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    url: `https://${urlHost(host)}:${port}`,
    port,
    setTls: (next) =>
      (app.server as unknown as TlsServer).setSecureContext({
        ca: next.caPem,
        cert: next.certPem,
        key: next.keyPem,
      }),
    close: () => app.close(),
  };
}
