import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { FathomError, httpStatusOf, isFathomError, messageOf } from '../core/errors.js';
import { peerDnsNames, startMtlsServer, type MtlsServer } from '../core/mtls-server.js';
import type { TlsMaterial } from '../core/tls-files.js';
import { GLOBAL_NODE } from '../plugin/types.js';
import type { Aggregator } from './aggregator.js';
import { filenameFromContentDisposition } from './ingest.js';
import { PROGRESS_LIMITS } from './progress.js';

export interface AggregationServerOptions {
  aggregator: Aggregator;
  /** The run CA (clients must present a certificate it signed) and the server's own pair. */
  tls: TlsMaterial;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  logger?: Logger;
}

/** The mTLS server with the aggregator's routes (see core/mtls-server.ts). */
export type AggregationServer = MtlsServer;

interface PluginParams {
  plugin: string;
  node?: string;
}

/** Stricter than Sonobuoy: a plugin's certificate may only speak for that plugin. */
function assertCertFor(request: FastifyRequest, plugin: string): void {
  if (!peerDnsNames(request.raw).includes(plugin)) {
    throw new FathomError(
      'FATHOM_CLIENT_CERT_MISMATCH',
      `client certificate is not issued for plugin ${JSON.stringify(plugin)}`,
      { details: { plugin } },
    );
  }
}

function declaredLength(raw: IncomingMessage): number | undefined {
  const header = raw.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/** Reads a progress body, refusing (413) one over `limit` bytes before or while reading it. */
async function readSmall(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): FathomError =>
    new FathomError('FATHOM_PROGRESS_TOO_LARGE', `progress update is over ${limit} bytes`, {
      details: { limit },
    });
  if ((declaredLength(raw) ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new FathomError('FATHOM_PROGRESS_INVALID', 'progress update is not JSON', { cause });
  }
}

/** Where each request's original content type is kept (fastify never sees it; see onRequest). */
const contentTypes = new WeakMap<IncomingMessage, string | undefined>();

/**
 * Starts the HTTPS server that plugins' workers upload to, with Sonobuoy's routes and status
 * codes. Every client must present a certificate from the run CA naming the plugin in the URL.
 */
export async function startAggregationServer(
  options: AggregationServerOptions,
): Promise<AggregationServer> {
  return startMtlsServer({
    tls: options.tls,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    // Node names are DNS subdomains of up to 253 characters.
    maxParamLength: 512,
    routes: (app) => aggregationRoutes(app, options),
  });
}

/** Sonobuoy's routes: results and progress, global and by node. */
function aggregationRoutes(app: FastifyInstance, options: AggregationServerOptions): void {
  const { aggregator, logger: log } = options;

  // Bodies are streamed by the handlers, never parsed by fastify. Sonobuoy's worker may send an
  // empty or unusual content-type, which fastify would refuse with 415: hide it from fastify.
  app.addHook('onRequest', (request, _reply, done) => {
    contentTypes.set(request.raw, request.raw.headers['content-type']);
    delete request.raw.headers['content-type'];
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const fathom = isFathomError(err);
    const status = fathom ? httpStatusOf(err) : clientErrorStatus(err);
    const code = fathom ? err.code : status < 500 ? 'FATHOM_USAGE' : 'FATHOM_INTERNAL';
    if (status >= 500) log?.error({ err, url: request.url }, 'aggregation request failed');
    else
      log?.warn({ url: request.url, code, message: messageOf(err) }, 'aggregation request refused');
    // An unread body would block the connection: finish after this answer instead.
    if (!request.raw.readableEnded) reply.header('connection', 'close');
    void reply.code(status).send({ code, message: messageOf(err) });
  });
  app.setNotFoundHandler((request) => {
    throw new FathomError(
      'FATHOM_ROUTE_NOT_FOUND',
      `no route for ${request.method} ${request.url}`,
    );
  });

  const putResult = async (
    request: FastifyRequest<{ Params: PluginParams }>,
    reply: FastifyReply,
  ): Promise<void> => {
    const { plugin, node = GLOBAL_NODE } = request.params;
    assertCertFor(request, plugin);
    const raw = request.raw;
    const contentType = contentTypes.get(raw);
    const size = declaredLength(raw);
    await aggregator.ingest({
      plugin,
      node,
      ...(contentType === undefined ? {} : { contentType }),
      filename: filenameFromContentDisposition(raw.headers['content-disposition']),
      body: raw,
      ...(size === undefined ? {} : { size }),
    });
    log?.info({ plugin, node }, 'result received');
    await reply.code(200).send(); // empty, as Sonobuoy answers
  };
  app.put('/api/v1/results/global/:plugin', putResult);
  app.put('/api/v1/results/by-node/:node/:plugin', putResult);

  // Sonobuoy's worker relays progress with any method the plugin used, so accept them all.
  const progress = async (
    request: FastifyRequest<{ Params: PluginParams }>,
    reply: FastifyReply,
  ): Promise<void> => {
    const { plugin, node = GLOBAL_NODE } = request.params;
    assertCertFor(request, plugin);
    const body = parseJson(await readSmall(request.raw, PROGRESS_LIMITS.bodyBytes));
    aggregator.updateProgress(plugin, node, body);
    await reply.code(200).send();
  };
  app.all('/api/v1/progress/global/:plugin', progress);
  app.all('/api/v1/progress/by-node/:node/:plugin', progress);
}

/** Fastify's own errors carry a 4xx status for bad requests; everything else is ours to own. */
function clientErrorStatus(err: unknown): number {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}
