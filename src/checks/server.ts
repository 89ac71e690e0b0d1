/**
 * The dispatcher's HTTP API: the original's node-agent paths and answers under `/api/v1`
 * (bearer token; a follower forwards leader-only calls to the leader, a replica that has not
 * decided answers 503), plus `/healthz` and Prometheus `/metrics`. Errors are plain text lines,
 * as Go's http.Error writes them.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { firstProblem } from '../core/schema.js';
import type { ChecksHandler } from './handler.js';
import { forwardToLeader, type ForwardOptions } from './forward.js';
import {
  configResponseJson,
  EXPIRATION_HEADER,
  nodeStatusSchema,
  TERM_HEADER,
  TOKEN_HEADER,
  type NodeStatus,
} from './wire.js';

export interface DispatcherServerOptions {
  readonly handler: ChecksHandler;
  readonly clock: { now(): number };
  /** The bearer token agents and the CLI present. */
  readonly token: string;
  readonly registry: Registry;
  readonly nodeExpirationMs: number;
  /** This replica's identity (shown in the state). */
  readonly identity: string;
  /** Serve HTTPS with this pair (PEM); plain HTTP without. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string };
  readonly forward: ForwardOptions;
  readonly host?: string;
  readonly port?: number;
}

export interface DispatcherServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A status POST body: 64 KiB plus room for an agent's stats and last runs. */
const BODY_LIMIT = 4 * 1024 * 1024;

function sameToken(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Go's http.Error: a text line and the status. */
function goError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(`${message}\n`);
}

export function dispatcherRoutes(app: FastifyInstance, o: DispatcherServerOptions): void {
  const { handler } = o;
  // Bodies are parsed by the handlers: a decode error is the original's 500, not fastify's 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    // The API server's service and pod proxies drop Authorization once they have authenticated
    // the caller, so the CLI sends the token as X-Fathom-Token; as Authorization it is then
    // checked, and forwarded to the leader, like an agent's.
    const alt = request.headers[TOKEN_HEADER];
    if (!request.headers.authorization && typeof alt === 'string' && alt) {
      request.headers.authorization = `Bearer ${alt}`;
    }
    const auth = request.headers.authorization ?? '';
    if (!auth) return goError(reply, 401, 'no session token provided');
    const [scheme, token] = auth.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token || !sameToken(token, o.token)) {
      return goError(reply, 401, 'invalid session token');
    }
  });

  /** Leader-only: answered here, forwarded, or 503. */
  const leaderOnly =
    (
      answer: (
        request: FastifyRequest,
        reply: FastifyReply,
        local: Extract<ReturnType<ChecksHandler['route']>, { to: 'local' }>,
      ) => unknown,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const route = handler.route();
      if (route.to === 'unavailable') return goError(reply, 503, route.message);
      if (route.to === 'leader') return forwardToLeader(request, reply, route.address, o.forward);
      reply.header(TERM_HEADER, String(route.term));
      reply.header(EXPIRATION_HEADER, String(o.nodeExpirationMs));
      return answer(request, reply, route);
    };

  app.post<{ Params: { identifier: string } }>(
    '/api/v1/clusterchecks/status/:identifier',
    leaderOnly((request, reply, { dispatcher }) => {
      const status = parseStatus(request.body);
      if (typeof status === 'string') return goError(reply, 500, status);
      const realIp = request.headers['x-real-ip'];
      const ip = typeof realIp === 'string' ? realIp : '';
      if (ip && !isIP(ip)) return goError(reply, 500, `invalid IP address ${ip} in X-Real-Ip`);
      const { identifier } = request.params as { identifier: string };
      const upToDate = dispatcher.postStatus(identifier, status, ip, o.clock.now());
      return reply.send({ isuptodate: upToDate });
    }),
  );

  app.get(
    '/api/v1/clusterchecks/configs/:identifier',
    leaderOnly((request, reply, { dispatcher }) => {
      const { identifier } = request.params as { identifier: string };
      const configs = dispatcher.configsFor(identifier);
      if (!configs) return goError(reply, 500, `node ${identifier} is unknown`);
      return reply.header('content-type', 'application/json').send(configResponseJson(configs));
    }),
  );

  app.get(
    '/api/v1/endpointschecks/configs/:nodeName',
    leaderOnly((request, reply, { dispatcher }) => {
      const { nodeName } = request.params as { nodeName: string };
      return reply.send(dispatcher.endpointsFor(nodeName));
    }),
  );

  app.get('/api/v1/endpointschecks/configs', (_request, reply) =>
    reply.send({
      last_change: 0,
      configs: [...handler.configs.values()].filter((c) => c.node !== undefined),
    }),
  );

  app.get('/api/v1/clusterchecks', (_request, reply) => {
    const dispatcher = handler.dispatcher;
    if (handler.role !== 'leader' || !dispatcher) {
      return reply.send({
        not_running: handler.notRunning(),
        warmup: false,
        nodes: [],
        dangling: [],
      });
    }
    return reply.send({ ...dispatcher.stateResponse(), leader: o.identity, term: handler.term });
  });

  app.post<{ Querystring: { force?: string } }>(
    '/api/v1/clusterchecks/rebalance',
    leaderOnly((request, reply, { dispatcher }) => {
      const force = (request.query as { force?: string }).force === 'true';
      return reply.send(dispatcher.rebalance(force, o.clock.now()));
    }),
  );

  app.post(
    '/api/v1/clusterchecks/isolate/check/:id',
    leaderOnly((request, reply, { dispatcher }) => {
      const { id } = request.params as { id: string };
      return reply.send(dispatcher.isolateCheck(id, o.clock.now()));
    }),
  );

  app.get('/healthz', (_request, reply) => reply.header('content-type', 'text/plain').send('ok'));

  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', o.registry.contentType).send(await o.registry.metrics()),
  );
}

/** The body as a NodeStatus, or the error message (JSON or shape). */
function parseStatus(body: unknown): NodeStatus | string {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : '');
  } catch (err) {
    return (err as Error).message;
  }
  const problem = firstProblem(nodeStatusSchema, value);
  if (problem) return `json: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
  return value as NodeStatus;
}

export async function startDispatcherServer(o: DispatcherServerOptions): Promise<DispatcherServer> {
  const app = Fastify({
    forceCloseConnections: true,
    bodyLimit: BODY_LIMIT,
    logger: false,
    routerOptions: { maxParamLength: 253 },
    ...(o.tls ? { https: { cert: o.tls.certPem, key: o.tls.keyPem } } : {}),
  });
  dispatcherRoutes(app, o);
  await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = o.host ?? '127.0.0.1';
  return {
    url: `${o.tls ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
    port,
    close: () => app.close(),
  };
}
